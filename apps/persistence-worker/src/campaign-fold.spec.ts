import type { Entity } from '@lorekeeper/domain';
import { referenceRegistry } from '@lorekeeper/domain';
import type { StreamEvent } from '@lorekeeper/redis-store';
import { CampaignFold } from './campaign-fold';

const aliceState = { name: 'Alice', regionId: 'region:vale', gold: 10, xp: 0 };
const alice: Entity = { id: 'player:alice', kind: 'player', version: 0, state: aliceState };

const gold = (seq: number, version: number, delta: number): StreamEvent => ({
  streamId: `${seq}-0`,
  seq,
  type: 'player.gold.changed',
  entityId: 'player:alice',
  version,
  data: { delta },
  meta: { sessionId: 's', batchId: 'b', correlationId: 'c', at: '2026-11-26T00:00:00.000Z' },
});

describe('CampaignFold', () => {
  it('keeps folding while a batch is written, and keeps what came after it once committed', () => {
    const fold = new CampaignFold('c', { seq: 0, streamId: '0-0' }, referenceRegistry);
    fold.remember(['player:alice'], [alice]);
    fold.fold(gold(1, 1, 5), 100, 0);
    fold.fold(gold(2, 2, 5), 100, 0);
    const batch = fold.batch();

    // Folded during the flush: must not leak into the batch being written.
    expect(fold.sinceBatch).toBe(0);
    fold.fold(gold(3, 3, 1), 100, 0);
    // What the fold-ahead bound counts while the batch is written (the backlog still holds both).
    expect(fold.sinceBatch).toBe(1);
    expect(fold.backlog.events).toBe(3);
    expect(batch.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(batch.entries).toBe(2);
    expect(batch.upserts).toEqual([{ ...alice, version: 2, state: { ...aliceState, gold: 20 } }]);
    expect(batch.to.seq).toBe(2);

    fold.committed(batch);
    expect(fold.durable.seq).toBe(2);
    expect(fold.backlog).toMatchObject({ events: 1, bytes: 100 });
    expect(fold.sinceBatch).toBe(1);
    const next = fold.batch();
    expect(next.from.seq).toBe(2);
    expect(next.events.map((e) => e.seq)).toEqual([3]);
    expect(next.upserts).toEqual([{ ...alice, version: 3, state: { ...aliceState, gold: 21 } }]);
  });

  it('leaves nothing dirty when nothing changed during the flush', () => {
    const fold = new CampaignFold('c', { seq: 0, streamId: '0-0' }, referenceRegistry);
    fold.remember(['player:alice'], [alice]);
    fold.fold(gold(1, 1, 5), 100, 0);
    fold.committed(fold.batch());
    expect(fold.hasWork).toBe(false);
    expect(fold.backlog).toEqual({ events: 0, bytes: 0, oldestAt: undefined });
    expect(fold.batch().upserts).toEqual([]);
  });

  it('drops values read from Postgres while it forgot clean entities (a prefetch that raced a flush)', () => {
    const fold = new CampaignFold('c', { seq: 0, streamId: '0-0' }, referenceRegistry);
    // More entities than the cache keeps once a flush commits, so the commit forgets the clean ones.
    const others = Array.from({ length: 50_001 }, (_, i): Entity => ({ ...alice, id: `player:p${i}` }));
    fold.remember(
      others.map((entity) => entity.id),
      others,
    );
    fold.remember(['player:alice'], [alice]);
    fold.fold(gold(1, 1, 5), 100, 0);

    // A read of alice from Postgres begins before the flush of version 1 commits and ends after.
    const generation = fold.generation;
    fold.committed(fold.batch());
    expect(fold.missing([gold(2, 2, 1)])).toEqual(['player:alice']);
    fold.remember(['player:alice'], [alice], generation);
    expect(fold.missing([gold(2, 2, 1)])).toEqual(['player:alice']);
    // Folding it now would apply the event to nothing: the fold refuses until alice is read again.
    expect(fold.fold(gold(2, 2, 1), 100, 0)).toBe(false);
    expect(fold.head.seq).toBe(1);

    // Read again after the commit: taken, and the next event folds onto version 1.
    fold.remember(['player:alice'], [{ ...alice, version: 1, state: { ...aliceState, gold: 15 } }]);
    expect(fold.fold(gold(2, 2, 1), 100, 0)).toBe(true);
    expect(fold.batch().upserts).toEqual([{ ...alice, version: 2, state: { ...aliceState, gold: 16 } }]);
  });
});
