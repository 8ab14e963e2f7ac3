import type { Entity } from '@lorekeeper/domain';

/**
 * JSON with object keys sorted, so two values compare equal whatever order their keys came in (Postgres
 * jsonb reorders keys; Redis keeps the order they were written in).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** One field that differs: `version`, or a top-level field of the state such as `gold`. */
export interface FieldChange {
  readonly field: string;
  readonly before: unknown;
  readonly after: unknown;
}

/**
 * How an entity differs between two points: its version and each top-level state field whose value
 * changed (an absent side reads as undefined). Empty when the two are the same.
 */
export function fieldChanges(before: Entity | undefined, after: Entity | undefined): FieldChange[] {
  const changes: FieldChange[] = [];
  if (before?.version !== after?.version)
    changes.push({ field: 'version', before: before?.version, after: after?.version });
  const beforeState = asRecord(before?.state);
  const afterState = asRecord(after?.state);
  const fields = new Set([...Object.keys(beforeState), ...Object.keys(afterState)]);
  for (const field of [...fields].sort()) {
    if (!sameJson(beforeState[field], afterState[field]))
      changes.push({ field: `state.${field}`, before: beforeState[field], after: afterState[field] });
  }
  if (before?.kind !== after?.kind && before && after)
    changes.push({ field: 'kind', before: before.kind, after: after.kind });
  return changes;
}

function asRecord(state: unknown): Record<string, unknown> {
  return state !== null && typeof state === 'object' && !Array.isArray(state)
    ? (state as Record<string, unknown>)
    : {};
}

/** Why an entity of a store disagrees with the fold of the log. */
export type MismatchProblem = 'missing' | 'unexpected' | 'different';

export interface EntityMismatch {
  readonly entityId: string;
  /** missing: the fold has it and the store does not; unexpected: the reverse; different: both, unequal. */
  readonly problem: MismatchProblem;
  /** What the store should hold (the fold's value), field by field against what it does hold. */
  readonly changes: readonly FieldChange[];
}

/**
 * Compare what the log says (`expected`) with what a store holds (`actual`), entity by entity, in id
 * order. Only the ids `scope` accepts are compared (all when omitted).
 */
export function compareStates(
  expected: ReadonlyMap<string, Entity>,
  actual: ReadonlyMap<string, Entity>,
  scope: (id: string) => boolean = () => true,
): EntityMismatch[] {
  const ids = new Set([...expected.keys(), ...actual.keys()]);
  const mismatches: EntityMismatch[] = [];
  for (const id of [...ids].sort()) {
    if (!scope(id)) continue;
    const want = expected.get(id);
    const have = actual.get(id);
    if (
      want &&
      have &&
      want.version === have.version &&
      want.kind === have.kind &&
      sameJson(want.state, have.state)
    )
      continue;
    const problem: MismatchProblem = !have ? 'missing' : !want ? 'unexpected' : 'different';
    // Changes read "from what the store holds to what it should hold".
    mismatches.push({ entityId: id, problem, changes: fieldChanges(have, want) });
  }
  return mismatches;
}
