import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../database';

export interface DatabaseOptions {
  /** Pool size; the default suits one service process. */
  readonly maxConnections?: number;
  /** How long to wait for a connection before failing, so a black-holed host does not hang a process. */
  readonly connectTimeoutMs?: number;
  /** Told about errors on idle pooled connections (Postgres restarted); the pool replaces them itself. */
  readonly onIdleError?: (error: Error) => void;
}

/** pg's type id for int8 (bigint); pg.types.builtins.INT8 is an enum that lint will not compare to a number. */
const INT8_OID = 20;

/**
 * bigint columns (seq, ids of log tables, count(*)) arrive as JS numbers. Every seq stays far below 2^53,
 * so a value that is not a safe integer means corruption and throws rather than silently rounding.
 * Scoped to our pools (not `pg.types.setTypeParser`, which would change every pg user in the process).
 */
const types: pg.CustomTypesConfig = {
  getTypeParser(oid: number, format: 'text' | 'binary' = 'text'): unknown {
    if (oid === INT8_OID && format === 'text') return parseSafeInteger;
    return format === 'text' ? pg.types.getTypeParser(oid, 'text') : pg.types.getTypeParser(oid, 'binary');
  },
};

function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} does not fit in a JS number`);
  return value;
}

/** A pool-backed Kysely instance. Does not connect until the first query; see connectDatabase. */
export function createDatabase(url: string, options: DatabaseOptions = {}): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    types,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
  });
  // Without a listener an idle connection's error (e.g. Postgres restarting) would crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  // The pool listens only while a client is idle. A client checked out when its connection dies
  // (Postgres stopped mid-query) emits 'error' too, and with no listener that crashes the process
  // (node-postgres#1324). The query in flight is rejected with the same error, and the pool drops
  // the broken client on release, so the listener has nothing more to do.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
