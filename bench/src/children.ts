import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { dieWithParent } from '@lorekeeper/testing';

export interface Child {
  readonly process: ChildProcess;
  /** SIGTERM, then wait for it to exit. */
  stop(): Promise<void>;
}

/**
 * `node <args>` with `env` added, resolved once it prints `readyLine`. Its output is read and dropped
 * from then on (a full pipe would stall it); stderr goes to ours.
 */
export async function spawnNode(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  readyLine: string,
): Promise<Child> {
  const child = dieWithParent(
    spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes(readyLine)) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolve();
    };
    child.stdout?.on('data', onData);
    void exited.then(() =>
      reject(new Error(`node ${args.join(' ')} exited before it was ready:\n${output}`)),
    );
  });
  return {
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
