#!/usr/bin/env node
'use strict';
// Gather the fault suite's figures (results/faults/*.json, one per test) into results/faults.md.
const { readdirSync, readFileSync, writeFileSync, existsSync } = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, '..', 'results', 'faults');
if (!existsSync(dir)) {
  console.error('faults-report: no results/faults directory; run the fault suite first');
  process.exit(1);
}
const records = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => JSON.parse(readFileSync(path.join(dir, name), 'utf8')))
  .sort((a, b) => a.test.localeCompare(b.test));

const lines = [
  '# Fault suite results',
  '',
  'Written by `npm run test:faults` (the last run on the machine that committed it: 2 cores, Redis,',
  "Postgres and NATS sharing them). Each section is one test of DESIGN.md's failure model; the test",
  'itself asserts the promise, these are the figures it measured.',
  '',
];
for (const record of records) {
  lines.push(
    `## ${record.test}`,
    '',
    `Recorded ${record.recordedAt}.`,
    '',
    '| figure | value |',
    '| --- | ---: |',
  );
  for (const [key, value] of Object.entries(record.figures)) lines.push(`| ${key} | ${value} |`);
  lines.push('');
}
writeFileSync(path.join(__dirname, '..', 'results', 'faults.md'), lines.join('\n'));
console.log(`faults-report: ${records.length} tests -> results/faults.md`);
