import { sql } from 'kysely';
import { lockWaiters } from '@lorekeeper/testing';
import type { System } from './system';

/** Wait until a backend of the test database is blocked on a lock running a statement matching `pattern`. */
export async function blockedOn(h: System, pattern: RegExp, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await lockWaiters(h.db.db)).some((query) => pattern.test(query))) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

/**
 * Hold every flush of the test database until released, at its last statement (the sync log's insert)
 * or, with `table: 'campaigns'`, at its first (moving the checkpoint). A share lock on campaigns lets
 * a session start's `for share` read through.
 */
export async function holdFlushes(
  h: System,
  table: 'sync_log' | 'campaigns' = 'sync_log',
): Promise<() => Promise<void>> {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked: () => void = () => undefined;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = h.db.db.transaction().execute(async (trx) => {
    await sql`lock table ${sql.table(table)} in share mode`.execute(trx);
    locked();
    await released;
  });
  await isLocked;
  return async () => {
    release();
    await holder;
  };
}
