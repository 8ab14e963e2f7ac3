import { randomUUID } from 'node:crypto';
import { LorekeeperError } from '@lorekeeper/domain';
import type { LiveSet } from '@lorekeeper/pg-store';
import { loadLiveSet, lockCheckpoint } from '@lorekeeper/pg-store';
import type { SessionStartReply, SessionStartRequest } from '@lorekeeper/protocol';
import type { LiveEntity } from '@lorekeeper/redis-store';
import {
  deleteCampaignKeys,
  liveToken,
  loadLiveEntities,
  markCampaignActive,
  registerSession,
} from '@lorekeeper/redis-store';
import type { SessionDeps } from '../deps';

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
  const { session, liveSet } = await register(deps, campaignId, request.playerIds);
  // A new session's Redis holds nothing of the campaign yet, so what this loads is what Redis holds:
  // cached, the first append on each of these entities validates without reading Redis. (A joined
  // session's Redis may hold newer versions; those are cached as appends read them.)
  const cache: [string, LiveEntity][] = [];
  const loaded = await loadLiveEntities(
    deps.redis,
    campaignId,
    session.sessionId,
    liveSet.entities,
    session.joined
      ? undefined
      : (entity, json) =>
          cache.push([
            entity.id,
            { token: liveToken(entity.version), entity, transient: false, bytes: json.length },
          ]),
  );
  if (loaded < 0) {
    throw new LorekeeperError(
      'SESSION_NOT_FOUND',
      `the session of campaign ${campaignId} ended while starting`,
    );
  }
  // Not a neighbourhood larger than half the cache: it would push every other campaign out.
  const bytes = cache.reduce((sum, [, live]) => sum + live.bytes, 0);
  if (bytes <= deps.liveCache.capacity / 2) deps.liveCache.remember(campaignId, session.sessionId, cache);
  deps.loadedRegions.add(campaignId, session.sessionId, liveSet.regions);
  await markCampaignActive(deps.redis, campaignId);
  deps.logger.info(
    { sessionId: session.sessionId, players: request.playerIds.length, newlyLive: loaded },
    session.joined ? 'joined the active session' : 'session started',
  );
  return {
    sessionId: session.sessionId,
    seq: session.seq,
    loaded: { entities: liveSet.entities.length, regions: liveSet.regions },
  };
}

/**
 * Register a new session at the checkpoint, or join the active one, with the live set read as of that
 * checkpoint. Both happen with the checkpoint's row share-locked: a flush of a session Redis lost
 * (flushed, restarted empty) holds that row from its check that its session is still in Redis until it
 * commits, so a new session either starts after such a flush, from its checkpoint, or registers first
 * and the flush finds its session gone and writes nothing (DESIGN.md, failure model). Without the lock,
 * a flush could move the checkpoint past the seq a new session had just started from, and the seqs
 * between would be handed out twice.
 */
async function register(
  deps: SessionDeps,
  campaignId: string,
  playerIds: readonly string[],
): Promise<{ session: { sessionId: string; seq: number; joined: boolean }; liveSet: LiveSet }> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const { checkpoint, liveSet, outcome } = await deps.db.transaction().execute(async (trx) => {
      const checkpoint = await lockCheckpoint(trx, campaignId);
      const liveSet = await loadLiveSet(trx, campaignId, playerIds);
      if (liveSet.missingPlayers.length > 0) {
        throw new LorekeeperError(
          'UNKNOWN_ENTITY',
          `no such player(s): ${liveSet.missingPlayers.join(', ')}`,
          { missingPlayers: liveSet.missingPlayers },
        );
      }
      const outcome = await registerSession(
        deps.redis,
        campaignId,
        randomUUID(),
        checkpoint.seq,
        deps.now().toISOString(),
      );
      return { checkpoint, liveSet, outcome };
    });
    // Redis must be at least where Postgres is, and where this process saw it (SeqFloors).
    const floor = Math.max(checkpoint.seq, deps.seqFloors.of(campaignId));
    switch (outcome.kind) {
      case 'existing':
        if (outcome.seq < floor) {
          deps.logger.warn(
            { campaignId, redisSeq: outcome.seq, floor },
            'Redis is behind the seqs it already handed out; reloading the campaign from Postgres',
          );
          await deleteCampaignKeys(deps.redis, campaignId);
          deps.seqFloors.forget(campaignId);
          break;
        }
        deps.seqFloors.reset(campaignId, outcome.seq);
        return { session: { sessionId: outcome.sessionId, seq: outcome.seq, joined: true }, liveSet };
      case 'new':
        deps.seqFloors.reset(campaignId, outcome.seq);
        return { session: { sessionId: outcome.sessionId, seq: outcome.seq, joined: false }, liveSet };
      case 'closing':
        throw new LorekeeperError(
          'SESSION_CLOSING',
          `campaign ${campaignId} is ending its session; start again after`,
        );
      case 'stale':
        // Redis came back older than Postgres (DESIGN.md, failure model): drop its copy of the
        // campaign and start over from the durable state rather than continue from stale state.
        deps.logger.warn(
          { campaignId, redisSeq: outcome.seq, checkpointSeq: checkpoint.seq },
          'Redis is behind the Postgres checkpoint; reloading the campaign from Postgres',
        );
        await deleteCampaignKeys(deps.redis, campaignId);
        deps.seqFloors.forget(campaignId);
        break;
    }
  }
  throw new LorekeeperError('UNAVAILABLE', `could not register a session for ${campaignId}; retry`);
}
