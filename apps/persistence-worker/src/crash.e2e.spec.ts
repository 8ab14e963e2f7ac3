import type { Entity } from '@lorekeeper/domain';
import { fold } from '@lorekeeper/domain';
import { readEvents } from '@lorekeeper/pg-store';
import { entitiesById, generateWorld, spawnService } from '@lorekeeper/testing';
import type { AckedEvent } from './test/game';
import { appendUntilAnswered } from './test/game';
import type { System } from './test/system';
import { startSystem } from './test/system';

let h: System;

beforeAll(async () => {
  // A quest completion waits at most 200 ms for a worker (none runs between a kill and the next start).
  h = await startSystem('crash', { AUTOSAVE_INTERVAL_MS: '100', LEASE_MS: '600', DURABLE_WAIT_MS: '200' });
});
afterAll(() => h.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a worker killed again and again under load', () => {
  it('leaves Postgres equal to the fold of every acknowledged event, none applied twice', async () => {
    const world = generateWorld({
      campaignId: 'crash',
      regions: 5,
      players: 20,
      npcs: 0,
      items: 40,
      quests: 400,
      seed: 3,
    });
    // Items start with players so every loop can move its own items between players.
    const entities = world.entities.map((entity) =>
      entity.kind === 'item'
        ? { ...entity, state: { ...(entity.state as object), ownerId: 'player:p0' } }
        : entity,
    );
    const campaignId = await h.createCampaign({ ...world, entities });
    const players = entities.filter((e) => e.kind === 'player').map((e) => e.id);
    const items = entities.filter((e) => e.kind === 'item').map((e) => e.id);
    // Quest completions are major: their flushes only archive (docs/architecture.md, "Major events:
    // the archive first"), and a worker killed after one must neither lose nor archive them twice.
    const quests = entities
      .filter((e) => e.kind === 'quest' && (e.state as { status: string }).status === 'available')
      .map((e) => e.id);
    let majors = 0;
    const sessionId = await h.startSession(campaignId, players);

    const acked: AckedEvent[] = [];
    let running = true;
    const loops = Array.from({ length: 4 }, async (_, loop) => {
      const mine = items.filter((_, i) => i % 4 === loop);
      const owner = new Map(mine.map((id) => [id, 'player:p0']));
      const myQuests = quests.filter((_, i) => i % 4 === loop);
      for (let i = 0; running; i += 1) {
        const quest = i % 5 === 4 ? myQuests.shift() : undefined;
        if (quest) {
          const player = players[loop] as string;
          const started = { type: 'quest.started', entityId: quest, data: { playerId: player } };
          acked.push(...(await appendUntilAnswered(h.nats, campaignId, sessionId, [started])));
          const done = { type: 'quest.completed', entityId: quest, data: {} };
          acked.push(...(await appendUntilAnswered(h.nats, campaignId, sessionId, [done])));
          majors += 1;
          continue;
        }
        const item = mine[i % mine.length] as string;
        const to = players[(i * 7 + loop) % players.length] as string;
        const events = [
          {
            type: 'player.gold.changed',
            entityId: players[(i + loop) % players.length] as string,
            data: { delta: (i % 5) + 1 },
          },
          { type: 'item.moved', entityId: item, data: { fromId: owner.get(item) as string, toId: to } },
        ];
        acked.push(...(await appendUntilAnswered(h.nats, campaignId, sessionId, events)));
        owner.set(item, to);
      }
    });

    let selfKills = 0;
    for (let round = 0; round < 12; round += 1) {
      // Every other round the worker also kills itself between a commit and its trim of the stream.
      const crashAfterCommit = round % 2 === 1 ? '0.3' : '0';
      const worker = await spawnService('persistence-worker', {
        ...h.env,
        WORKER_CRASH_AFTER_COMMIT: crashAfterCommit,
        LOG_LEVEL: process.env['CRASH_DEBUG'] ? 'debug' : 'info',
      });
      // The lease of the worker killed before runs out first (LEASE_MS), then this one flushes.
      const lifetime = crashAfterCommit === '0' ? 700 + Math.floor(Math.random() * 1_500) : 5_000;
      await Promise.race([worker.exited, sleep(lifetime)]);
      if (worker.process.exitCode === null && worker.process.signalCode === null)
        worker.process.kill('SIGKILL');
      else selfKills += 1;
      await worker.exited;
      if (process.env['CRASH_DEBUG']) {
        const flushed = worker
          .output()
          .split('\n')
          .filter((line) => line.includes('"flushed"'));
        process.stderr.write(
          `round ${round}: ${flushed.length} flushes, last: ${flushed.at(-1) ?? 'none'}\n`,
        );
      }
    }
    running = false;
    await Promise.all(loops);

    // A last, healthy worker catches up; the save returns once everything is durable.
    const last = await spawnService('persistence-worker', h.env);
    const saved = await h.request(campaignId, 'save', { sessionId }, 60_000);
    if (saved.body.error) {
      const letters = await h.db.db.selectFrom('dead_letters').select(['stream_id', 'error']).execute();
      throw new Error(
        `save failed: ${JSON.stringify(saved.body.error)}; dead letters: ${JSON.stringify(letters)}`,
      );
    }
    await last.stop();

    acked.sort((a, b) => a.seq - b.seq);
    expect(acked.map((e) => e.seq)).toEqual(acked.map((_, i) => i + 1));
    expect(saved.body.seq).toBe(acked.length);
    const expected = fold(entitiesById(entities), acked);
    const rows = await h.db.db
      .selectFrom('entities')
      .select(['id', 'kind', 'version', 'state'])
      .where('campaign_id', '=', campaignId)
      .execute();
    const durable = new Map(rows.map((row) => [row.id, row as Entity]));
    expect(durable).toEqual(expected);
    const archived = await readEvents(h.db.db, campaignId, {});
    expect(archived.map((e) => e.seq)).toEqual(acked.map((e) => e.seq));
    // The crashes really happened, and some of them in the commit-to-XACK window.
    expect(acked.length).toBeGreaterThan(100);
    expect(selfKills).toBeGreaterThanOrEqual(3);
    expect(majors).toBeGreaterThan(20);
    const majorFlushes = await h.db.db
      .selectFrom('sync_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('campaign_id', '=', campaignId)
      .where('trigger', '=', 'major')
      .executeTakeFirstOrThrow();
    expect(Number(majorFlushes.n)).toBeGreaterThan(0);
    const flushes = await h.db.db
      .selectFrom('sync_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('campaign_id', '=', campaignId)
      .executeTakeFirstOrThrow();
    expect(Number(flushes.n)).toBeGreaterThanOrEqual(12);
    process.stderr.write(
      `crash test: ${acked.length} events (${majors} quests completed, ${Number(majorFlushes.n)} major flushes), ` +
        `12 kills, ${selfKills} of them after a commit\n`,
    );
  }, 180_000);
});
