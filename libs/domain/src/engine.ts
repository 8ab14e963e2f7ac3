import { z } from 'zod';
import type { DomainEvent, Entity, Lookup } from './entity';
import { LorekeeperError, badRequest, unknownEntity, validationFailed } from './errors';
import { ENTITY_ID_PATTERN, kindOf } from './ids';
import { referenceRegistry } from './reference/catalogue';
import type { DomainRegistry, EventDefinition } from './registry';
import { describeIssues, jsonProblem } from './schema';

const eventEnvelope = z.strictObject({
  type: z.string().min(1).max(128),
  entityId: z.string().max(200),
  data: z.record(z.string(), z.unknown()),
  expectedVersion: z.int().nonnegative().optional(),
});

/**
 * Check an event as submitted: envelope, known type, entity id of the right kind, strict data.
 * Throws BAD_REQUEST or UNKNOWN_EVENT_TYPE naming the field (`events.3.data.delta: ...`).
 */
export function parseEvent(
  raw: unknown,
  registry: DomainRegistry = referenceRegistry,
  at = 'event',
): DomainEvent {
  // Zod drops an own `__proto__` key (as JSON.parse creates) instead of refusing it; catch it first.
  const hostile = jsonProblem(raw);
  if (hostile) throw badRequest(`${at} is not acceptable: ${hostile}`, { problems: [`${at}: ${hostile}`] });
  const envelope = eventEnvelope.safeParse(raw);
  if (!envelope.success) {
    throw badRequest(`${at} is malformed: ${describeIssues(envelope.error, at).join('; ')}`, {
      problems: describeIssues(envelope.error, at),
    });
  }
  const { type, entityId, data, expectedVersion } = envelope.data;
  const definition = registry.event(type);
  if (!definition) {
    throw new LorekeeperError('UNKNOWN_EVENT_TYPE', `${at}.type "${type}" is not in the event catalogue`, {
      type,
    });
  }
  if (!ENTITY_ID_PATTERN.test(entityId)) {
    throw badRequest(`${at}.entityId "${entityId}" is not an entity id such as player:alice`, { entityId });
  }
  if (kindOf(entityId) !== definition.entityKind) {
    throw badRequest(
      `${at}: ${type} applies to a ${definition.entityKind}, but ${entityId} is a ${kindOf(entityId)}`,
      { type, entityId, expectedKind: definition.entityKind },
    );
  }
  const parsed = definition.data.safeParse(data);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error, `${at}.data`);
    throw badRequest(`${at} (${type}) has invalid data: ${problems.join('; ')}`, { problems });
  }
  return expectedVersion === undefined
    ? { type, entityId, data: parsed.data }
    : { type, entityId, data: parsed.data, expectedVersion };
}

/** The definition of a parsed event's type; throws for a type the registry does not know. */
export function definitionOf(
  event: DomainEvent,
  registry: DomainRegistry = referenceRegistry,
): EventDefinition {
  const definition = registry.event(event.type);
  if (!definition) {
    throw new LorekeeperError(
      'UNKNOWN_EVENT_TYPE',
      `event type "${event.type}" is not in the event catalogue`,
    );
  }
  return definition;
}

/** The ids an event's data refers to, with the kinds each may be. */
export function referencesOf(event: DomainEvent, registry: DomainRegistry = referenceRegistry) {
  return definitionOf(event, registry).references(event.data);
}

/**
 * Every id inside the event's data must name an existing entity of an allowed kind. The caller supplies
 * the look-up, so the same rule runs against Redis, Postgres or a map in a test.
 */
export function checkReferences(
  event: DomainEvent,
  lookup: Lookup,
  registry: DomainRegistry = referenceRegistry,
): void {
  for (const reference of referencesOf(event, registry)) {
    const found = lookup(reference.id);
    if (!found) throw unknownEntity(reference.id, `data.${reference.field} of ${event.type}:`);
    if (reference.kinds.length > 0 && !reference.kinds.includes(found.kind)) {
      throw validationFailed(
        `data.${reference.field} of ${event.type} must be a ${reference.kinds.join(' or ')}, found ${found.kind} ${found.id}`,
      );
    }
  }
}

/** The version an entity has after one more event. */
export function nextVersion(entity: Entity | undefined): number {
  return (entity?.version ?? 0) + 1;
}

/**
 * Apply one event to its entity: the only definition of what an event does (DESIGN.md, invariant 1).
 * `entity` is the target's current value (undefined when it does not exist). Returns the new entity,
 * or null when the event destroys it. Throws UNKNOWN_ENTITY, VALIDATION_FAILED or VERSION_CONFLICT.
 * Pure: the same inputs always give the same output.
 */
export function evolve(
  entity: Entity | undefined,
  event: DomainEvent,
  registry: DomainRegistry = referenceRegistry,
): Entity | null {
  const definition = definitionOf(event, registry);
  if (event.expectedVersion !== undefined && event.expectedVersion !== (entity?.version ?? 0)) {
    throw new LorekeeperError(
      'VERSION_CONFLICT',
      `${event.entityId} expected version ${event.expectedVersion}, found ${entity?.version ?? 0}`,
      {
        entityId: event.entityId,
        expectedVersion: event.expectedVersion,
        actualVersion: entity?.version ?? 0,
      },
    );
  }
  if (definition.lifecycle === 'create') {
    if (entity) {
      throw validationFailed(`${event.type} creates ${event.entityId}, but it already exists`, {
        entityId: event.entityId,
      });
    }
  } else if (!entity) {
    throw unknownEntity(event.entityId, `target of ${event.type}:`);
  }
  const state = definition.evolve(entity?.state, event.data, event.entityId);
  if (definition.lifecycle === 'destroy') return null;
  return { id: event.entityId, kind: definition.entityKind, version: nextVersion(entity), state };
}

/**
 * Fold events onto a set of entities, returning a new map (the input is not changed). Throws on the
 * first event that does not apply; the events here were validated when appended, so a throw means the
 * log and the starting state disagree.
 */
export function fold(
  entities: ReadonlyMap<string, Entity>,
  events: Iterable<DomainEvent>,
  registry: DomainRegistry = referenceRegistry,
): Map<string, Entity> {
  const result = new Map(entities);
  for (const event of events) {
    const next = evolve(result.get(event.entityId), event, registry);
    if (next) result.set(event.entityId, next);
    else result.delete(event.entityId);
  }
  return result;
}
