// `expect` is jest's global: this module loads outside jest (benchmarks import the testing lib) and only
// asserts when a test calls it.
import type { DomainRegistry, Entity, ErrorCode, WorldDocument } from '@lorekeeper/domain';
import { LorekeeperError, checkReferences, evolve, parseEvent, referenceRegistry } from '@lorekeeper/domain';

/** What a test starts from: entities, a world document, or entities by id. */
export type Givens = readonly Entity[] | WorldDocument | ReadonlyMap<string, Entity>;

/** A partial entity that then() matches (`{ version: 2, state: { gold: 15 } }`); null means "gone". */
export interface ExpectedEntity {
  readonly kind?: string;
  readonly version?: number;
  readonly state?: Readonly<Record<string, unknown>>;
}

export type Expectations = Readonly<Record<string, ExpectedEntity | null>> | readonly Entity[];

/**
 * Apply events as submitted, the way an append does: parse each one, check its references against the
 * entities so far (earlier events of the batch included), then evolve its entity. Throws on the first
 * event that does not apply.
 */
export function applyEvents(
  entities: ReadonlyMap<string, Entity>,
  rawEvents: readonly unknown[],
  registry: DomainRegistry = referenceRegistry,
): Map<string, Entity> {
  const result = new Map(entities);
  rawEvents.forEach((raw, index) => {
    const event = parseEvent(raw, registry, `events.${index}`);
    checkReferences(event, (id) => result.get(id), registry);
    const next = evolve(result.get(event.entityId), event, registry);
    if (next) result.set(event.entityId, next);
    else result.delete(event.entityId);
  });
  return result;
}

/**
 * given(entities).when(event or batch).then(expected) or .thenThrows(code, message?), after emmett's
 * deciderSpecification. The givens are deep-frozen copies, so an evolve that mutates its input fails.
 * `expected` maps ids to partial entities (null: gone) or lists whole entities.
 */
export function given(givens: Givens, options: { readonly registry?: DomainRegistry } = {}) {
  const registry = options.registry ?? referenceRegistry;
  const start = frozenCopy(givens);
  return {
    when(events: unknown) {
      const run = () => applyEvents(start, Array.isArray(events) ? events : [events], registry);
      return {
        then(expected: Expectations): Map<string, Entity> {
          const named: Readonly<Record<string, unknown>> = isEntityList(expected)
            ? Object.fromEntries(expected.map((entity) => [entity.id, entity]))
            : expected;
          const result = run();
          expect(pick(result, Object.keys(named))).toMatchObject(named);
          const others = new Set(
            [...start.keys(), ...result.keys()].filter((id) => !Object.hasOwn(named, id)),
          );
          // Every entity then() does not name must be exactly as given: a test states each change.
          expect(pick(result, others)).toEqual(pick(start, others));
          return result;
        },
        thenThrows(code: ErrorCode, message?: RegExp | string): LorekeeperError {
          let thrown: unknown;
          try {
            run();
          } catch (error) {
            thrown = error;
          }
          if (!(thrown instanceof LorekeeperError)) {
            throw new Error(`expected a ${code} LorekeeperError, but ${whatHappened(thrown)}`);
          }
          expect({ code: thrown.code, message: thrown.message }).toMatchObject({
            code,
            message: messageLike(message),
          });
          return thrown;
        },
      };
    },
  };
}

function frozenCopy(givens: Givens): ReadonlyMap<string, Entity> {
  const list: readonly Entity[] =
    'entities' in givens ? givens.entities : 'get' in givens ? [...givens.values()] : givens;
  return new Map(list.map((entity: Entity) => [entity.id, frozenClone(entity)]));
}

/** A string is a part the message must contain; a RegExp is matched as is. */
function messageLike(message: RegExp | string | undefined) {
  if (message === undefined) return expect.any(String);
  return typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message);
}

function isEntityList(expected: Expectations): expected is readonly Entity[] {
  return Array.isArray(expected);
}

function pick(entities: ReadonlyMap<string, Entity>, ids: Iterable<string>): Record<string, Entity | null> {
  return Object.fromEntries([...ids].map((id) => [id, entities.get(id) ?? null]));
}

function frozenClone<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const copy: unknown = Array.isArray(value)
    ? value.map((item: unknown) => frozenClone(item))
    : Object.fromEntries(Object.entries(value).map(([key, item]) => [key, frozenClone(item)]));
  return Object.freeze(copy) as T;
}

function whatHappened(thrown: unknown): string {
  if (thrown === undefined) return 'the events applied';
  return `it threw ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : JSON.stringify(thrown)}`;
}
