/** The built CLI as a user runs it, for the CLI's specs (build first: `npx tsc -b apps/cli/tsconfig.json`). */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../../..');
const BIN = path.join(ROOT, 'apps/cli/bin/lorekeeper.js');

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Throw, naming the build command, when the CLI has not been built (call in beforeAll). */
export function assertCliBuilt(): void {
  if (!existsSync(path.join(ROOT, 'apps/cli/dist/main.js'))) {
    throw new Error('the CLI is not built: run `npx tsc -b apps/cli/tsconfig.json` before these tests');
  }
}

/** Start `lorekeeper <args>` with `env` over this process's environment. */
export function startCli(
  args: readonly string[],
  env: Record<string, string> = {},
): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
}

/** Run `lorekeeper <args>` to its end: its exit code and everything it wrote. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = startCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
