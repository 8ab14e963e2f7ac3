import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { INITIAL_CHECKPOINT, advanceCheckpoint, insertCampaign, readPosition } from '@lorekeeper/pg-store';
import type { DurableNotice } from '@lorekeeper/protocol';
import { durableSubject } from '@lorekeeper/protocol';
import type { ServerProcess, TestDatabase } from '@lorekeeper/testing';
import { createTestDatabase, startPrivateNats } from '@lorekeeper/testing';
import { CheckpointPollingWaiter } from './durability';

// The waiter reads the checkpoint only once a minute here: an answer within the test's few seconds
// can only come from the notice.
const ONCE_A_MINUTE = 60_000;

let database: TestDatabase;
let natsServer: ServerProcess;
let nats: NatsConnection;

beforeAll(async () => {
  database = await createTestDatabase('durability');
  natsServer = await startPrivateNats();
  nats = await connect({ servers: natsServer.url });
  await database.db.transaction().execute(async (trx) => {
    await insertCampaign(trx, { id: 'c1', name: 'One' });
    await insertCampaign(trx, { id: 'c2', name: 'Two' });
    await insertCampaign(trx, { id: 'c4', name: 'Four' });
  });
});
afterAll(async () => {
  await nats.close();
  await natsServer.stop();
  await database.destroy();
});

/** A flush's commit, as far as the waiter can tell: the checkpoint moves from 0 to `seq`. */
const moveCheckpointTo = (campaignId: string, seq: number) =>
  database.db
    .transaction()
    .execute((trx) => advanceCheckpoint(trx, campaignId, INITIAL_CHECKPOINT, { seq, streamId: `${seq}-0` }));
const announce = (notice: DurableNotice) =>
  nats.publish(durableSubject(notice.campaignId), JSON.stringify(notice));
/** The waiter's answer, or 'still waiting' if it has none after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still waiting'>(
    (resolve) => (timer = setTimeout(() => resolve('still waiting'), ms)),
  );
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The waiter's reader of the campaign's position, counting its reads. */
function countedReads() {
  const counted = {
    reads: 0,
    read: async (campaignId: string) => {
      counted.reads += 1;
      const position = await readPosition(database.db, campaignId);
      return { checkpoint: position.checkpoint.seq, events: position.archived.seq };
    },
  };
  return counted;
}

describe('waiting for a major event to be durable', () => {
  it("answers when a worker announces the campaign's flush, reading the checkpoint again then", async () => {
    const waiter = new CheckpointPollingWaiter(database.db, ONCE_A_MINUTE).listen(nats);
    await nats.flush();
    try {
      const waiting = waiter.waitFor('c1', 5, 30_000);
      // A notice of another campaign, and one of a flush short of seq 5, change nothing.
      announce({ campaignId: 'c3', seq: 9 });
      announce({ campaignId: 'c1', seq: 3 });
      expect(await within(waiting, 500)).toBe('still waiting');

      await moveCheckpointTo('c1', 5);
      expect(await within(waiting, 500)).toBe('still waiting');
      announce({ campaignId: 'c1', seq: 5 });
      expect(await within(waiting, 5_000)).toBe(true);
    } finally {
      waiter.close();
    }
  });

  it('still reads the checkpoint on its own without a notice, and says false at the deadline', async () => {
    const waiter = new CheckpointPollingWaiter(database.db, 50).listen(nats);
    try {
      const waiting = waiter.waitFor('c2', 5, 5_000);
      await moveCheckpointTo('c2', 5);
      expect(await waiting).toBe(true);
      expect(await waiter.waitFor('c2', 6, 300)).toBe(false);
    } finally {
      waiter.close();
    }
  });

  it('shares each read of the checkpoint among the appends waiting on a campaign', async () => {
    const counted = countedReads();
    const waiter = new CheckpointPollingWaiter(database.db, ONCE_A_MINUTE, counted.read).listen(nats);
    await nats.flush();
    try {
      // Ten appends begin to wait at once: the first read is shared, plus at most one after it.
      const waits = Array.from({ length: 10 }, (_, i) => waiter.waitFor('c4', 11 + i, 30_000));
      expect(await within(Promise.all(waits), 300)).toBe('still waiting');
      expect(counted.reads).toBeLessThanOrEqual(2);

      // A flush that stops short of every wait is not worth a read.
      const before = counted.reads;
      announce({ campaignId: 'c4', seq: 10 });
      expect(await within(Promise.all(waits), 300)).toBe('still waiting');
      expect(counted.reads).toBe(before);

      // One that reaches them all answers them all with one read (two if a tick came during it).
      await moveCheckpointTo('c4', 20);
      announce({ campaignId: 'c4', seq: 20 });
      expect(await within(Promise.all(waits), 5_000)).toEqual(Array(10).fill(true));
      expect(counted.reads - before).toBeGreaterThanOrEqual(1);
      expect(counted.reads - before).toBeLessThanOrEqual(2);
    } finally {
      waiter.close();
    }
  });

  it('answers only from the checkpoint: a notice naming the seq before Postgres has it is not believed', async () => {
    const counted = countedReads();
    await database.db.transaction().execute((trx) => insertCampaign(trx, { id: 'c5', name: 'Five' }));
    const waiter = new CheckpointPollingWaiter(database.db, ONCE_A_MINUTE, counted.read).listen(nats);
    await nats.flush();
    try {
      const waiting = waiter.waitFor('c5', 5, 30_000);
      expect(await within(waiting, 300)).toBe('still waiting');
      const before = counted.reads;
      // A stray or forged notice: it prompts a read, and the checkpoint (still 0) keeps the append waiting.
      announce({ campaignId: 'c5', seq: 5 });
      expect(await within(waiting, 500)).toBe('still waiting');
      expect(counted.reads).toBeGreaterThan(before);

      await moveCheckpointTo('c5', 5);
      announce({ campaignId: 'c5', seq: 5 });
      expect(await within(waiting, 5_000)).toBe(true);
    } finally {
      waiter.close();
    }
  });

  it('answers false to the appends still waiting when it closes', async () => {
    const waiter = new CheckpointPollingWaiter(database.db, ONCE_A_MINUTE);
    const waiting = waiter.waitFor('c1', 99, 30_000);
    waiter.close();
    expect(await within(waiting, 1_000)).toBe(false);
    expect(await waiter.waitFor('c1', 1, 30_000)).toBe(false);
  });
});
