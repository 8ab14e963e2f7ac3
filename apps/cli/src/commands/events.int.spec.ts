import type { RecordedEvent } from '@lorekeeper/domain';
import { archiveEvents, insertCampaign } from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import { campaignKeys, connectRedis, deleteCampaignKeys, streamIdOf } from '@lorekeeper/redis-store';
import type { TestDatabase } from '@lorekeeper/testing';
import { createTestDatabase, serviceUrls, uniqueCampaignId, waitUntil } from '@lorekeeper/testing';
import type { Run } from '../test/run-cli';
import { assertCliBuilt, runCli, startCli } from '../test/run-cli';

const at = (seq: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, seq)).toISOString();

const event = (seq: number, type: string, entityId: string, data: unknown, version: number) =>
  ({
    seq,
    type,
    entityId,
    data,
    version,
    meta: { sessionId: 's1', batchId: `b${seq}`, at: at(seq) },
  }) as const;

/** Seqs 1-6 are durable (archived); 7 is transient; 8-10 are not flushed yet. */
const LOG: RecordedEvent[] = [
  event(1, 'player.gold.changed', 'player:alice', { delta: 10 }, 1),
  event(2, 'player.moved', 'player:alice', { regionId: 'region:forest' }, 2),
  event(3, 'player.xp.gained', 'player:bob', { amount: 3 }, 1),
  event(4, 'world.flag.set', 'world', { key: 'gate', value: true }, 1),
  event(5, 'player.moved', 'player:bob', { regionId: 'region:forest' }, 2),
  event(6, 'player.gold.changed', 'player:alice', { delta: -4 }, 3),
  event(7, 'combat.started', 'combat:c1', { regionId: 'region:forest', participantIds: ['player:alice'] }, 1),
  event(8, 'player.xp.gained', 'player:alice', { amount: 5 }, 4),
  event(9, 'player.moved', 'player:alice', { regionId: 'region:vale' }, 5),
  event(10, 'player.gold.changed', 'player:bob', { delta: 7 }, 3),
];

describe('lorekeeper events', () => {
  const { redisUrl } = serviceUrls();
  const campaignId = uniqueCampaignId('cli-events');
  let test: TestDatabase;
  let redis: Redis;

  const lorekeeper = (args: readonly string[], env: Record<string, string> = {}) =>
    runCli(args, { DATABASE_URL: test.url, REDIS_URL: redisUrl, ...env });
  const start = (args: readonly string[]) => startCli(args, { DATABASE_URL: test.url, REDIS_URL: redisUrl });

  const seqsOf = (run: Run): number[] =>
    run.stdout
      .trim()
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => (JSON.parse(line) as { seq: number }).seq);

  async function append(events: readonly RecordedEvent[]): Promise<void> {
    const keys = campaignKeys(campaignId);
    for (const e of events) {
      await redis.xadd(
        keys.events,
        streamIdOf(e.seq),
        'type',
        e.type,
        'entityId',
        e.entityId,
        'version',
        String(e.version),
        'data',
        JSON.stringify(e.data),
        'meta',
        JSON.stringify(e.meta),
      );
    }
    await redis.set(keys.seq, String(events.at(-1)?.seq ?? 0));
  }

  beforeAll(async () => {
    assertCliBuilt();
    test = await createTestDatabase('cli_events');
    redis = await connectRedis(redisUrl);
    await test.db.transaction().execute(async (trx) => {
      await insertCampaign(trx, { id: campaignId, name: 'Events' });
      const durable = LOG.slice(0, 6).map((e) => ({ ...e, streamId: streamIdOf(e.seq) }));
      await archiveEvents(trx, campaignId, durable);
      await trx
        .updateTable('campaigns')
        .set({ checkpoint_seq: 6, checkpoint_stream_id: '6-0' })
        .where('id', '=', campaignId)
        .execute();
    });
    // The stream keeps a few durable entries behind the checkpoint, as the worker's STREAM_KEEP does.
    await append(LOG.slice(4));
  });

  afterAll(async () => {
    await deleteCampaignKeys(redis, campaignId);
    redis.disconnect();
    await test.destroy();
  });

  it('merges the archive and the stream into one log, marking sources and transient events', async () => {
    const run = await lorekeeper(['events', campaignId]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const listed = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(listed.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(listed.map((e) => e.source)).toEqual([...Array(6).fill('archive'), ...Array(4).fill('stream')]);
    expect(listed.filter((e) => e.transient === true).map((e) => e.seq)).toEqual([7]);
    expect(listed[0]).toEqual({
      ...LOG[0],
      streamId: '1-0',
      recordedAt: at(1),
      source: 'archive',
    });
    expect(listed[8]).toEqual({ ...LOG[8], streamId: '9-0', recordedAt: at(9), source: 'stream' });
  });

  it('filters by seq, stream id and time, across the archive and the stream', async () => {
    expect(seqsOf(await lorekeeper(['events', campaignId, '--from', '3', '--to', '8']))).toEqual([
      3, 4, 5, 6, 7, 8,
    ]);
    expect(seqsOf(await lorekeeper(['events', campaignId, '--from', '5-0', '--to', '9-0']))).toEqual([
      5, 6, 7, 8, 9,
    ]);
    const byTime = await lorekeeper(['events', campaignId, '--from', at(4), '--to', '2026-11-25T12:00:08Z']);
    expect(seqsOf(byTime)).toEqual([4, 5, 6, 7, 8]);
  });

  it('filters by type (repeated or comma-separated), entity and limit', async () => {
    const types = await lorekeeper([
      'events',
      campaignId,
      '--type',
      'player.moved,combat.started',
      '--type',
      'world.flag.set',
    ]);
    expect(seqsOf(types)).toEqual([2, 4, 5, 7, 9]);
    expect(seqsOf(await lorekeeper(['events', campaignId, '--entity', 'player:alice']))).toEqual([
      1, 2, 6, 8, 9,
    ]);
    const limited = await lorekeeper(['events', campaignId, '--entity', 'player:alice', '--limit', '4']);
    expect(seqsOf(limited)).toEqual([1, 2, 6, 8]);
    expect(limited.stderr).toMatch(/stopped at --limit 4/);
  });

  it('prints one JSON array with --json, and a table with --format table', async () => {
    const json = await lorekeeper(['events', campaignId, '--json', '--from', '6', '--to', '7']);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { seq: number }[]).map((e) => e.seq)).toEqual([6, 7]);
    expect(JSON.parse((await lorekeeper(['events', campaignId, '--json', '--from', '99'])).stdout)).toEqual(
      [],
    );

    const table = await lorekeeper(['events', campaignId, '--format', 'table', '--from', '6', '--to', '7']);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SEQ\s+RECORDED AT\s+SOURCE\s+TYPE\s+ENTITY\s+VER\s+DATA$/);
    expect(lines[1]).toMatch(
      /^6\s+2026-11-25T12:00:06.000Z\s+archive\s+player.gold.changed\s+player:alice\s+3\s+\{"delta":-4\}$/,
    );
    expect(lines[2]).toMatch(/^7\s+\S+\s+stream\s+combat.started~\s+combat:c1/);
  });

  it('lists the archive with a warning when Redis is unreachable, and exits 3 when following needs it', async () => {
    const down = { REDIS_URL: 'redis://127.0.0.1:1' };
    const run = await lorekeeper(['events', campaignId], down);
    expect(run.code).toBe(0);
    expect(seqsOf(run)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(run.stderr).toMatch(/cannot reach Redis.*\n.*archive only/);

    const follow = await lorekeeper(['events', campaignId, '--follow'], down);
    expect(follow.code).toBe(3);
    expect(follow.stderr).toMatch(/cannot reach Redis/);
  });

  it('refuses bad usage with 2, an unknown campaign with 1, an unreachable Postgres with 3', async () => {
    expect((await lorekeeper(['events', campaignId, '--follow', '--to', '5'])).code).toBe(2);
    expect((await lorekeeper(['events', campaignId, '--follow', '--json'])).code).toBe(2);
    expect((await lorekeeper(['events', campaignId, '--from', 'soon'])).code).toBe(2);
    const unknown = await lorekeeper(['events', 'no-such-campaign', '--json']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ ok: false, error: { code: 'FAILED' } });
    const pg = await lorekeeper(['events', campaignId], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x',
    });
    expect(pg.code).toBe(3);
    expect(pg.stderr).toMatch(/cannot reach PostgreSQL/);
  });

  it('--follow prints the history, then a batch appended after it started, and stops on SIGTERM', async () => {
    const child = start(['events', campaignId, '--follow', '--from', '9']);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitUntil(() => stderr.includes('following'), 10_000, 'the follower to start');
    expect(seqsOf({ code: null, stdout, stderr })).toEqual([9, 10]);

    const batch = [
      event(11, 'player.xp.gained', 'player:bob', { amount: 1 }, 4),
      event(12, 'dialogue.started', 'dialogue:d1', { npcId: 'npc:x', playerId: 'player:bob' }, 1),
    ];
    await append(batch);
    await waitUntil(() => seqsOf({ code: null, stdout, stderr }).length === 4, 10_000, 'the live batch');
    const live = stdout
      .trim()
      .split('\n')
      .slice(2)
      .map((line) => JSON.parse(line));
    expect(live).toEqual([
      { ...batch[0], streamId: '11-0', recordedAt: at(11), source: 'stream' },
      { ...batch[1], streamId: '12-0', recordedAt: at(12), source: 'stream', transient: true },
    ]);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
