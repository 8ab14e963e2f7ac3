import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Campaigns with their durable checkpoint, and the entities' state at that checkpoint.
 * Migrations take `Kysely<unknown>`: they describe the schema as it was when they were written and must
 * not follow later changes to the pg-store types.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('campaigns')
    .addColumn('id', 'text', (col) => col.primaryKey().check(sql`id ~ '^[A-Za-z0-9_-]{1,64}$'`))
    .addColumn('name', 'text', (col) => col.notNull())
    // 'quarantined': a poison event stopped the worker for this campaign (DESIGN.md, invariant 9).
    .addColumn('status', 'text', (col) =>
      col
        .notNull()
        .defaultTo('active')
        .check(sql`status in ('active', 'quarantined')`),
    )
    // The last event whose effects are in this database: seq in the campaign's log and the Redis stream
    // id it had. Moved only by compare-and-set (DESIGN.md, invariant 3).
    .addColumn('checkpoint_seq', 'bigint', (col) =>
      col
        .notNull()
        .defaultTo(0)
        .check(sql`checkpoint_seq >= 0`),
    )
    .addColumn('checkpoint_stream_id', 'text', (col) => col.notNull().defaultTo('0-0'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('entities')
    .addColumn('campaign_id', 'text', (col) => col.notNull().references('campaigns.id').onDelete('cascade'))
    .addColumn('id', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    // Derived from the state by the domain registry's regionOf/ownerOf, so selective loading can use an index.
    .addColumn('region_id', 'text')
    .addColumn('owner_id', 'text')
    .addColumn('version', 'integer', (col) => col.notNull().check(sql`version >= 0`))
    .addColumn('state', 'jsonb', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('entities_pkey', ['campaign_id', 'id'])
    .execute();

  await db.schema
    .createIndex('entities_region_idx')
    .on('entities')
    .columns(['campaign_id', 'region_id'])
    .execute();
  await db.schema
    .createIndex('entities_owner_idx')
    .on('entities')
    .columns(['campaign_id', 'owner_id'])
    .execute();
  await db.schema.createIndex('entities_kind_idx').on('entities').columns(['campaign_id', 'kind']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('entities').execute();
  await db.schema.dropTable('campaigns').execute();
}
