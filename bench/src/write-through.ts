import type { DomainEvent, Entity } from '@lorekeeper/domain';
import { evolve } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Write-through's own log: a row per event with a key and an index for one entity's history, as
 * Lorekeeper's archive was before it became chunks (migration 0007).
 */
export async function createWriteThroughLog(db: Kysely<Database>): Promise<void> {
  await sql`create table if not exists write_through_events (
              campaign_id text not null, seq bigint not null, stream_id text not null, type text not null,
              entity_id text not null, version integer not null, data jsonb not null, meta jsonb not null,
              recorded_at timestamptz not null, primary key (campaign_id, seq))`.execute(db);
  await sql`create index if not exists write_through_events_entity_idx
              on write_through_events (campaign_id, entity_id, seq)`.execute(db);
}

/**
 * The design people reach for first: every event is its own Postgres transaction that locks the
 * entity's row, applies the event with the same `evolve` Lorekeeper uses, writes the row back and logs
 * the event. Its acknowledgement is durable (the commit). Throws what `evolve` throws for an event that
 * does not apply; the transaction then rolls back and nothing is written.
 */
export async function writeThrough(
  db: Kysely<Database>,
  campaignId: string,
  seq: number,
  event: DomainEvent,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('entities')
      .select(['kind', 'state', 'version'])
      .where('campaign_id', '=', campaignId)
      .where('id', '=', event.entityId)
      .forUpdate()
      .executeTakeFirst();
    const current: Entity | undefined = row
      ? { id: event.entityId, kind: row.kind, version: row.version, state: row.state }
      : undefined;
    const next = evolve(current, event);
    if (!next) {
      await trx
        .deleteFrom('entities')
        .where('campaign_id', '=', campaignId)
        .where('id', '=', event.entityId)
        .execute();
    } else if (current) {
      await trx
        .updateTable('entities')
        .set({ state: JSON.stringify(next.state), version: next.version })
        .where('campaign_id', '=', campaignId)
        .where('id', '=', event.entityId)
        .execute();
    } else {
      await trx
        .insertInto('entities')
        .values({
          campaign_id: campaignId,
          id: next.id,
          kind: next.kind,
          version: next.version,
          state: JSON.stringify(next.state),
        })
        .execute();
    }
    await sql`insert into write_through_events (campaign_id, seq, stream_id, type, entity_id, version, data, meta, recorded_at)
              values (${campaignId}, ${seq}, ${`${seq}-0`}, ${event.type}, ${event.entityId},
                      ${next?.version ?? (current?.version ?? 0) + 1}, ${JSON.stringify(event.data)}, '{}', now())`.execute(
      trx,
    );
  });
}
