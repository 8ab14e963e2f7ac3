import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from './results';

/*
 * Emmett's PostgreSQL event store, installed apart from the workspace in bench/emmett: Emmett 0.42
 * declares a peer dependency on commander 12 and the workspace pins commander 14 (the CLI uses it),
 * so a root install fails with ERESOLVE. Loaded at run time from bench/emmett/node_modules; only the
 * few calls the contender makes are typed here.
 */

const EMMETT_DIR = join(REPO_ROOT, 'bench', 'emmett');
const MARKER = join(EMMETT_DIR, 'node_modules', '@event-driven-io', 'emmett-postgresql', 'package.json');

/** One SQL statement as Emmett's dumbo builds it from a tagged template. */
export type EmmettSql = unknown;

export interface EmmettEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata?: Record<string, unknown>;
}

export interface EmmettStore {
  appendToStream(streamName: string, events: readonly EmmettEvent[]): Promise<unknown>;
  close(): Promise<void>;
}

export interface PgPool {
  query(sql: string, values?: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

export interface Emmett {
  /** Emmett's version, from its package.json. */
  readonly version: string;
  getPostgreSQLEventStore(url: string, options: Record<string, unknown>): EmmettStore;
  postgreSQLRawSQLProjection(definition: {
    name: string;
    canHandle: readonly string[];
    init: () => EmmettSql;
    evolve: (event: { data: Record<string, unknown>; metadata: Record<string, unknown> }) => EmmettSql;
  }): unknown;
  readonly projections: { inline(list: readonly unknown[]): unknown };
  isExpectedVersionConflictError(error: unknown): boolean;
  SQL(strings: TemplateStringsArray, ...values: unknown[]): EmmettSql;
  /** pg.Pool from Emmett's own node_modules, so dumbo accepts it as its pool. */
  newPool(url: string, max: number): PgPool;
}

/** Emmett, or why it could not be had (the install failed, e.g. offline). */
export type EmmettLoad =
  { readonly ok: true; readonly emmett: Emmett } | { readonly ok: false; readonly reason: string };

/** Install bench/emmett's dependencies when they are missing, then load them. Never throws. */
export async function loadEmmett(log: (line: string) => void): Promise<EmmettLoad> {
  if (!existsSync(MARKER)) {
    log('bench: installing Emmett into bench/emmett/node_modules (apart from the workspace; once)');
    const failure = await npmInstall();
    if (failure) return { ok: false, reason: failure };
  }
  try {
    const load = createRequire(join(EMMETT_DIR, 'package.json'));
    const postgres = load('@event-driven-io/emmett-postgresql');
    const core = load('@event-driven-io/emmett');
    const dumbo = load('@event-driven-io/dumbo');
    const pg = load('pg');
    // Its `exports` map hides package.json from require.
    const { version } = JSON.parse(readFileSync(MARKER, 'utf8')) as { version: string };
    return {
      ok: true,
      emmett: {
        version,
        getPostgreSQLEventStore: postgres.getPostgreSQLEventStore,
        postgreSQLRawSQLProjection: postgres.postgreSQLRawSQLProjection,
        projections: core.projections,
        isExpectedVersionConflictError: core.isExpectedVersionConflictError,
        SQL: dumbo.SQL,
        newPool: (url, max) => new pg.Pool({ connectionString: url, max }),
      },
    };
  } catch (error) {
    return { ok: false, reason: `loading it from bench/emmett/node_modules failed: ${message(error)}` };
  }
}

/** `npm install --prefix bench/emmett`; resolves with why it failed, or undefined. */
function npmInstall(): Promise<string | undefined> {
  // Short network timeouts: offline, npm would otherwise retry for minutes before giving up.
  const args = [
    'install',
    '--prefix',
    EMMETT_DIR,
    '--no-audit',
    '--no-fund',
    '--fetch-retries=1',
    '--fetch-timeout=30000',
  ];
  return new Promise((resolve) => {
    const child = spawn('npm', args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
      process.stderr.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (error) => resolve(`\`npm ${args.join(' ')}\` could not start: ${error.message}`));
    child.once('exit', (code) => {
      if (code === 0 && existsSync(MARKER)) return resolve(undefined);
      const last = output.trim().split('\n').filter(Boolean).slice(-3).join(' / ');
      resolve(`\`npm install --prefix bench/emmett\` failed (exit ${code}): ${last || 'no output'}`);
    });
  });
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
