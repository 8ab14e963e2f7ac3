import { randomUUID } from 'node:crypto';
import type { EncodedEntity, LoadingContext } from '@lorekeeper/domain';
import { LorekeeperError, isAroundPlayers } from '@lorekeeper/domain';
import type { Checkpoint, Database, LivePlan } from '@lorekeeper/pg-store';
import { foldArchivedTail, liveSetBatches, lockPosition, planLiveSet } from '@lorekeeper/pg-store';
import type { SessionStartReply, SessionStartRequest } from '@lorekeeper/protocol';
import type { SessionStartOutcome } from '@lorekeeper/redis-store';
import {
  deleteCampaignKeys,
  loadLiveEntities,
  loadedTotal,
  markCampaignActive,
  readSession,
  registerSession,
} from '@lorekeeper/redis-store';
import type { Kysely } from 'kysely';
import type { SessionDeps } from '../deps';
import type { LiveCache } from '../live-cache';

interface Session {
  readonly sessionId: string;
  readonly seq: number;
  readonly joined: boolean;
}

/**
 * `campaign.<id>.session.start`: register the session (or join the active one) and make the named
 * players' neighbourhood live (PROTOCOL.md, "Selective loading").
 */
export async function startSession(
  deps: SessionDeps,
  campaignId: string,
  request: SessionStartRequest,
): Promise<SessionStartReply> {
  // Throws CAMPAIGN_NOT_FOUND for a campaign that does not exist (reading its checkpoint).
  const { session, plan, entities, loaded } = await register(deps, campaignId, request.playerIds);
  if (loaded < 0) {
    throw new LorekeeperError(
      'SESSION_NOT_FOUND',
      `the session of campaign ${campaignId} ended while starting`,
    );
  }
  deps.loadedRegions.add(campaignId, session.sessionId, plan.regions);
  await markCampaignActive(deps.redis, campaignId);
  deps.logger.info(
    { sessionId: session.sessionId, players: request.playerIds.length, newlyLive: loaded },
    session.joined ? 'joined the active session' : 'session started',
  );
  return {
    sessionId: session.sessionId,
    seq: session.seq,
    loaded: { entities, regions: plan.regions },
  };
}

/**
 * Register a new session at the checkpoint, or join the active one, and make its live set live as of
 * that checkpoint. All of it happens with the checkpoint's row share-locked: a flush of a session
 * Redis lost (flushed, restarted empty) holds that row from its check that its session is still in
 * Redis until it commits, so a new session either starts after such a flush, from its checkpoint, or
 * registers first and the flush finds its session gone and writes nothing (DESIGN.md, failure model).
 * Without the lock, a flush could move the checkpoint past the seq a new session had just started
 * from, and the seqs between would be handed out twice.
 *
 * A flush for a major event may have left the archive past the checkpoint (docs/architecture.md,
 * "Major events: the archive first"). Then the start takes the row exclusively (no flush, archiving
 * or other start meanwhile) and, if Redis holds no session to join, first folds that tail into the
 * entities, so the new session starts where the archive ends: no durable event is lost with Redis.
 *
 * The players are checked before anything is registered (an unknown one changes nothing); the live
 * set is read after, through a cursor, each batch sent to Redis while Postgres reads the next.
 */
async function register(
  deps: SessionDeps,
  campaignId: string,
  playerIds: readonly string[],
): Promise<{ session: Session; plan: LivePlan; entities: number; loaded: number }> {
  let lock: 'share' | 'update' = 'share';
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const started = await deps.db.transaction().execute(async (trx) => {
      const position = await lockPosition(trx, campaignId, lock);
      let checkpoint = position.checkpoint;
      const tail = position.archived.seq > checkpoint.seq;
      if (tail && lock === 'share') {
        lock = 'update';
        return undefined;
      }
      if (tail && !(await readSession(deps.redis, campaignId))) {
        await foldArchivedTail(trx, campaignId, position, deps.registry);
        checkpoint = position.archived;
      }
      const plan = await planLiveSet(trx, campaignId, playerIds);
      if (plan.missingPlayers.length > 0) {
        throw new LorekeeperError('UNKNOWN_ENTITY', `no such player(s): ${plan.missingPlayers.join(', ')}`, {
          missingPlayers: plan.missingPlayers,
        });
      }
      // Redis must hold every durable event: the archive's position is the floor it may not be below.
      const outcome = await registerSession(
        deps.redis,
        campaignId,
        randomUUID(),
        position.archived.seq,
        deps.now().toISOString(),
      );
      if (outcome.kind === 'new' && checkpoint.seq < position.archived.seq) {
        // The session this start meant to join was lost in between, and the entities are still short
        // of the archive: drop the registration (no one else can know it while this holds the row)
        // and start again, folding the tail this time.
        await deleteCampaignKeys(deps.redis, campaignId);
        return undefined;
      }
      const session = await settle(deps, campaignId, position.archived, outcome);
      if (!session) return undefined;
      const { entities, loaded } = await loadLive(trx, deps, campaignId, session, plan);
      return { session, plan, entities, loaded };
    });
    if (started) return started;
  }
  throw new LorekeeperError('UNAVAILABLE', `could not register a session for ${campaignId}; retry`);
}

/**
 * What registering found: the session to load into, or undefined when Redis was behind and its copy
 * of the campaign was dropped (try again, from Postgres).
 */
async function settle(
  deps: SessionDeps,
  campaignId: string,
  /** How far Postgres holds the campaign's events: the archive's position. */
  durable: Checkpoint,
  outcome: SessionStartOutcome,
): Promise<Session | undefined> {
  // Redis must be at least where Postgres is, and where this process saw it (SeqFloors).
  const floor = Math.max(durable.seq, deps.seqFloors.of(campaignId));
  switch (outcome.kind) {
    case 'existing':
      if (outcome.seq < floor) {
        deps.logger.warn(
          { campaignId, redisSeq: outcome.seq, floor },
          'Redis is behind the seqs it already handed out; reloading the campaign from Postgres',
        );
        await deleteCampaignKeys(deps.redis, campaignId);
        deps.seqFloors.forget(campaignId);
        return undefined;
      }
      deps.seqFloors.reset(campaignId, outcome.seq);
      return { sessionId: outcome.sessionId, seq: outcome.seq, joined: true };
    case 'new':
      deps.seqFloors.reset(campaignId, outcome.seq);
      return { sessionId: outcome.sessionId, seq: outcome.seq, joined: false };
    case 'closing':
      throw new LorekeeperError(
        'SESSION_CLOSING',
        `campaign ${campaignId} is ending its session; start again after`,
      );
    case 'stale':
      // Redis came back older than Postgres (DESIGN.md, failure model): drop its copy of the
      // campaign and start over from the durable state rather than continue from stale state.
      deps.logger.warn(
        { campaignId, redisSeq: outcome.seq, durableSeq: durable.seq },
        'Redis is behind what Postgres holds; reloading the campaign from Postgres',
      );
      await deleteCampaignKeys(deps.redis, campaignId);
      deps.seqFloors.forget(campaignId);
      return undefined;
  }
}

/**
 * Read the live set in batches and send each to Redis as it comes, without waiting for Redis before
 * reading on: Redis writes one batch while Postgres reads the next. Returns how many entities the
 * live set holds and how many Redis made live (-1 when the session was not the active one).
 *
 * A new session's Redis holds nothing of the campaign yet, so what this loads is what Redis holds:
 * what the players are likely to touch (isAroundPlayers) is cached as it is sent (the first append on
 * each of these entities then validates without reading Redis), while Redis and Postgres work on the
 * rest. The regions away from them are not: caching a large world's 20,000 regions, most never touched
 * in the session, cost a 2-player start 10 to 20 ms of CPU (docs/architecture.md, "The append path"),
 * and the few an append uses later are read from Redis once. A joined session's Redis may hold newer
 * versions; those are cached as appends read them. Not a neighbourhood larger than half the cache: it
 * would push every other campaign out, so past that what was cached is dropped again.
 */
async function loadLive(
  trx: Kysely<Database>,
  deps: SessionDeps,
  campaignId: string,
  session: Session,
  plan: LivePlan,
): Promise<{ entities: number; loaded: number }> {
  const cache = session.joined
    ? undefined
    : new LoadCaching(deps.liveCache, campaignId, session.sessionId, plan.context);
  let entities = 0;
  const calls: Promise<number>[] = [];
  try {
    for await (const batch of liveSetBatches(trx, campaignId, plan)) {
      entities += batch.length;
      const call = loadLiveEntities(deps.redis, campaignId, session.sessionId, batch);
      call.catch(() => undefined); // awaited below; not an unhandled rejection while reading on
      calls.push(call);
      cache?.add(batch);
    }
    const loaded = loadedTotal(await Promise.all(calls));
    if (loaded < 0) cache?.drop();
    return { entities, loaded };
  } catch (error) {
    cache?.drop();
    throw error;
  }
}

/** A new session's loaded entities near its players going into the LiveCache, up to half its capacity. */
class LoadCaching {
  private bytes = 0;
  private dropped = false;

  constructor(
    private readonly liveCache: LiveCache,
    private readonly campaignId: string,
    private readonly sessionId: string,
    private readonly context: LoadingContext,
  ) {}

  add(batch: readonly EncodedEntity[]): void {
    if (this.dropped) return;
    const around = batch.filter((entity) => isAroundPlayers(entity, this.context));
    for (const entity of around) this.bytes += entity.json.length;
    if (this.bytes <= this.liveCache.capacity / 2) {
      this.liveCache.rememberLoaded(this.campaignId, this.sessionId, around);
    } else {
      this.drop();
    }
  }

  drop(): void {
    this.dropped = true;
    this.liveCache.forget(this.campaignId);
  }
}
