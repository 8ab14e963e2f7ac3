import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root (bench/dist/*.js lives two levels below it). */
export const REPO_ROOT = join(__dirname, '..', '..');

/** The numeric value of `--<name> <n>` on the command line, or `fallback`. */
export function numberFlag(name: string, fallback: number, args = process.argv.slice(2)): number {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

/** Write bench/results/<name>.md and <name>.json, and print the markdown. */
export function writeResults(name: string, lines: readonly string[], data: unknown): void {
  const out = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${name}.md`), `${lines.join('\n')}\n`);
  writeFileSync(join(out, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Run a benchmark's main; a failure prints its stack and exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
