import { randomUUID } from 'node:crypto';
import { LorekeeperError } from '@lorekeeper/domain';
import { findCampaign, loadLiveSet, readCheckpoint } from '@lorekeeper/pg-store';
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
  const campaign = await findCampaign(deps.db, campaignId);
  if (!campaign) throw new LorekeeperError('CAMPAIGN_NOT_FOUND', `campaign ${campaignId} does not exist`);

  const liveSet = await loadLiveSet(deps.db, campaignId, request.playerIds);
  if (liveSet.missingPlayers.length > 0) {
    throw new LorekeeperError('UNKNOWN_ENTITY', `no such player(s): ${liveSet.missingPlayers.join(', ')}`, {
      missingPlayers: liveSet.missingPlayers,
    });
  }

  const session = await register(deps, campaignId);
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

async function register(
  deps: SessionDeps,
  campaignId: string,
): Promise<{ sessionId: string; seq: number; joined: boolean }> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const checkpoint = await readCheckpoint(deps.db, campaignId);
    // Redis must be at least where Postgres is, and where this process saw it (SeqFloors).
    const floor = Math.max(checkpoint.seq, deps.seqFloors.of(campaignId));
    const outcome = await registerSession(
      deps.redis,
      campaignId,
      randomUUID(),
      checkpoint.seq,
      deps.now().toISOString(),
    );
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
