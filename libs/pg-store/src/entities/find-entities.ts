import type { Entity } from '@lorekeeper/domain';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { chunksOf } from '../chunks';
import type { Database } from '../database';
import { ENTITY_COLUMNS, toEntity } from './entity.table';

/** The entities among `ids` that exist, in the order asked for (each once). */
export async function findEntities(
  db: Kysely<Database>,
  campaignId: string,
  ids: readonly string[],
): Promise<Entity[]> {
  const unique = [...new Set(ids)];
  const found = new Map<string, Entity>();
  for (const chunk of chunksOf(unique)) {
    const rows = await db
      .selectFrom('entities')
      .select(ENTITY_COLUMNS)
      .where('campaign_id', '=', campaignId)
      .where('id', '=', sql<string>`any(${chunk}::text[])`)
      .execute();
    for (const row of rows) found.set(row.id, toEntity(row));
  }
  return unique.flatMap((id) => found.get(id) ?? []);
}

export async function findEntity(
  db: Kysely<Database>,
  campaignId: string,
  id: string,
): Promise<Entity | undefined> {
  const row = await db
    .selectFrom('entities')
    .select(ENTITY_COLUMNS)
    .where('campaign_id', '=', campaignId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toEntity(row);
}
