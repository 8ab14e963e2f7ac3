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
    await insertCampaign(trx, { id: 'c5', name: 'Five' });
    await insertCampaign(trx, { id: 'c6', name: 'Six' });
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

/** A waiter that hears the notices and reads the position through `counted`, once a minute on its own. */
async function listeningWaiter(counted: ReturnType<typeof countedReads>) {
  const waiter = new CheckpointPollingWaiter(database.db, ONCE_A_MINUTE, counted.read).listen(nats);
  await nats.flush();
  return waiter;
}

describe('waiting for a major event to be durable', () => {
  it("answers when a worker announces a flush of the campaign that reaches the append's seq", async () => {
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
    const waiter = await listeningWaiter(counted);
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

      // One that reaches them all answers them all, with no read.
      await moveCheckpointTo('c4', 20);
      announce({ campaignId: 'c4', seq: 20, checkpoint: 20 });
      expect(await within(Promise.all(waits), 5_000)).toEqual(Array(10).fill(true));
      expect(counted.reads).toBe(before);
    } finally {
      waiter.close();
    }
  });

  it('answers from a notice without reading: an append from its seq, a save only from its checkpoint', async () => {
    const counted = countedReads();
    const waiter = await listeningWaiter(counted);
    try {
      const append = waiter.waitFor('c5', 5, 30_000, 'events');
      const save = waiter.waitFor('c5', 5, 30_000, 'checkpoint');
      expect(await within(append, 300)).toBe('still waiting');
      const before = counted.reads;

      // A major event's flush: the events are archived up to seq 5, the checkpoint has not moved.
      announce({ campaignId: 'c5', seq: 5, checkpoint: 0 });
      expect(await within(append, 5_000)).toBe(true);
      expect(await within(save, 300)).toBe('still waiting');
      // A flush on the save cadence: the checkpoint reaches seq 6.
      announce({ campaignId: 'c5', seq: 6, checkpoint: 6 });
      expect(await within(save, 5_000)).toBe(true);
      expect(counted.reads).toBe(before);
    } finally {
      waiter.close();
    }
  });

  it("reads the position when an older worker's notice names no checkpoint, and answers from Postgres", async () => {
    const counted = countedReads();
    const waiter = await listeningWaiter(counted);
    try {
      const save = waiter.waitFor('c6', 5, 30_000, 'checkpoint');
      expect(await within(save, 300)).toBe('still waiting');
      const before = counted.reads;
      // Its seq may be an archive's end, not the checkpoint: a read decides, and Postgres is still at 0.
      announce({ campaignId: 'c6', seq: 5 });
      expect(await within(save, 500)).toBe('still waiting');
      expect(counted.reads).toBeGreaterThan(before);

      await moveCheckpointTo('c6', 5);
      announce({ campaignId: 'c6', seq: 5 });
      expect(await within(save, 5_000)).toBe(true);
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

  it('answers false to a wait its caller gave up, and stops reading the position for it', async () => {
    const counted = countedReads();
    const waiter = new CheckpointPollingWaiter(database.db, 20, counted.read);
    try {
      const givingUp = new AbortController();
      const waiting = waiter.waitFor('c1', 99, 30_000, 'events', givingUp.signal);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(counted.reads).toBeGreaterThan(1);
      givingUp.abort();
      expect(await within(waiting, 1_000)).toBe(false);
      // A read already under way may still end; none begins after it.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const after = counted.reads;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(counted.reads).toBe(after);
      const aborted = new AbortController();
      aborted.abort();
      expect(await within(waiter.waitFor('c1', 99, 30_000, 'events', aborted.signal), 100)).toBe(false);
    } finally {
      waiter.close();
    }
  });
});
