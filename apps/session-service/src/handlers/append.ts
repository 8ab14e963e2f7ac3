import { randomUUID } from 'node:crypto';
import type { DomainEvent, EventMeta } from '@lorekeeper/domain';
import { LorekeeperError, encodeEntity, neighbourhood, parseEvent, referencesOf } from '@lorekeeper/domain';
import { loadRegionContents, readPosition } from '@lorekeeper/pg-store';
import type { AppendReply, AppendRequest, EventsNotification, FlushRequest } from '@lorekeeper/protocol';
import { eventsSubject, flushRequestSubject } from '@lorekeeper/protocol';
import {
  type BatchCommit,
  type CommitOutcome,
  commitBatch,
  deleteCampaignKeys,
  loadLiveEntities,
  readIdempotentAppend,
  readSession,
  streamIdOf,
} from '@lorekeeper/redis-store';
import type { SessionDeps } from '../deps';
import type { CachedEntity } from '../live-cache';
import type { PreparedBatch } from './prepare-batch';
import { prepareBatch } from './prepare-batch';

/** How long an idempotency key's reply is kept (PROTOCOL.md: at least the life of the session). */
export const IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;

interface ReplayRecord {
  /** [entityId, version] per event, in order. */
  readonly r: readonly (readonly [string, number])[];
  /** 1 when the batch held a major event. */
  readonly m: 0 | 1;
}

/**
 * `campaign.<id>.append`: validate a batch, commit it atomically, publish it to followers and, for a
 * major event, wait (bounded) until Postgres has it.
 */
export async function appendEvents(
  deps: SessionDeps,
  campaignId: string,
  request: AppendRequest,
  correlationId: string,
  replyBy?: number,
): Promise<AppendReply> {
  const events = parseBatch(deps, request.events);
  const meta: EventMeta = {
    sessionId: request.sessionId,
    batchId: randomUUID(),
    correlationId,
    at: deps.now().toISOString(),
  };
  // After the appends before it on the same entities (waiting outside the gate, so a waiting append
  // holds no slot an independent one could use), beside the campaign's other appends; after losing a
  // compare-and-set race to another instance, alone.
  const { casRetries } = deps.config.sessionService;
  const writes = [...new Set(events.map((event) => event.entityId))];
  const reads = events.flatMap((event) =>
    referencesOf(event, deps.registry).map((reference) => reference.id),
  );
  const committed =
    (await deps.entityOrder.run(campaignId, writes, reads, (sent) =>
      deps.appendGate.run(campaignId, 'shared', () =>
        commitWithRetries(deps, campaignId, request, events, meta, 1, sent),
      ),
    )) ??
    (await deps.appendGate.run(campaignId, 'exclusive', () =>
      commitWithRetries(deps, campaignId, request, events, meta, casRetries + 1),
    ));
  if (!committed) {
    throw new LorekeeperError(
      'UNAVAILABLE',
      `campaign ${campaignId} is too contended: gave up after ${casRetries + 1} attempts; nothing was applied, retry`,
    );
  }
  const lastSeq = committed.firstSeq + committed.record.r.length - 1;
  deps.seqFloors.raise(campaignId, lastSeq);

  if (committed.batch) {
    publish(deps, campaignId, committed.firstSeq, committed.batch);
    await makeNeighbourhoodsLive(deps, campaignId, request.sessionId, committed.batch);
    deps.metrics.eventsAppended.inc(committed.batch.events.length);
  }
  const durable =
    committed.record.m === 1 &&
    (await waitUntilDurable(deps, campaignId, request.sessionId, lastSeq, replyBy));
  return {
    seq: lastSeq,
    results: committed.record.r.map(([entityId, version], i) => ({
      id: streamIdOf(committed.firstSeq + i),
      seq: committed.firstSeq + i,
      entityId,
      version,
    })),
    durable,
  };
}

function parseBatch(deps: SessionDeps, rawEvents: readonly unknown[]): DomainEvent[] {
  const { maxEventsPerAppend, maxEventBytes } = deps.config.sessionService;
  if (rawEvents.length > maxEventsPerAppend) {
    throw new LorekeeperError(
      'PAYLOAD_TOO_LARGE',
      `an append holds at most ${maxEventsPerAppend} events, found ${rawEvents.length}`,
      { limit: maxEventsPerAppend, found: rawEvents.length },
    );
  }
  return rawEvents.map((raw, index) => {
    const bytes = Buffer.byteLength(JSON.stringify(raw));
    if (bytes > maxEventBytes) {
      throw new LorekeeperError(
        'PAYLOAD_TOO_LARGE',
        `events.${index} is ${bytes} bytes; an event holds at most ${maxEventBytes}`,
        { index, limit: maxEventBytes, found: bytes },
      );
    }
    return parseEvent(raw, deps.registry, `events.${index}`);
  });
}

interface Committed {
  readonly firstSeq: number;
  readonly record: ReplayRecord;
  /** The batch this request committed; absent when an earlier request with the same key did. */
  readonly batch?: PreparedBatch;
}

/**
 * Read, validate and commit, up to `attempts` times while another writer wins the compare-and-set.
 * Returns undefined when every attempt lost such a race (nothing was applied). `sent` is called as
 * soon as a commit is on its way to Redis (see commitPredicted).
 */
async function commitWithRetries(
  deps: SessionDeps,
  campaignId: string,
  request: AppendRequest,
  events: readonly DomainEvent[],
  meta: EventMeta,
  attempts: number,
  sent: () => void = () => undefined,
): Promise<Committed | undefined> {
  const { transientTtlSeconds } = deps.config.sessionService;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const batch = await prepareOrReplay(deps, campaignId, request, events, meta, attempt === 0);
    if ('firstSeq' in batch) return batch;
    const record: ReplayRecord = {
      r: batch.events.map((e) => [e.entityId, e.version] as const),
      m: batch.major ? 1 : 0,
    };
    const outcome = await commitPredicted(deps, campaignId, batch, sent, {
      sessionId: request.sessionId,
      idempotencyKey: request.idempotencyKey,
      idempotencyTtlSeconds: IDEMPOTENCY_TTL_SECONDS,
      replayRecord: JSON.stringify(record),
      transientTtlSeconds,
      entities: batch.writes,
      events: batch.events,
      seqFloor: deps.seqFloors.of(campaignId),
    });
    switch (outcome.kind) {
      case 'ok':
        return { firstSeq: outcome.firstSeq, record, batch };
      case 'replay':
        return { firstSeq: outcome.firstSeq, record: JSON.parse(outcome.replayRecord) as ReplayRecord };
      case 'error':
        throw new LorekeeperError(
          outcome.code,
          outcome.code === 'SESSION_CLOSING'
            ? `campaign ${campaignId} is ending its session; the append was not applied`
            : `session ${request.sessionId} is not the active session of campaign ${campaignId}`,
        );
      case 'stale':
        throw await reloadStaleCampaign(deps, campaignId, outcome.seq);
      case 'cas':
        // Another instance changed an entity between our read and the commit: read again.
        deps.metrics.casRetries.inc();
        deps.liveCache.forgetEntity(campaignId, outcome.entityId);
        deps.logger.debug({ campaignId, entityId: outcome.entityId, attempt }, 'compare-and-set retry');
        break;
    }
  }
  return undefined;
}

/**
 * Send a prepared batch's commit with its result already in the LiveCache as a prediction, then call
 * `sent`: the next append on these entities (EntityOrder) validates against the prediction and its
 * commit follows this one down the same Redis connection, which runs them in that order, instead of
 * waiting for this one's round trip. The prediction becomes fact when the commit holds and is
 * dropped when it does not; an append validated against it then fails its own compare-and-set (its
 * expected tokens and JSON were this commit's) and is prepared again from Redis.
 */
async function commitPredicted(
  deps: SessionDeps,
  campaignId: string,
  batch: PreparedBatch,
  sent: () => void,
  commit: BatchCommit,
): Promise<CommitOutcome> {
  const results = written(batch);
  deps.liveCache.predict(campaignId, commit.sessionId, results);
  let outcome: CommitOutcome | undefined;
  try {
    const reply = commitBatch(deps.redis, campaignId, commit);
    sent();
    outcome = await reply;
    return outcome;
  } finally {
    for (const [id, { token }] of results) {
      if (outcome?.kind === 'ok') deps.liveCache.confirm(campaignId, id, token);
      else deps.liveCache.forgetEntity(campaignId, id);
    }
  }
}

/** The entities a batch changes, as Redis holds them once its commit holds. */
function written(batch: PreparedBatch): [string, CachedEntity][] {
  return batch.writes
    .filter((write) => write.newToken !== write.expectedToken)
    .map((write) => {
      const json = write.entity ? (write.json ?? JSON.stringify(write.entity)) : '';
      return [
        write.entityId,
        {
          token: write.newToken,
          entity: write.entity ?? undefined,
          transient: write.transient,
          bytes: json.length,
          predicted: json,
        },
      ];
    });
}

/**
 * Validate the batch against the live state. A retried request must get its first reply, not a
 * validation error against the state it made: so when validation refuses a batch that carries an
 * idempotency key, the key's record is read, and an earlier reply wins. (A batch that validates needs
 * no read first: the Function checks the key atomically and answers with the earlier reply.)
 */
async function prepareOrReplay(
  deps: SessionDeps,
  campaignId: string,
  request: AppendRequest,
  events: readonly DomainEvent[],
  meta: EventMeta,
  useCache: boolean,
): Promise<PreparedBatch | Committed> {
  try {
    return await prepareBatch(deps, campaignId, events, meta, useCache);
  } catch (error) {
    if (request.idempotencyKey === undefined) throw error;
    const earlier = await readIdempotentAppend(deps.redis, campaignId, request.idempotencyKey);
    if (!earlier) throw error;
    return { firstSeq: earlier.firstSeq, record: JSON.parse(earlier.replayRecord) as ReplayRecord };
  }
}

/**
 * Redis holds less of the campaign than it already handed out (restarted from an older AOF): its
 * state must not be continued. Drop its copy so every instance and the worker see the campaign as
 * having no session; the game server gets SESSION_NOT_FOUND and `session.start` reloads it from
 * Postgres (DESIGN.md, failure model).
 */
async function reloadStaleCampaign(
  deps: SessionDeps,
  campaignId: string,
  redisSeq: number,
): Promise<LorekeeperError> {
  const floor = deps.seqFloors.of(campaignId);
  deps.logger.warn(
    { campaignId, redisSeq, floor },
    'Redis is behind the seqs it already handed out; dropping its copy of the campaign',
  );
  await deleteCampaignKeys(deps.redis, campaignId);
  deps.seqFloors.forget(campaignId);
  deps.liveCache.forget(campaignId);
  return new LorekeeperError(
    'SESSION_NOT_FOUND',
    `campaign ${campaignId}: Redis came back at seq ${redisSeq}, behind seq ${floor} it had reached; ` +
      'its session was dropped, start a new one (state reloads from Postgres)',
    { redisSeq, floor },
  );
}

function publish(deps: SessionDeps, campaignId: string, firstSeq: number, batch: PreparedBatch): void {
  const notification: EventsNotification = {
    campaignId,
    seq: firstSeq + batch.events.length - 1,
    events: batch.events.map((event, i) => ({
      id: streamIdOf(firstSeq + i),
      seq: firstSeq + i,
      type: event.type,
      entityId: event.entityId,
      version: event.version,
      data: event.data,
      transient: event.transient,
    })),
  };
  try {
    deps.nats.publish(eventsSubject(campaignId), JSON.stringify(notification));
  } catch (error) {
    // The batch is committed; followers can catch up from the stream. Never fail the append here.
    deps.logger.warn({ err: error, campaignId }, 'could not publish the committed batch');
  }
}

/** How often a wait for a major event's durability looks at the session in Redis. */
const SESSION_CHECK_MS = 200;

/**
 * The batch holds a major event (committed now, or by an earlier request with the same key), so its
 * reply waits until Postgres has it, up to DURABLE_WAIT_MS, or until `replyBy` (a `performance.now()`
 * time) when the caller's timeout (TIMEOUT_HEADER) would end first: a `durable: false` the caller
 * receives is worth more than a reply after it gave up, and a retry with the same key that waits for
 * the same durability again. First tell the workers, so the one holding the campaign reads the stream
 * now rather than at its next poll (the event itself makes it flush); best effort, since the worker
 * polls anyway.
 *
 * A wait that lasts looks at the session every SESSION_CHECK_MS: once Redis no longer holds it (Redis
 * lost or replaced, or a new session started from the checkpoint), a batch Postgres does not hold by
 * then went with it and can never become durable, so the answer is durable: false at once rather than
 * after DURABLE_WAIT_MS. A game that sends its next append after this reply learns of the loss
 * (SESSION_NOT_FOUND) that much sooner.
 */
async function waitUntilDurable(
  deps: SessionDeps,
  campaignId: string,
  sessionId: string,
  lastSeq: number,
  replyBy = Infinity,
): Promise<boolean> {
  const request: FlushRequest = { campaignId, trigger: 'major' };
  try {
    deps.nats.publish(flushRequestSubject(campaignId), JSON.stringify(request));
  } catch (error) {
    deps.logger.warn({ err: error, campaignId }, 'could not ask the workers to flush a major event');
  }
  const waitMs = Math.min(deps.config.sessionService.durableWaitMs, replyBy - performance.now());
  // Answered on the session's loss, the wait would otherwise poll Postgres until its deadline.
  const answered = new AbortController();
  const durable = deps.durability.waitFor(
    campaignId,
    lastSeq,
    Math.max(0, waitMs),
    'events',
    answered.signal,
  );
  try {
    return await sessionWatched(deps, durable, campaignId, sessionId, lastSeq);
  } finally {
    answered.abort();
  }
}

/**
 * `durable`'s answer, unless the session goes from Redis first (looked at every SESSION_CHECK_MS): then
 * false, or true if Postgres got the batch before it went.
 */
async function sessionWatched(
  deps: SessionDeps,
  durable: Promise<boolean>,
  campaignId: string,
  sessionId: string,
  lastSeq: number,
): Promise<boolean> {
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const check = new Promise<undefined>(
      (resolve) => (timer = setTimeout(() => resolve(undefined), SESSION_CHECK_MS)),
    );
    const answer = await Promise.race([durable, check]).finally(() => clearTimeout(timer));
    if (answer !== undefined) return answer;
    // Redis unreachable says nothing about the session: the worker may have read the batch already.
    const session = await readSession(deps.redis, campaignId).catch(() => null);
    if (session === undefined || (session !== null && session.id !== sessionId)) {
      // Durable all the same if a flush committed it just before the session went (a session end).
      const position = await readPosition(deps.db, campaignId).catch(() => undefined);
      if (position && position.archived.seq >= lastSeq) return true;
      deps.logger.warn(
        { campaignId, sessionId, seq: lastSeq },
        'a major event waiting to be durable was lost with its session in Redis; answering durable: false',
      );
      return false;
    }
  }
}

/**
 * `player.moved` makes the new neighbourhood live (PROTOCOL.md, "Selective loading"): the contents of
 * the region moved to and of its neighbours. Regions are always live and the batch read the target
 * region, so the neighbourhood is known without Postgres; only regions this process has not loaded
 * for the session yet are read from Postgres and written to Redis (usually none: a player walks
 * where the session already is).
 */
async function makeNeighbourhoodsLive(
  deps: SessionDeps,
  campaignId: string,
  sessionId: string,
  batch: PreparedBatch,
): Promise<void> {
  const regionIds: string[] = [];
  for (const event of batch.events) {
    if (event.type === 'player.moved') regionIds.push((event.data as { regionId: string }).regionId);
  }
  if (regionIds.length === 0) return;
  const written = new Map(batch.writes.map((write) => [write.entityId, write.entity ?? undefined]));
  const near = neighbourhood(regionIds, (id) => written.get(id));
  const missing = deps.loadedRegions.missing(campaignId, sessionId, near);
  if (missing.length === 0) return;
  const entities = await loadRegionContents(deps.db, campaignId, missing, deps.registry);
  if ((await loadLiveEntities(deps.redis, campaignId, sessionId, entities.map(encodeEntity))) >= 0) {
    deps.loadedRegions.add(campaignId, sessionId, missing);
  }
}
