#!/usr/bin/env node
'use strict';
// `npm run test:faults [-- jest options]`: run the fault suite (one file at a time: each kills and
// restarts real processes and measures them, so they must not compete for the 2 cores), then gather
// the figures into results/faults.md, also when a test failed (its figures say how).
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const jest = spawnSync(
  process.execPath,
  [require.resolve('jest/bin/jest'), '--selectProjects', 'faults', '--runInBand', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
const report = spawnSync(process.execPath, [path.join(__dirname, 'faults-report.js')], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(jest.status !== 0 ? (jest.status ?? 1) : (report.status ?? 1));
