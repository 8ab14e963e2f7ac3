import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { answers } from './services';

const children = new Set<ChildProcess>();
let reaping = false;

/**
 * Stop `child` (SIGTERM, which a child that is itself a bench script passes on to its own children) if
 * it is still running when this process exits or is told to stop (SIGINT, SIGTERM). A bench or a test run stopped by a signal sent to it alone (`kill <pid>`, a CI timeout)
 * otherwise leaves its services and servers running, orphaned, and they take CPU from whatever runs
 * next: a compare interrupted so once left a session service and a worker that halved the next runs.
 * (Ctrl-C signals the whole process group, so it never had the problem.) Returns `child`.
 */
export function dieWithParent<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!reaping) {
    reaping = true;
    process.once('exit', killChildren);
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      process.once(signal, () => {
        killChildren();
        process.exit(code);
      });
    }
  }
  return child;
}

function killChildren(): void {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

/** A free loopback TCP port (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

async function spawnServer(
  binary: string,
  args: readonly string[],
  url: string,
  port: number,
): Promise<ServerProcess> {
  const child = dieWithParent(spawn(binary, args, { stdio: 'ignore' }));
  await waitUntil(() => answers(url, 200), 10_000, `${binary} on port ${port}`);
  return {
    url,
    port,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

const NATS_SERVER_CANDIDATES = [
  '/usr/sbin/nats-server',
  '/usr/bin/nats-server',
  '/usr/local/bin/nats-server',
];

export function natsServerBinary(): string | undefined {
  return NATS_SERVER_CANDIDATES.find((path) => existsSync(path));
}

/**
 * A NATS server of this test file's own, so that services started by parallel test files (which all
 * subscribe to `campaign.*.<verb>`) never answer each other's requests. Falls back to NATS_URL when no
 * nats-server binary is installed (each file then must use campaign ids nobody else serves).
 */
export async function startPrivateNats(): Promise<ServerProcess> {
  const binary = natsServerBinary();
  if (!binary) {
    const url = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
    return { url, port: Number(new URL(url).port), process: undefined as never, stop: async () => undefined };
  }
  const port = await freePort();
  return spawnServer(binary, ['-a', '127.0.0.1', '-p', String(port)], `nats://127.0.0.1:${port}`, port);
}

/** A throwaway Redis on its own port (for tests that kill or flush it). `args` are extra flags. */
export async function startPrivateRedis(args: readonly string[] = [], dir?: string): Promise<ServerProcess> {
  const port = await freePort();
  const base = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  return spawnServer(
    'redis-server',
    [...base, ...(dir ? ['--dir', dir] : []), ...args],
    `redis://127.0.0.1:${port}`,
    port,
  );
}

/**
 * A NATS server of this test's own, started from a config file (for access-control tests), with
 * `env` added to its environment (nats-server resolves `$NAME` in the file from there). Needs the
 * nats-server binary; the file's own `port` is overridden by a free one.
 */
export async function startNatsWithConfig(
  configFile: string,
  env: Readonly<Record<string, string>> = {},
): Promise<ServerProcess> {
  const binary = natsServerBinary();
  if (!binary)
    throw new Error('startNatsWithConfig needs the nats-server binary (apt-get install nats-server)');
  const port = await freePort();
  const child = spawn(binary, ['-c', configFile, '-a', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, ...env },
  });
  const url = `nats://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  try {
    await waitUntil(
      () => child.exitCode === null && answers(url, 200),
      10_000,
      `nats-server -c ${configFile} on port ${port}`,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, process: child, stop };
}
