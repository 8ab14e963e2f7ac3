import { campaignKeys } from '@lorekeeper/redis-store';
import { tinyWorld } from '@lorekeeper/testing';
import type { Harness } from './test/harness';
import { startHarness } from './test/harness';

// Transient entities expire on their own; the index that lists them must not keep every id a long
// session ever made (the soak test found it growing by one member per dialogue).

let h: Harness;
let campaignId: string;
let sessionId: string;

beforeAll(async () => {
  h = await startHarness('transient_index', { TRANSIENT_TTL_SECONDS: '1' });
  campaignId = await h.createCampaign(tinyWorld);
  sessionId = await h.startSession(campaignId, ['player:alice']);
});
afterAll(() => h.close());

async function openDialogues(from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i += 1) {
    const reply = await h.request(campaignId, 'append', {
      sessionId,
      events: [
        {
          type: 'dialogue.started',
          entityId: `dialogue:d${i}`,
          data: { npcId: 'npc:goblin', playerId: 'player:alice' },
        },
      ],
    });
    expect(reply.statusHeader).toBeUndefined();
  }
}

describe('the transient index', () => {
  it('drops expired ids as new transient entities arrive, and lists only live ones', async () => {
    const index = campaignKeys(campaignId).transientIndex;
    await openDialogues(0, 60);
    expect(await h.redis.scard(index)).toBe(60);
    // Every one of them expires.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await openDialogues(100, 60);
    // Without pruning the index would hold all 120; with it, the dead ones are mostly gone.
    const size = await h.redis.scard(index);
    expect(size).toBeGreaterThanOrEqual(60);
    expect(size).toBeLessThan(90);
    const listed = await h.request(campaignId, 'entities.list', { kind: 'dialogue' });
    const ids = (listed.body.entities as { id: string }[]).map((e) => e.id);
    expect(ids.every((id) => Number(id.slice('dialogue:d'.length)) >= 100)).toBe(true);
  });
});
