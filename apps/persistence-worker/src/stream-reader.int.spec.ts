import { randomUUID } from 'node:crypto';
import { referenceRegistry } from '@lorekeeper/domain';
import type { Redis } from '@lorekeeper/redis-store';
import {
  EVENT_FIELD,
  campaignKeys,
  connectRedis,
  ensureGroup,
  readGroup,
  seqOfStreamId,
} from '@lorekeeper/redis-store';
import { serviceUrls } from '@lorekeeper/testing';
import { READ_COUNT, StreamReader } from './stream-reader';

// A consumer taking a campaign over (after a restart, or from another worker) must fold what the group
// handed out past the checkpoint before it came: nothing keeps those entries pending, so it reads them
// by range, a read at a time, before asking the group for new ones.
describe('StreamReader.replay', () => {
  let redis: Redis;
  const campaignId = `reader-${randomUUID()}`;
  const stream = campaignKeys(campaignId).events;
  const append = async (from: number, to: number) => {
    const pipeline = redis.pipeline();
    for (let seq = from; seq <= to; seq += 1) pipeline.xadd(stream, `${seq}-0`, EVENT_FIELD, '{}');
    await pipeline.exec();
  };
  const seqs = (entries: readonly { streamId: string }[]) =>
    entries.map((entry) => seqOfStreamId(entry.streamId));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  beforeAll(async () => {
    redis = await connectRedis(serviceUrls().redisUrl);
  });
  afterAll(async () => {
    await redis.del(stream);
    redis.disconnect();
  });

  it('reads what was handed out past the checkpoint again, by range, then new entries', async () => {
    await append(1, 2_600);
    expect(await ensureGroup(redis, campaignId)).toBe(true);
    // A former owner was handed all 2,600 and checkpointed up to 100 before it went away.
    for (let read = 0; read < 3; read += 1) await readGroup(redis, campaignId, 'worker-old', 1_000);
    await append(2_601, 2_610);

    const reader = new StreamReader(
      { redis, workerId: 'worker-new', registry: referenceRegistry },
      campaignId,
    );
    reader.replay(101, 2_600);
    const reads: number[][] = [];
    for (let read = 0; read < 4; read += 1) reads.push(seqs(await reader.next()));

    expect(reads[0]).toEqual(range(101, 100 + READ_COUNT));
    expect(reads[1]).toEqual(range(101 + READ_COUNT, 100 + 2 * READ_COUNT));
    expect(reads[2]).toEqual(range(101 + 2 * READ_COUNT, 2_600));
    // Then the group: only what nobody was handed yet.
    expect(reads[3]).toEqual(range(2_601, 2_610));
    expect(await reader.next()).toEqual([]);
  });

  it('goes straight to the group when nothing was handed out past the checkpoint', async () => {
    const reader = new StreamReader(
      { redis, workerId: 'worker-new', registry: referenceRegistry },
      campaignId,
    );
    reader.replay(2_611, 2_610);
    await append(2_611, 2_612);
    expect(seqs(await reader.next())).toEqual([2_611, 2_612]);
  });
});
