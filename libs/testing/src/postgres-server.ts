import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes';

/** Where Debian and Ubuntu put PostgreSQL 15's server binaries. */
export const POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin';
const BINARIES = ['initdb', 'pg_ctl', 'postgres'] as const;

/** A PostgreSQL server of a test's own, on its own data directory and loopback port. */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: the maintenance database, as DATABASE_URL. */
  readonly url: string;
  readonly port: number;
  /** Stop it (if it runs) and delete its data directory. Safe to call more than once. */
  stop(): Promise<void>;
  /** Stop it the hard way (`pg_ctl stop -m immediate`): connections drop, the next start recovers. */
  kill(): Promise<void>;
  /** Start it again on the same data directory and port (after `kill`); waits until it accepts connections. */
  start(): Promise<void>;
}

export interface PrivatePostgresOptions {
  /** Directory holding initdb, pg_ctl and postgres; default POSTGRES_BIN_DIR. */
  readonly binDir?: string;
}

/**
 * `initdb` a throwaway cluster into a temporary directory and start it on a free loopback port, so a
 * test can stop and start PostgreSQL without touching the machine's own server. PostgreSQL refuses to
 * run as root, so when the tests run as root the binaries run as the `postgres` OS user (`runuser`).
 * Call `stop()` in afterAll; the server is also stopped if the test process exits without it.
 */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const binDir = options.binDir ?? POSTGRES_BIN_DIR;
  const missing = BINARIES.map((name) => join(binDir, name)).filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(
      `startPrivatePostgres needs the PostgreSQL 15 server binaries (${BINARIES.join(', ')}) in ${binDir}; ` +
        `missing: ${missing.join(', ')}. Install postgresql-15 (apt-get install postgresql-15).`,
    );
  }
  const asRoot = userInfo().uid === 0;
  const root = mkdtempSync(join(tmpdir(), 'lk-pg-'));
  const dataDir = join(root, 'data');
  const logFile = join(root, 'postgres.log');
  if (asRoot) chownToPostgres(root);
  const command = (binary: string, args: readonly string[]): [string, string[]] =>
    asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(binDir, binary), ...args]]
      : [join(binDir, binary), [...args]];
  const run = (binary: string, args: readonly string[], timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const [file, argv] = command(binary, args);
      // cwd: the postgres user may not be allowed into the test's working directory.
      execFile(file, argv, { cwd: root, timeout: timeoutMs }, (error, stdout, stderr) => {
        if (!error) return resolve();
        reject(
          new Error(`${binary} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}${logTail()}`, {
            cause: error,
          }),
        );
      });
    });
  const logTail = () => {
    try {
      return `\n--- ${logFile} ---\n${readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n')}`;
    } catch {
      return '';
    }
  };

  let port = 0;
  let running = false;
  let removed = false;
  const startArgs = () => [
    '-D',
    dataDir,
    '-l',
    logFile,
    '-o',
    // fsync off: a test server only has to survive its own crashes, not the machine's.
    `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off`,
    '-w',
    '-t',
    '30',
    'start',
  ];
  const stopArgs = (mode: 'fast' | 'immediate') => ['-D', dataDir, '-m', mode, '-w', '-t', '30', 'stop'];
  // If the test process ends without stop() (a crash, a timeout), take the server down with it.
  const onExit = () => {
    if (running) {
      try {
        const [file, argv] = command('pg_ctl', stopArgs('immediate'));
        execFileSync(file, argv, { cwd: root, stdio: 'ignore', timeout: 10_000 });
      } catch {
        // Nothing more to do while exiting.
      }
    }
    rmSync(root, { recursive: true, force: true });
  };

  try {
    await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '-N']);
    port = await freePort();
    await run('pg_ctl', startArgs());
    running = true;
  } catch (error) {
    onExit();
    throw error;
  }
  process.once('exit', onExit);

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async kill() {
      if (!running) return;
      await run('pg_ctl', stopArgs('immediate'));
      running = false;
    },
    async start() {
      if (running) return;
      if (removed) throw new Error('this private PostgreSQL was stopped for good; start a new one');
      await run('pg_ctl', startArgs());
      running = true;
    },
    async stop() {
      if (removed) return;
      try {
        if (running) await run('pg_ctl', stopArgs('fast')).catch(() => run('pg_ctl', stopArgs('immediate')));
        running = false;
      } finally {
        removed = true;
        process.removeListener('exit', onExit);
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

function chownToPostgres(path: string): void {
  let ids: string;
  try {
    ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    ids += ':' + execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
  } catch (error) {
    throw new Error(
      'startPrivatePostgres runs as root, so it needs a `postgres` OS user to run the server as (PostgreSQL ' +
        'refuses root); none was found',
      { cause: error },
    );
  }
  const [uid, gid] = ids.split(':').map(Number) as [number, number];
  chownSync(path, uid, gid);
}
