import type { BenchOption } from './usage';
import { findMistake, renderUsage } from './usage';

const options: BenchOption[] = [
  { name: 'quick', help: 'a short run' },
  { name: 'rounds', value: 'N', help: 'rounds' },
  { name: 'only', value: 'a,b', choices: ['start', 'worker', 'lag'], help: 'these parts only' },
];

describe('bench arguments', () => {
  it('takes the options it knows, with their values', () => {
    expect(findMistake(options, [])).toBeUndefined();
    expect(findMistake(options, ['--quick', '--rounds', '2', '--only', 'worker,lag'])).toBeUndefined();
  });

  it('names the first mistake: an unknown option, a stray value, a missing or wrong value', () => {
    expect(findMistake(options, ['--round', '1'])).toBe('unknown option --round');
    expect(findMistake(options, ['quick'])).toBe(
      'unexpected argument "quick" (values follow the option they belong to)',
    );
    expect(findMistake(options, ['--rounds'])).toBe('--rounds needs a value (N)');
    expect(findMistake(options, ['--rounds', '--quick'])).toBe('--rounds needs a value (N)');
    expect(findMistake(options, ['--rounds', 'three'])).toBe('--rounds takes a positive number, not "three"');
    expect(findMistake(options, ['--rounds', '0'])).toBe('--rounds takes a positive number, not "0"');
    expect(findMistake(options, ['--only', 'worker,lagg'])).toBe(
      '--only: lagg is not one of start, worker, lag',
    );
  });

  it('lists every option with its value and help, and --help', () => {
    const text = renderUsage({ command: 'npm run bench:capacity --', summary: 'Capacity.', options });
    expect(text).toContain('Usage: npm run bench:capacity -- [options]');
    expect(text).toMatch(/--rounds N\s+rounds\n/);
    expect(text).toMatch(/--only a,b\s+these parts only \(start, worker, lag\)/);
    expect(text).toMatch(/--help\s+this text\n$/);
  });
});
