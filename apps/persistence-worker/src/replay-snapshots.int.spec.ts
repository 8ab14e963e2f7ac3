import { sql } from 'kysely';
import pino from 'pino';
import { loadConfig } from '@lorekeeper/config';
import { insertCampaign, insertEntities, listSnapshots } from '@lorekeeper/pg-store';
import {
  createTestDatabase,
  lockWaiters,
  tinyWorld,
  waitUntil,
  type TestDatabase,
} from '@lorekeeper/testing';
import { CopySlots, ReplaySnapshots } from './replay-snapshots';

// A worker copies at most CopySlots' limit of snapshots at a time across its campaigns: each copy holds
// a Postgres connection for as long as it runs, and the flushes need the rest of the pool.
describe('replay snapshots of several campaigns', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('snapshot-slots');
    for (const id of ['c1', 'c2']) {
      await test.db.transaction().execute(async (trx) => {
        await insertCampaign(trx, { id, name: id });
        await insertEntities(trx, id, tinyWorld.entities);
      });
    }
  });
  afterAll(() => test.destroy());

  const waitingOnLocks = async () => (await lockWaiters(test.db)).length;
  const names = async (campaignId: string) =>
    (await listSnapshots(test.db, campaignId)).map((snapshot) => snapshot.name);

  it('copy no more at a time than the slots allow; one refused is taken after a later flush', async () => {
    const deps = {
      config: loadConfig({ ...process.env, DATABASE_URL: test.url, SNAPSHOT_EVERY_EVENTS: '20' }),
      db: test.db,
      logger: pino({ level: 'silent' }),
    };
    const slots = new CopySlots(1);
    const first = new ReplaySnapshots(deps, 'c1', slots);
    const second = new ReplaySnapshots(deps, 'c2', slots);

    // Hold every copy at its first insert into snapshot_entities until this transaction ends.
    await test.db.transaction().execute(async (trx) => {
      await sql`lock table snapshot_entities in share mode`.execute(trx);
      first.afterFlush(20);
      await waitUntil(async () => (await waitingOnLocks()) === 1, 10_000, 'the first copy to wait');
      second.afterFlush(20);
      // It finds the slot taken and returns; were it copying, it would wait on the lock as well.
      await Promise.race([second.idle(), new Promise((resolve) => setTimeout(resolve, 5_000))]);
      expect(await waitingOnLocks()).toBe(1);
    });
    await first.idle();
    expect(await names('c1')).toEqual(['auto-0']);
    expect(await names('c2')).toEqual([]);

    // The slot is free again: the second campaign's next flush takes its snapshot.
    second.afterFlush(40);
    await second.idle();
    expect(await names('c2')).toEqual(['auto-0']);
  });
});
