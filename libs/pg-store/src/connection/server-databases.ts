import { ConfigError, ServiceUnreachableError, redact } from '@lorekeeper/config';
import pg from 'pg';
import { SQLSTATE, sqlState } from '../pg-errors';

/** The database a URL names (`postgres://host/lorekeeper` names `lorekeeper`). */
export function databaseNameOf(url: string): string {
  let name = '';
  try {
    name = decodeURIComponent(new URL(url).pathname.slice(1));
  } catch {
    // Reported below with the URL redacted.
  }
  if (name === '') {
    throw new ConfigError([
      `DATABASE_URL=${redact(url)}: must name a database, e.g. postgres://postgres@127.0.0.1:5432/lorekeeper`,
    ]);
  }
  return name;
}

/** The same server and credentials, another database. */
export function withDatabaseName(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** Whether the database named in `url` exists, asked of the server's `postgres` maintenance database. */
export async function databaseExists(url: string): Promise<boolean> {
  const name = databaseNameOf(url);
  return withMaintenanceClient(url, async (client) => exists(client, name));
}

/**
 * Create the database named in `url` unless it exists. Returns true when this call created it. Safe when
 * several processes race to create it: the loser's "already exists" is success.
 */
export async function ensureDatabaseExists(url: string): Promise<boolean> {
  const name = databaseNameOf(url);
  return withMaintenanceClient(url, async (client) => {
    if (await exists(client, name)) return false;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await client.query(`create database ${pg.escapeIdentifier(name)}`);
        return true;
      } catch (error) {
        const state = sqlState(error);
        // A concurrent creator won (42P04), or won the catalog insert a moment earlier (23505).
        if (state === SQLSTATE.duplicateDatabase || state === SQLSTATE.uniqueViolation) return false;
        // "source database template1 is being accessed by other users": another CREATE DATABASE is copying it.
        if (state === SQLSTATE.objectInUse && attempt < 10) {
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
          continue;
        }
        throw error;
      }
    }
  });
}

/** Drop the database named in `url`, disconnecting its sessions (PostgreSQL 13+). Missing is fine. */
export async function dropDatabase(url: string): Promise<void> {
  const name = databaseNameOf(url);
  await withMaintenanceClient(url, async (client) => {
    await client.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
  });
}

async function exists(client: pg.Client, name: string): Promise<boolean> {
  const result = await client.query('select 1 from pg_database where datname = $1', [name]);
  return result.rowCount === 1;
}

/** One short-lived connection to the `postgres` database, which every server has (CREATE DATABASE cannot run in the target). */
async function withMaintenanceClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: withDatabaseName(url, 'postgres'),
    connectionTimeoutMillis: 5_000,
  });
  // An error after connect (server shutting down) would otherwise be an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new ServiceUnreachableError('PostgreSQL', url, error);
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
