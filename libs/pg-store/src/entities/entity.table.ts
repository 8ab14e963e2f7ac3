import type { Entity } from '@lorekeeper/domain';
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

/**
 * The whole entity as JSON, printed by Postgres, for selects that hand entities on as EncodedEntity
 * (with id, kind and version beside it): encodeEntity's fields in encodeEntity's order, the state as
 * Postgres prints jsonb (with spaces; it parses to the same entity). Built here rather than in
 * JavaScript from the state's text: a session start's 20,000 concatenated strings cost the session
 * service about a fifth of its CPU for the start, most of it in writing them to Redis
 * (docs/architecture.md, "Session start").
 */
export const ENTITY_JSON =
  sql<string>`concat('{"id":', to_json(id), ',"kind":', to_json(kind), ',"version":', version, ',"state":', state, '}')`.as(
    'json',
  );
