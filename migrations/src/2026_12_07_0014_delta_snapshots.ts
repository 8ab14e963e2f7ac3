import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * A worker's replay snapshot may hold only what changed since an earlier snapshot, its base: the
 * entities archived events named since the base's seq, each as it is at the snapshot's seq, and a row
 * with no kind, version or state for each of them that is gone by then. Reading it means reading its
 * base (itself perhaps such a delta) and laying it over. Why: a full copy writes every entity of the
 * campaign, and 1,000,000 events of the simulated game touch about a tenth of a 1,000,000-entity world
 * (bench/results/NOTES.md). Snapshots written before hold every entity and have no base. `down` drops
 * every snapshot that has one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('snapshots')
    .addColumn('base_id', 'bigint', (col) => col.references('snapshots.id'))
    .execute();
  await sql`alter table snapshot_entities
              alter column kind drop not null,
              alter column version drop not null,
              alter column state drop not null,
              add constraint snapshot_entities_removed check (num_nulls(kind, version, state) in (0, 3))`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from snapshots where base_id is not null`.execute(db);
  await sql`alter table snapshot_entities
              drop constraint snapshot_entities_removed,
              alter column kind set not null,
              alter column version set not null,
              alter column state set not null`.execute(db);
  await db.schema.alterTable('snapshots').dropColumn('base_id').execute();
}
