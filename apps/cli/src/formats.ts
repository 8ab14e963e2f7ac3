import { InvalidArgumentError } from 'commander';

/** How a listing is printed: a table for people, one JSON document, or JSON lines for tools. */
export type Format = 'table' | 'json' | 'jsonl';

export function format(value: string): Format {
  if (value === 'table' || value === 'json' || value === 'jsonl') return value;
  throw new InvalidArgumentError('expected table, json or jsonl.');
}

/** The format asked for, else a table on a terminal and JSON for pipes (`--json` forces JSON). */
export function chooseFormat(options: { readonly format?: Format; readonly json?: boolean }): Format {
  if (options.json) return 'json';
  return options.format ?? (process.stdout.isTTY ? 'table' : 'json');
}

/** Left-aligned columns, each as wide as its widest cell; the last column is cut to `maxLast`. */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  maxLast = 100,
): string {
  const cut = (cells: readonly string[]) =>
    cells.map((cell, i) =>
      i === cells.length - 1 && cell.length > maxLast ? `${cell.slice(0, maxLast - 1)}…` : cell,
    );
  const all = [header, ...rows].map(cut);
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

export function writeLine(line: string): void {
  process.stdout.write(`${line}\n`);
}
