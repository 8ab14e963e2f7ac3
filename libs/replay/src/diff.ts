import type { Entity } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import type { Kysely } from 'kysely';
import type { FieldChange } from './compare';
import { fieldChanges } from './compare';
import { readLog } from './log';
import type { StateAt, StateOptions } from './state';
import { stateAt } from './state';

export interface EntityChange {
  readonly entityId: string;
  readonly kind: string;
  readonly change: 'created' | 'destroyed' | 'changed';
  readonly transient: boolean;
  readonly fields: readonly FieldChange[];
  /** The events between the two points that touched it, oldest first. */
  readonly events: readonly { readonly seq: number; readonly type: string }[];
}

export interface StateDiff {
  readonly campaignId: string;
  readonly from: StateAt;
  readonly to: StateAt;
  readonly changes: readonly EntityChange[];
}

/** Which entities changed between two points of the log, field by field, and which events did it. */
export async function diffStates(
  db: Kysely<Database>,
  campaignId: string,
  fromSeq: number,
  toSeq: number,
  options: StateOptions = {},
): Promise<StateDiff> {
  const from = await stateAt(db, campaignId, fromSeq, options);
  const to = await stateAt(db, campaignId, toSeq, options);
  const touched = new Map<string, { seq: number; type: string }[]>();
  for await (const page of readLog(db, options.redis, campaignId, fromSeq + 1, toSeq, options)) {
    for (const event of page) {
      if (options.entityId !== undefined && event.entityId !== options.entityId) continue;
      const list = touched.get(event.entityId) ?? [];
      list.push({ seq: event.seq, type: event.type });
      touched.set(event.entityId, list);
    }
  }
  const before = byId(from);
  const after = byId(to);
  const changes: EntityChange[] = [];
  for (const id of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const a = before.get(id);
    const b = after.get(id);
    const fields = fieldChanges(a?.entity, b?.entity);
    if (fields.length === 0) continue;
    const entity = (b ?? a) as { entity: Entity; transient: boolean };
    changes.push({
      entityId: id,
      kind: entity.entity.kind,
      change: !a ? 'created' : !b ? 'destroyed' : 'changed',
      transient: entity.transient,
      fields,
      events: touched.get(id) ?? [],
    });
  }
  return { campaignId, from, to, changes };
}

function byId(state: StateAt): Map<string, StateAt['entities'][number]> {
  return new Map(state.entities.map((e) => [e.entity.id, e]));
}
