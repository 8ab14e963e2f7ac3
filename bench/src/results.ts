import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dieWithParent } from '@lorekeeper/testing';

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

/**
 * V8 flags every bench process runs with. A young generation of at most 2 MB a half: the load
 * generators keep what they fold (world views, requests in flight), so each scavenge copies what
 * survived since the last, and with V8's default (up to 16 MB) that paused the bench client 6-8 ms at
 * the median and 30 ms at p99, several times a second, holding every reply in flight. With 2 MB the
 * pauses are 2 ms at the median, 10 at p99, more often, and the raw Redis Function's append p99 at half
 * load halved (bench/results/NOTES.md). Our services keep V8's defaults.
 */
export const BENCH_V8_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/**
 * Run a benchmark's main; a failure prints its stack and exits 1. A process started without
 * BENCH_V8_FLAGS (V8 reads them only at start) runs itself again with them and exits as that does.
 */
export function runBench(main: () => Promise<void>): void {
  const missing = BENCH_V8_FLAGS.filter((flag) => !process.execArgv.includes(flag));
  if (missing.length > 0) {
    const script = process.argv[1] as string;
    const child = dieWithParent(
      spawn(process.execPath, [...missing, ...process.execArgv, script, ...process.argv.slice(2)], {
        stdio: 'inherit',
      }),
    );
    child.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
    return;
  }
  main().catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
