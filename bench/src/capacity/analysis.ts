import type { CapacityResults } from './report';

/**
 * Where the reading of these figures lives. It is written by hand for the run on record, in NOTES.md
 * beside the results: prose generated here would go stale with the next run (an earlier version
 * quoted figures and conditions of one particular run into every later report).
 */
export function analysis(results: CapacityResults): string[] {
  const ran = results.worker !== undefined || results.lag !== undefined || results.sessionStart !== undefined;
  return ran
    ? [
        '## Reading the figures',
        '',
        'What limits each figure, what the profiles show and the next steps are written by hand for the run ' +
          'on record in [NOTES.md](NOTES.md); the targets are judged in [report.md](report.md).',
        '',
      ]
    : [];
}
