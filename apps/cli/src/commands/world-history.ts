import type { Entity, WorldDocument } from '@lorekeeper/domain';
import { isLorekeeperError } from '@lorekeeper/domain';
import type { ArchivedEvent } from '@lorekeeper/pg-store';
import type { EntityMismatch } from '@lorekeeper/replay';
import { applyArchived, compareStates } from '@lorekeeper/replay';
import { invalid } from './import-refusal';
import { CREATED_FILE, EVENTS_FILE, WORLD_FILE, parseEventLine } from './world-file';

/**
 * The events of events.jsonl, checked line by line: each one an event, seqs rising, none past the
 * checkpoint. Seqs may skip: transient events are never archived. Throws an `invalid` ImportRefusedError.
 */
export async function* eventsIn(
  lines: AsyncIterable<string>,
  checkpointSeq: number,
): AsyncGenerator<ArchivedEvent> {
  let lineNumber = 0;
  let previousSeq = 0;
  for await (const line of lines) {
    lineNumber += 1;
    const at = `${EVENTS_FILE} line ${lineNumber}`;
    const event = parseEventLine(line);
    if (typeof event === 'string') throw invalid(`${at}: ${event}`);
    if (event.seq <= previousSeq)
      throw invalid(`${at}: seq ${event.seq} does not come after seq ${previousSeq}`);
    if (event.seq > checkpointSeq)
      throw invalid(`${at}: seq ${event.seq} is past the checkpoint, seq ${checkpointSeq}`);
    previousSeq = event.seq;
    yield event;
  }
}

/**
 * Check that the export tells one story: folding its events over the created world with the services'
 * own fold (checking each recorded version) gives exactly the world at the checkpoint. Returns the number
 * of events folded; throws an `invalid` ImportRefusedError naming the first event that does not apply or
 * the entities that differ.
 */
export async function checkHistory(
  created: WorldDocument,
  world: WorldDocument,
  events: AsyncIterable<ArchivedEvent>,
  onEvent: (folded: number) => void = () => {},
): Promise<number> {
  const state = byId(created.entities);
  let folded = 0;
  for await (const event of events) {
    try {
      applyArchived(state, event);
    } catch (error) {
      if (!isLorekeeperError(error)) throw error;
      throw invalid(`${EVENTS_FILE} does not fold over ${CREATED_FILE}: ${error.message}`);
    }
    folded += 1;
    onEvent(folded);
  }
  const mismatches = compareStates(state, byId(world.entities));
  if (mismatches.length > 0) {
    const problems = mismatches.map(describeMismatch);
    throw invalid(
      `folding ${EVENTS_FILE} over ${CREATED_FILE} does not give ${WORLD_FILE}: ` +
        `${mismatches.length} entities differ (${problems.slice(0, 3).join('; ')})`,
      problems,
    );
  }
  return folded;
}

function byId(entities: readonly Entity[]): Map<string, Entity> {
  return new Map(entities.map((entity) => [entity.id, entity]));
}

function describeMismatch(mismatch: EntityMismatch): string {
  if (mismatch.problem === 'missing') return `${mismatch.entityId} is missing from ${WORLD_FILE}`;
  if (mismatch.problem === 'unexpected')
    return `${mismatch.entityId} is in ${WORLD_FILE} but not in the fold`;
  const fields = mismatch.changes.map(
    (c) => `${c.field} ${JSON.stringify(c.before)} in ${WORLD_FILE}, ${JSON.stringify(c.after)} by the fold`,
  );
  return `${mismatch.entityId}: ${fields.join(', ')}`;
}
