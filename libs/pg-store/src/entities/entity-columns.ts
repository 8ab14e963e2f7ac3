import type { DomainRegistry, Entity } from '@lorekeeper/domain';
import { badRequest } from '@lorekeeper/domain';

/** A batch of entities turned inside out: one array per column, the shape an UNNEST insert takes. */
export interface EntityColumns {
  readonly ids: string[];
  readonly kinds: string[];
  readonly regionIds: (string | null)[];
  readonly ownerIds: (string | null)[];
  readonly versions: number[];
  /** JSON text, cast to jsonb in SQL. */
  readonly states: string[];
}

/**
 * Columns for a batch, deriving region_id and owner_id from each state with the registry (the same
 * regionOf/ownerOf the domain's loading rule uses). Refuses kinds the registry does not know and transient
 * kinds, which never reach Postgres (DESIGN.md, invariant 5).
 */
export function entityColumns(entities: readonly Entity[], registry: DomainRegistry): EntityColumns {
  const columns: EntityColumns = {
    ids: [],
    kinds: [],
    regionIds: [],
    ownerIds: [],
    versions: [],
    states: [],
  };
  for (const entity of entities) {
    const definition = registry.kind(entity.kind);
    if (!definition) {
      throw badRequest(
        `${entity.id} has unknown kind "${entity.kind}"; known kinds are ${registry.kindNames().join(', ')}`,
        {
          entityId: entity.id,
        },
      );
    }
    if (definition.persistence === 'transient') {
      throw badRequest(`${entity.id} is a transient ${entity.kind} and is never written to Postgres`, {
        entityId: entity.id,
      });
    }
    columns.ids.push(entity.id);
    columns.kinds.push(entity.kind);
    columns.regionIds.push(definition.regionOf(entity.state));
    columns.ownerIds.push(definition.ownerOf(entity.state));
    columns.versions.push(entity.version);
    columns.states.push(JSON.stringify(entity.state));
  }
  return columns;
}
