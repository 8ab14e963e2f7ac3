import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { readCheckpoint } from '../campaigns/checkpoint';
import { chunksOf } from '../chunks';
import { copyEntities } from './create-snapshot';
import type { Database } from '../database';
import type { Snapshot } from './snapshot.table';
import { toSnapshot } from './snapshot.table';

/*
 * A replay snapshot copied while the campaign's worker keeps flushing, without one long transaction.
 *
 * A copy of a million entities takes tens of seconds when paced. Held in one REPEATABLE READ
 * transaction, it kept every dead version of every row the flushes updated meanwhile, and each
 * flush's upsert of a hot entity walked a longer chain of them: flushes of 200 hot rows went from 4 to
 * 50 ms over 40 s of one held snapshot (docs/replay.md). So the copy goes:
 *
 * 1. `beginSnapshotCopy`: a header that is not yet complete, which no reader sees.
 * 2. `copyEntitiesPaced`: every entity, a chunk per statement, each chunk its own transaction, resting
 *    between chunks. A chunk holds its entities as of its own moment, not as of one checkpoint.
 * 3. `completeSnapshotCopy`: one short REPEATABLE READ transaction reads the checkpoint, copies again
 *    every entity written or deleted since the copy began (the caller, the only writer of the
 *    campaign's entities, knows which), and marks the snapshot complete at that checkpoint. An entity
 *    nobody wrote since the copy began was the same in its chunk as it is at the checkpoint.
 *
 * A copy with a base (migration 0014) goes the same way over fewer entities: those the archive's events
 * since the base's seq are about (`entitiesArchivedAfter`), since an entity changes only through its own
 * events. Each is copied as it is, or as a removal row when it is gone, and so are the flushes' changes
 * at completion.
 */

/** How a long copy shares Postgres: chunks of `chunkRows` entities, resting `restRatio` times as long as each took. */
export interface SnapshotPacing {
  readonly chunkRows: number;
  readonly restRatio: number;
  /** Abandons the copy between chunks: the copy throws the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Every entity a campaign's flushes wrote or deleted since a copy began, and the seq they reach. */
export interface CopyChanges {
  readonly ids: Iterable<string>;
  /** The checkpoint after the last flush in `ids`: a later checkpoint means a flush not yet counted. */
  readonly throughSeq: number;
}

/**
 * Start a copy, of every entity or, given a `baseId`, of what changed since that complete snapshot:
 * drop whatever earlier copies of the campaign never completed (a worker that crashed or stopped
 * mid-copy), then write the new copy's header. Returns the snapshot's id.
 */
export async function beginSnapshotCopy(
  db: Kysely<Database>,
  campaignId: string,
  baseId: number | null = null,
): Promise<number> {
  const leftovers = await db
    .selectFrom('snapshots')
    .select('id')
    .where('campaign_id', '=', campaignId)
    .where('complete', '=', false)
    .execute();
  for (const leftover of leftovers) await dropSnapshot(db, leftover.id);
  const header = await db
    .insertInto('snapshots')
    .values({
      campaign_id: campaignId,
      // Unique among the campaign's snapshots until completion names it after its seq.
      name: `copying-${randomUUID()}`,
      seq: 0,
      entity_count: 0,
      base_id: baseId,
      complete: false,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return header.id;
}

/**
 * Copy into the snapshot every entity of the campaign or, given `only`, those of these ids (distinct),
 * each gone one as a removal row: a chunk per statement, paced. Returns the rows copied.
 */
export async function copyEntitiesPaced(
  db: Kysely<Database>,
  campaignId: string,
  snapshotId: number,
  pacing: SnapshotPacing,
  only?: readonly string[],
): Promise<number> {
  if (only) {
    const chunks = chunksOf(only, pacing.chunkRows);
    return paced(pacing, async () => {
      const next = chunks.next();
      if (next.done) return { rows: 0, last: true };
      return { rows: await copyListedEntities(db, campaignId, snapshotId, next.value), last: false };
    });
  }
  let after = '';
  return paced(pacing, async () => {
    // The chunk is read once (a CTE referenced twice), inserted, and its size and last id returned.
    const { rows } = await sql<{ copied: number; last: string | null }>`
      with chunk as (
        select id, kind, version, state from entities
        where campaign_id = ${campaignId} and id > ${after}
        order by id
        limit ${pacing.chunkRows}
      ), inserted as (
        insert into snapshot_entities (snapshot_id, id, kind, version, state)
        select ${snapshotId}::bigint, id, kind, version, state from chunk
      )
      select count(*)::int as copied, max(id) as last from chunk`.execute(db);
    const chunk = rows[0];
    if (!chunk || chunk.copied === 0 || chunk.last === null) return { rows: 0, last: true };
    after = chunk.last;
    return { rows: chunk.copied, last: chunk.copied < pacing.chunkRows };
  });
}

/** Run `chunk` until it says it was the last, resting between chunks as `pacing` says. Returns the rows. */
async function paced(
  pacing: SnapshotPacing,
  chunk: () => Promise<{ readonly rows: number; readonly last: boolean }>,
): Promise<number> {
  let total = 0;
  for (;;) {
    pacing.signal?.throwIfAborted();
    const started = performance.now();
    const { rows, last } = await chunk();
    total += rows;
    if (last) return total;
    const rest = (performance.now() - started) * pacing.restRatio;
    await new Promise((resolve) => setTimeout(resolve, rest));
  }
}

/**
 * Every entity an archived event past `seq` is about, in id order: all that can differ from the state
 * at `seq` (the archive may reach past the checkpoint; copying an entity its flush has not written yet
 * only copies it unchanged).
 */
export async function entitiesArchivedAfter(
  db: Kysely<Database>,
  campaignId: string,
  seq: number,
): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select distinct e.id from event_chunks c, unnest(c.entity_ids) as e(id)
     where c.campaign_id = ${campaignId} and c.last_seq > ${seq}
     order by e.id`.execute(db);
  return rows.map((row) => row.id);
}

/** Copy the listed entities (distinct ids) into a snapshot: each as it is, or a removal row if it is gone. */
async function copyListedEntities(
  db: Kysely<Database>,
  campaignId: string,
  snapshotId: number,
  ids: readonly string[],
): Promise<number> {
  const copied = await sql`
    insert into snapshot_entities (snapshot_id, id, kind, version, state)
    select ${snapshotId}::bigint, i.id, e.kind, e.version, e.state
      from unnest(${ids}::text[]) as i(id)
      left join entities e on e.campaign_id = ${campaignId} and e.id = i.id`.execute(db);
  return Number(copied.numAffectedRows ?? 0n);
}

/**
 * Make the copy consistent at the campaign's checkpoint and mark it complete, in one short REPEATABLE
 * READ transaction: every changed entity is copied again as the checkpoint has it (if it is gone, left
 * out, or a removal row in a copy with a base). `copied` is what copyEntitiesPaced returned; `name`
 * names the snapshot after its seq. Returns undefined, changing nothing, when the checkpoint is past
 * `changes.throughSeq` (a flush committed that `changes` does not hold yet: try again once it does).
 * Throws if the header is gone.
 */
export async function completeSnapshotCopy(
  db: Kysely<Database>,
  campaignId: string,
  snapshotId: number,
  copied: number,
  changes: CopyChanges,
  name: (seq: number) => string,
): Promise<Snapshot | undefined> {
  // Taken before the transaction reads anything: a flush counted later would otherwise be copied again
  // as the transaction's older checkpoint has it (right, but a row more than the snapshot needs).
  const changed = [...changes.ids];
  const throughSeq = changes.throughSeq;
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const checkpoint = await readCheckpoint(trx, campaignId);
      if (checkpoint.seq > throughSeq) return undefined;
      const header = await trx
        .selectFrom('snapshots')
        .select('base_id')
        .where('id', '=', snapshotId)
        .executeTakeFirst();
      let count = copied;
      for (const ids of chunksOf(changed)) {
        const removed = await trx
          .deleteFrom('snapshot_entities')
          .where('snapshot_id', '=', snapshotId)
          .where('id', '=', sql<string>`any(${ids}::text[])`)
          .executeTakeFirst();
        const added =
          header?.base_id == null
            ? await copyEntities(trx, campaignId, snapshotId, ids)
            : await copyListedEntities(trx, campaignId, snapshotId, ids);
        count += added - Number(removed.numDeletedRows);
      }
      const row = await trx
        .updateTable('snapshots')
        .set({
          name: name(checkpoint.seq),
          seq: checkpoint.seq,
          entity_count: count,
          complete: true,
          created_at: sql`now()`,
        })
        .where('id', '=', snapshotId)
        .where('complete', '=', false)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new Error(`snapshot ${snapshotId} of campaign ${campaignId} is gone mid-copy`);
      return toSnapshot(row);
    });
}

/** Entities deleted per statement when a snapshot is dropped: no statement holds Postgres for long. */
const DROP_CHUNK_ROWS = 20_000;

/** Delete a snapshot, its entities a chunk at a time. Nothing happens if it is gone already. */
export async function dropSnapshot(db: Kysely<Database>, snapshotId: number): Promise<void> {
  for (;;) {
    const deleted = await db
      .deleteFrom('snapshot_entities')
      .where('snapshot_id', '=', snapshotId)
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('snapshot_entities')
          .select('id')
          .where('snapshot_id', '=', snapshotId)
          .orderBy('id')
          .limit(DROP_CHUNK_ROWS),
      )
      .executeTakeFirst();
    if (Number(deleted.numDeletedRows) < DROP_CHUNK_ROWS) break;
  }
  await db.deleteFrom('snapshots').where('id', '=', snapshotId).execute();
}
