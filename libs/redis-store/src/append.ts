import type { Redis } from 'ioredis';
import type { Entity } from '@lorekeeper/domain';
import { callFunction } from './functions';
import { campaignKeys } from './keys';
import { streamEventJson } from './stream';

/** One entity a batch reads or writes, with the token it was validated against. */
export interface EntityWrite {
  readonly entityId: string;
  readonly transient: boolean;
  readonly expectedToken: string;
  /** The token after the batch; equal to `expectedToken` for an entity only checked, not written. */
  readonly newToken: string;
  /** The value after the batch; null once destroyed (a tombstone). */
  readonly entity: Entity | null;
  /** `entity` as JSON, when the caller already has it (saves encoding it again). */
  readonly json?: string;
  /**
   * When `expectedToken` is a prediction (the caller's own commit that writes it is not answered
   * yet), the entity JSON that commit writes: this commit then holds only if Redis has exactly that
   * JSON too, not just the token, which another writer could have reached from other content.
   */
  readonly predictedJson?: string;
}

/** One event as it goes into the stream. */
export interface EventWrite {
  readonly type: string;
  readonly entityId: string;
  readonly version: number;
  readonly data: unknown;
  readonly meta: unknown;
}

export interface BatchCommit {
  readonly sessionId: string;
  readonly idempotencyKey?: string | undefined;
  readonly idempotencyTtlSeconds: number;
  /** What a replay of this idempotency key needs besides the first seq (caller's own encoding). */
  readonly replayRecord: string;
  readonly transientTtlSeconds: number;
  readonly entities: readonly EntityWrite[];
  readonly events: readonly EventWrite[];
  /**
   * The lowest seq counter the caller knows the campaign reached (0: unknown). A counter below it
   * means Redis came back older than what it already handed out: nothing is written (`stale`).
   */
  readonly seqFloor?: number;
}

export type CommitOutcome =
  | { readonly kind: 'ok'; readonly firstSeq: number }
  | { readonly kind: 'replay'; readonly firstSeq: number; readonly replayRecord: string }
  | { readonly kind: 'error'; readonly code: 'SESSION_NOT_FOUND' | 'SESSION_CLOSING' }
  | { readonly kind: 'cas'; readonly entityId: string; readonly found: string }
  | { readonly kind: 'stale'; readonly seq: number };

/**
 * Commit a validated batch with one Function call: session check, idempotency, compare-and-set of
 * every entity's token (and a predicted one's JSON), XADD of every event (stream layout 2: one `event` field), new states. All of it
 * happens, or none.
 */
export async function commitBatch(
  redis: Redis,
  campaignId: string,
  batch: BatchCommit,
): Promise<CommitOutcome> {
  const keys = campaignKeys(campaignId);
  const transientKeys: string[] = [];
  const args: (string | number)[] = [
    batch.sessionId,
    batch.idempotencyKey ?? '',
    batch.idempotencyTtlSeconds,
    batch.replayRecord,
    batch.transientTtlSeconds,
    batch.entities.length,
  ];
  for (const write of batch.entities) {
    let index = 0;
    if (write.transient) {
      transientKeys.push(keys.transient(write.entityId));
      index = transientKeys.length;
    }
    const unchanged = write.newToken === write.expectedToken;
    args.push(
      write.entityId,
      index,
      write.expectedToken,
      unchanged ? '' : write.newToken,
      write.entity === null || unchanged ? '' : (write.json ?? JSON.stringify(write.entity)),
      write.predictedJson ?? '',
    );
  }
  args.push(batch.events.length);
  // A batch's events share one meta object: encode it once.
  let meta: unknown;
  let metaJson = '';
  for (const event of batch.events) {
    if (event.meta !== meta || metaJson === '') {
      meta = event.meta;
      metaJson = JSON.stringify(event.meta);
    }
    args.push(streamEventJson(event, metaJson));
  }
  args.push(batch.seqFloor ?? 0);
  const reply = (await callFunction(
    redis,
    'lk_append_v3',
    [...appendKeys(campaignId), ...transientKeys],
    args,
  )) as [string, string | number, string?];

  switch (reply[0]) {
    case 'ok':
      return { kind: 'ok', firstSeq: Number(reply[1]) };
    case 'replay': {
      const stored = String(reply[1]);
      const newline = stored.indexOf('\n');
      return {
        kind: 'replay',
        firstSeq: Number(stored.slice(0, newline)),
        replayRecord: stored.slice(newline + 1),
      };
    }
    case 'error':
      return {
        kind: 'error',
        code: reply[1] === 'SESSION_CLOSING' ? 'SESSION_CLOSING' : 'SESSION_NOT_FOUND',
      };
    case 'stale':
      return { kind: 'stale', seq: Number(reply[1]) };
    default:
      return { kind: 'cas', entityId: String(reply[1]), found: String(reply[2] ?? '') };
  }
}

/** The keys lk_append, lk_append_v2 and lk_append_v3 take before the transient entities' hashes (KEYS[1..7]). */
export function appendKeys(campaignId: string): string[] {
  const keys = campaignKeys(campaignId);
  return [
    keys.session,
    keys.events,
    keys.seq,
    keys.versions,
    keys.entities,
    keys.idempotency,
    keys.transientIndex,
  ];
}

/** The stored outcome of an earlier append with this idempotency key, if any. */
export async function readIdempotentAppend(
  redis: Redis,
  campaignId: string,
  idempotencyKey: string,
): Promise<{ firstSeq: number; replayRecord: string } | undefined> {
  const stored = await redis.hget(campaignKeys(campaignId).idempotency, idempotencyKey);
  if (stored === null) return undefined;
  const newline = stored.indexOf('\n');
  return { firstSeq: Number(stored.slice(0, newline)), replayRecord: stored.slice(newline + 1) };
}
