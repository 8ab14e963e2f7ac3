import { z } from 'zod';
import type { Entity } from './entity';
import { badRequest } from './errors';
import { CAMPAIGN_ID_PATTERN, ENTITY_ID_PATTERN, WORLD_ID, kindOf } from './ids';
import { referenceRegistry } from './reference/catalogue';
import type { DomainRegistry } from './registry';
import { describeIssues, jsonProblem, name } from './schema';

export const WORLD_FORMAT = 'lorekeeper.world/1';

/** A campaign's state as a portable document (PROTOCOL.md, "World document"). */
export interface WorldDocument {
  readonly format: typeof WORLD_FORMAT;
  readonly campaignId: string;
  readonly name: string;
  readonly seq: number;
  readonly entities: readonly Entity[];
}

const header = z.strictObject({
  format: z.literal(WORLD_FORMAT),
  campaignId: z.string().regex(CAMPAIGN_ID_PATTERN, 'must match ^[A-Za-z0-9_-]{1,64}$'),
  name,
  seq: z.int().nonnegative(),
  entities: z.array(z.unknown()),
});

const entityShape = z.strictObject({
  id: z.string().regex(ENTITY_ID_PATTERN, 'must be an entity id such as player:alice'),
  kind: z.string(),
  version: z.int().nonnegative(),
  state: z.unknown(),
});

/** The world entity every campaign has; added when a document leaves it out. */
export const EMPTY_WORLD: Entity = { id: WORLD_ID, kind: 'world', version: 0, state: { flags: {} } };

/**
 * Validate a world document, collecting every problem (unknown kind, duplicate id, dangling reference,
 * bad state shape) rather than stopping at the first. Throws one BAD_REQUEST whose `details.problems`
 * lists them all. A document without a `world` entity gets an empty one.
 */
export function parseWorldDocument(
  raw: unknown,
  registry: DomainRegistry = referenceRegistry,
): WorldDocument {
  const parsedHeader = header.safeParse(raw);
  const problems: string[] = parsedHeader.success ? [] : describeIssues(parsedHeader.error);
  // A bad header does not stop the entity checks: the author gets every problem in one reply.
  const rawEntities = parsedHeader.success ? parsedHeader.data.entities : entitiesIn(raw);
  if (rawEntities === undefined) {
    throw badRequest(`world document is malformed: ${summarise(problems)}`, { problems });
  }
  const entities: Entity[] = [];
  const firstIndexById = new Map<string, number>();

  rawEntities.forEach((rawEntity, index) => {
    const at = `entities.${index}`;
    const shape = entityShape.safeParse(rawEntity);
    if (!shape.success) {
      problems.push(...describeIssues(shape.error, at));
      return;
    }
    const { id, kind, version, state } = shape.data;
    const where = `${at} (${id})`;
    const definition = registry.kind(kind);
    if (!definition) {
      problems.push(`${where}: unknown kind "${kind}"; known kinds are ${registry.kindNames().join(', ')}`);
      return;
    }
    if (definition.persistence === 'transient') {
      problems.push(`${where}: ${kind} is transient and cannot be part of a world document`);
      return;
    }
    if (kindOf(id) !== kind) problems.push(`${where}: id names a ${kindOf(id)} but kind is "${kind}"`);
    const earlier = firstIndexById.get(id);
    if (earlier !== undefined) {
      problems.push(`${where}: duplicate id, first used by entities.${earlier}`);
      return;
    }
    firstIndexById.set(id, index);
    const hostile = jsonProblem(state);
    if (hostile) {
      problems.push(`${where}.state: ${hostile}`);
      return;
    }
    const parsedState = definition.state.safeParse(state);
    if (!parsedState.success) {
      problems.push(...describeIssues(parsedState.error, `${where}.state`));
      return;
    }
    entities.push({ id, kind, version, state: parsedState.data });
  });

  const kindById = new Map(entities.map((entity) => [entity.id, entity.kind]));
  for (const entity of entities) {
    const definition = registry.kind(entity.kind);
    for (const reference of definition?.references(entity.state) ?? []) {
      const found = kindById.get(reference.id);
      const where = `entities.${firstIndexById.get(entity.id)} (${entity.id}).state.${reference.field}`;
      if (found === undefined) {
        problems.push(`${where}: dangling reference to ${reference.id}`);
      } else if (reference.kinds.length > 0 && !reference.kinds.includes(found)) {
        problems.push(`${where}: ${reference.id} is a ${found}, expected a ${reference.kinds.join(' or ')}`);
      }
    }
  }

  if (problems.length > 0 || !parsedHeader.success) {
    throw badRequest(`world document has ${problems.length} problem(s): ${summarise(problems)}`, {
      problems,
    });
  }
  if (!kindById.has(WORLD_ID)) entities.unshift(EMPTY_WORLD);
  return { ...parsedHeader.data, format: WORLD_FORMAT, entities };
}

function entitiesIn(raw: unknown): readonly unknown[] | undefined {
  const entities: unknown =
    typeof raw === 'object' && raw !== null ? (raw as { entities?: unknown }).entities : undefined;
  return Array.isArray(entities) ? entities : undefined;
}

function summarise(problems: readonly string[]): string {
  const shown = problems.slice(0, 5).join('; ');
  return problems.length > 5 ? `${shown}; and ${problems.length - 5} more` : shown;
}
