import type { Entity } from '@lorekeeper/domain';
import { fold } from '@lorekeeper/domain';
import { readSyncLog } from '@lorekeeper/pg-store';
import { ACTIVE_CAMPAIGNS_KEY } from '@lorekeeper/redis-store';
import { entitiesById, tinyWorld } from '@lorekeeper/testing';
import type { ServiceProcess } from '@lorekeeper/testing';
import type { AckedEvent } from './test/game';
import { appendUntilAnswered } from './test/game';
import type { System } from './test/system';
import { startSystem } from './test/system';

const LEASE_MS = 1_500;
let h: System;

beforeAll(async () => {
  h = await startSystem('owners', { AUTOSAVE_INTERVAL_MS: '100', LEASE_MS: String(LEASE_MS) });
});
afterAll(() => h.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The campaigns a worker process owns now, by its log: taken over (with when), not handed back. */
function owned(worker: ServiceProcess): Map<string, number> {
  const taken = new Map<string, number>();
  for (const line of worker.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { campaignId?: string; time: number; msg: string };
    if (entry.campaignId === undefined) continue;
    if (entry.msg === 'took the campaign over') taken.set(entry.campaignId, entry.time);
    if (entry.msg.startsWith('handed the campaign over') || entry.msg === 'released campaign') {
      taken.delete(entry.campaignId);
    }
  }
  return taken;
}

async function eventually(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(100);
}

describe('two workers sharing 20 campaigns', () => {
  it('checkpoint each campaign from one owner at a time, and the survivor takes a dead one over within the lease', async () => {
    const campaigns: { id: string; sessionId: string }[] = [];
    for (let i = 0; i < 20; i += 1) {
      const id = await h.createCampaign(tinyWorld, `owners${i}`);
      campaigns.push({ id, sessionId: await h.startSession(id, ['player:alice', 'player:bob']) });
    }
    // An active-set entry whose keys were removed by hand: no worker can take it, so it must not
    // count towards the shares (it would make them 11 and leave the second worker 9).
    const stale = `owners-stale-${Date.now()}`;
    await h.redis.sadd(ACTIVE_CAMPAIGNS_KEY, stale);
    const first = await h.spawnWorker();
    const second = await h.spawnWorker();

    const acked = new Map<string, AckedEvent[]>(campaigns.map((c) => [c.id, []]));
    let running = true;
    const loops = Array.from({ length: 4 }, async (_, loop) => {
      for (let i = 0; running; i += 1) {
        const campaign = campaigns[(i * 4 + loop) % campaigns.length] as { id: string; sessionId: string };
        const events = [
          {
            type: 'player.gold.changed',
            entityId: i % 2 ? 'player:alice' : 'player:bob',
            data: { delta: 1 + (i % 3) },
          },
        ];
        acked
          .get(campaign.id)
          ?.push(...(await appendUntilAnswered(h.nats, campaign.id, campaign.sessionId, events)));
      }
    });

    try {
      // The first worker takes everything, then hands half over once it sees the second one.
      await eventually(() => owned(first).size === 10 && owned(second).size === 10, 20_000);
      const firstOwns = owned(first);
      const secondOwns = owned(second);
      expect([firstOwns.size, secondOwns.size]).toEqual([10, 10]);
      expect([...firstOwns.keys()].filter((id) => secondOwns.has(id))).toEqual([]);
      await sleep(1_000);

      const killedAt = Date.now();
      first.process.kill('SIGKILL');
      await first.exited;
      await eventually(() => owned(second).size === 20, LEASE_MS + 6_000);
      const afterKill = owned(second);
      for (const campaignId of firstOwns.keys()) {
        const at = afterKill.get(campaignId);
        expect(at).toBeDefined();
        // The dead worker's lease and heartbeat run out together; the survivor sees it at its next
        // renewal (a third of the lease) and takes the campaign at its next look (every 200 ms).
        expect((at as number) - killedAt).toBeLessThan(LEASE_MS + 1_500);
      }
      await sleep(1_000);
    } finally {
      running = false;
      await Promise.all(loops);
      await h.redis.srem(ACTIVE_CAMPAIGNS_KEY, stale);
    }
    for (const campaign of campaigns) {
      const saved = await h.request(campaign.id, 'save', { sessionId: campaign.sessionId }, 30_000);
      expect(saved.body.error).toBeUndefined();
      const events = (acked.get(campaign.id) ?? []).sort((a, b) => a.seq - b.seq);
      expect(saved.body.seq).toBe(events.length);
      const expected = fold(entitiesById(tinyWorld), events);
      const rows = await h.db.db
        .selectFrom('entities')
        .select(['id', 'kind', 'version', 'state'])
        .where('campaign_id', '=', campaign.id)
        .execute();
      expect(new Map(rows.map((row) => [row.id, row as Entity]))).toEqual(expected);
      // One owner at a time: the flushes of a campaign cover its log once, in order, without overlap.
      const flushes = (await readSyncLog(h.db.db, campaign.id, 10_000))
        .reverse()
        .filter((f) => f.toSeq >= f.fromSeq);
      flushes.forEach((flush, i) =>
        expect(flush.fromSeq).toBe(i === 0 ? 1 : (flushes[i - 1]?.toSeq ?? 0) + 1),
      );
      expect(flushes.at(-1)?.toSeq).toBe(events.length);
    }
    await second.stop();
  }, 120_000);
});
