/** An option a bench script takes: `--name` alone, or `--name <value>`. */
export interface BenchOption {
  readonly name: string;
  /** What follows it: `N` for a positive number, anything else (`a,b`) for a list. Absent for a switch. */
  readonly value?: string;
  /** For a list: the items it may hold (checked before the run starts). */
  readonly choices?: readonly string[];
  readonly help: string;
}

export interface BenchUsage {
  /** How a user starts it, e.g. `npm run bench:compare --`. */
  readonly command: string;
  readonly summary: string;
  readonly options: readonly BenchOption[];
}

/**
 * Check a bench script's arguments before it starts anything, since a run takes minutes to tens of
 * minutes and shares the machine with whatever it measures: `--help` (or `-h`) prints the usage and
 * exits 0; an option the script does not take, a value that is missing, a number that is not a
 * positive number and a list item not among its choices each print the mistake and the usage, and
 * exit 2.
 */
export function checkArgs(usage: BenchUsage, args: readonly string[] = process.argv.slice(2)): void {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(renderUsage(usage));
    process.exit(0);
  }
  const mistake = findMistake(usage.options, args);
  if (mistake === undefined) return;
  process.stderr.write(`${mistake}\n\n${renderUsage(usage)}`);
  process.exit(2);
}

/** The first thing wrong with `args`, in words, or undefined. */
export function findMistake(options: readonly BenchOption[], args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    const option = options.find((o) => `--${o.name}` === arg);
    if (!option) {
      return arg.startsWith('-')
        ? `unknown option ${arg}`
        : `unexpected argument "${arg}" (values follow the option they belong to)`;
    }
    if (option.value === undefined) continue;
    const value = args[i + 1];
    i += 1;
    if (value === undefined || value.startsWith('--'))
      return `--${option.name} needs a value (${option.value})`;
    if (option.value === 'N') {
      const n = Number(value);
      if (!(Number.isFinite(n) && n > 0)) return `--${option.name} takes a positive number, not "${value}"`;
    } else if (option.choices) {
      const wrong = value.split(',').filter((item) => !option.choices?.includes(item));
      if (wrong.length > 0) {
        return `--${option.name}: ${wrong.join(', ')} is not one of ${option.choices.join(', ')}`;
      }
    }
  }
  return undefined;
}

export function renderUsage(usage: BenchUsage): string {
  const shown = usage.options.map((o) => (o.value === undefined ? `--${o.name}` : `--${o.name} ${o.value}`));
  const width = Math.max(...shown.map((s) => s.length));
  const lines = usage.options.map((o, i) => {
    const choices = o.choices ? ` (${o.choices.join(', ')})` : '';
    return `  ${(shown[i] as string).padEnd(width)}  ${o.help}${choices}`;
  });
  return `${usage.summary}\n\nUsage: ${usage.command} [options]\n\nOptions:\n${lines.join('\n')}\n  ${'--help'.padEnd(width)}  this text\n`;
}
