import type { EncodedEntity, Entity } from '@lorekeeper/domain';
import { encodedEntity } from '@lorekeeper/domain';
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import { sql } from 'kysely';

export interface EntityTable {
  campaign_id: string;
  id: string;
  kind: string;
  /** The registry's regionOf(state): where the entity stands, for the selective-loading index. */
  region_id: string | null;
  /** The registry's ownerOf(state): who holds it (an item's holder, a quest's player). */
  owner_id: string | null;
  version: number;
  /** Read as parsed JSON; written as JSON text. */
  state: ColumnType<unknown, string, string>;
  updated_at: Generated<Date>;
}

export type EntityRow = Selectable<EntityTable>;
export type NewEntityRow = Insertable<EntityTable>;

/** The columns that make up an Entity, for selects that map rows at the edge. */
export const ENTITY_COLUMNS = ['id', 'kind', 'version', 'state'] as const;

export function toEntity(row: Pick<EntityRow, (typeof ENTITY_COLUMNS)[number]>): Entity {
  return { id: row.id, kind: row.kind, version: row.version, state: row.state };
}

/** The state as Postgres prints it, for selects that hand entities on as JSON (toEncodedEntity). */
export const STATE_JSON = sql<string>`state::text`.as('state_json');

export function toEncodedEntity(row: {
  readonly id: string;
  readonly kind: string;
  readonly version: number;
  readonly state_json: string;
}): EncodedEntity {
  return encodedEntity(row.id, row.kind, row.version, row.state_json);
}
