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

/** About how much a ChunkedWriter gathers before it writes (a write per line was a syscall per line). */
const WRITE_CHUNK_CHARS = 1 << 20;

/** Text to stdout in writes of about WRITE_CHUNK_CHARS: a whole world's listing is a million lines. */
export class ChunkedWriter {
  private parts: string[] = [];
  private size = 0;

  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= WRITE_CHUNK_CHARS) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    process.stdout.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

/** Each item as one line of JSON (`--format jsonl`), in chunked writes. */
export function writeJsonLines(items: Iterable<unknown>): void {
  const out = new ChunkedWriter();
  for (const item of items) out.write(`${JSON.stringify(item)}\n`);
  out.flush();
}

/**
 * Print what `writeLine(JSON.stringify({ ...head, [key]: items }, null, 2))` prints, byte for byte,
 * without making it one string: a whole world's state runs to hundreds of megabytes (212 MB for the
 * capacity benchmark's 1,020,000 entities) and V8 makes no string longer than about 512 MiB.
 */
export function writeJsonWithList(
  head: Readonly<Record<string, unknown>>,
  key: string,
  items: readonly unknown[],
): void {
  const out = new ChunkedWriter();
  const opening = JSON.stringify(head, null, 2);
  // "{\n  ...\n}" without its closing line, so the list follows the head's last key.
  out.write(opening === '{}' ? '{\n' : `${opening.slice(0, -2)},\n`);
  out.write(`  ${JSON.stringify(key)}: [`);
  items.forEach((item, i) => {
    // Only the layout has line breaks (a string's own are escaped): indent each of them two levels.
    const json = (JSON.stringify(item, null, 2) ?? 'null').replace(/\n/g, '\n    ');
    out.write(`${i === 0 ? '\n' : ',\n'}    ${json}`);
  });
  out.write(items.length === 0 ? ']\n}\n' : '\n  ]\n}\n');
  out.flush();
}
