import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a fault test measured: events sent, acknowledged, lost, duplicated, seconds to recover, ... */
export type Figures = Readonly<Record<string, number | string | boolean>>;

const RESULTS = join(__dirname, '..', '..', '..', 'results', 'faults');

/**
 * Print a fault test's figures and keep them for the suite's results file: results/faults/<test>.json,
 * which `npm run test:faults` gathers into results/faults.md (the README's reliability section quotes it).
 */
export function reportFigures(test: string, figures: Figures): void {
  const slug = test
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  mkdirSync(RESULTS, { recursive: true });
  const record = { test, figures, recordedAt: new Date().toISOString() };
  writeFileSync(join(RESULTS, `${slug}.json`), `${JSON.stringify(record, null, 2)}\n`);
  process.stderr.write(
    `[figures] ${test}: ${Object.entries(figures)
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(', ')}\n`,
  );
}
