import type { SyncTrigger } from '@lorekeeper/pg-store';
import type { StreamEvent } from '@lorekeeper/redis-store';

/** What a consumer knows when it decides whether a save point is due (DESIGN.md, "Save points"). */
export interface SavePointState {
  /** A save, session end or major event asked for by the session service. */
  readonly requested: SyncTrigger | undefined;
  /** The last read came back short: the consumer has folded up to the stream's head. */
  readonly caughtUp: boolean;
  readonly backlog: { readonly events: number; readonly bytes: number };
  readonly bound: { readonly events: number; readonly bytes: number };
  readonly msSinceLastFlush: number;
  readonly autosaveIntervalMs: number;
  /** A major event whose append may still be waiting was folded since the last flush. */
  readonly majorSeen: boolean;
}

/**
 * The save point due now, if any. A flush that writes the entities comes first: it reaches the head, so
 * it covers a waiting major event too. Put after the major events' archive-only flushes, it never came
 * while quests were completed every few dozen events, and the stream (trimmed only behind the
 * checkpoint) kept growing (`major-backlog.e2e.spec.ts`).
 */
export function dueSavePoint(state: SavePointState): SyncTrigger | undefined {
  const { requested, caughtUp, backlog, bound } = state;
  if (requested && caughtUp && requested !== 'major') return requested;
  if (backlog.events >= bound.events || backlog.bytes >= bound.bytes) return 'backlog';
  if (state.msSinceLastFlush >= state.autosaveIntervalMs) return 'autosave';
  if (state.majorSeen || (requested === 'major' && caughtUp)) return 'major';
  return undefined;
}

/**
 * True for a major event (as `isMajor` says) whose append may still be waiting for it to be durable:
 * such an event forces a flush. One committed more than twice DURABLE_WAIT_MS ago (twice: slack for
 * the clocks of two hosts) has had its reply already, `durable: false`; met while catching up a
 * backlog, it is flushed with the backlog instead, so a backlog full of quest completions coalesces
 * into few large flushes rather than one per read.
 */
export function awaitedMajor(
  isMajor: boolean,
  event: StreamEvent,
  now: number,
  durableWaitMs: number,
): boolean {
  if (!isMajor) return false;
  const age = now - Date.parse(event.meta.at);
  return !(age > 2 * durableWaitMs);
}
