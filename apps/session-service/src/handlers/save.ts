import type { Kysely } from 'kysely';
import { LorekeeperError } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import { findCampaign, readCheckpoint } from '@lorekeeper/pg-store';
import type {
  FlushRequest,
  SaveReply,
  SaveRequest,
  SessionEndReply,
  SessionEndRequest,
} from '@lorekeeper/protocol';
import { flushRequestSubject } from '@lorekeeper/protocol';
import {
  closeSession,
  deleteCampaignKeys,
  readHeadSeq,
  readSession,
  reopenSession,
} from '@lorekeeper/redis-store';
import type { SessionDeps } from '../deps';

/** How long a save or a session end waits for the persistence worker before answering UNAVAILABLE. */
export const FINAL_SYNC_TIMEOUT_MS = 30_000;
const REPEAT_REQUEST_MS = 500;

/** `campaign.<id>.save`: flush up to the campaign's head; reply once Postgres holds it. */
export async function saveCampaign(
  deps: SessionDeps,
  campaignId: string,
  request: SaveRequest,
): Promise<SaveReply> {
  const session = await readSession(deps.redis, campaignId);
  if (!session || session.id !== request.sessionId) throw sessionNotFound(campaignId, request.sessionId);
  if (session.status === 'closing') {
    throw new LorekeeperError(
      'SESSION_CLOSING',
      `campaign ${campaignId} is ending its session; it is being saved`,
    );
  }
  const head = await readHeadSeq(deps.redis, campaignId);
  const before = await readCheckpoint(deps.db, campaignId);
  const seq = await waitUntilDurable(deps, campaignId, head, 'manual');
  return { seq, entitiesWritten: await entitiesWrittenBetween(deps.db, campaignId, before.seq, seq) };
}

/**
 * `campaign.<id>.session.end`: refuse further appends, wait for the final sync, then delete every
 * Redis key of the campaign. If Postgres cannot confirm in time the session is reopened and the
 * caller gets UNAVAILABLE (nothing is lost; it may end again).
 */
export async function endSession(
  deps: SessionDeps,
  campaignId: string,
  request: SessionEndRequest,
): Promise<SessionEndReply> {
  const head = await closeSession(deps.redis, campaignId, request.sessionId);
  if (head === undefined) throw sessionNotFound(campaignId, request.sessionId);
  try {
    await waitUntilDurable(deps, campaignId, head, 'session-end');
  } catch (error) {
    await reopenSession(deps.redis, campaignId, request.sessionId);
    throw error;
  }
  await deleteCampaignKeys(deps.redis, campaignId);
  deps.loadedRegions.forget(campaignId);
  deps.liveCache.forget(campaignId);
  deps.logger.info({ head }, 'session ended: final state is durable, Redis keys deleted');
  return { seq: head };
}

async function waitUntilDurable(
  deps: SessionDeps,
  campaignId: string,
  head: number,
  trigger: FlushRequest['trigger'],
): Promise<number> {
  const deadline = Date.now() + FINAL_SYNC_TIMEOUT_MS;
  const request: FlushRequest = { campaignId, trigger };
  while (Date.now() < deadline) {
    const campaign = await findCampaign(deps.db, campaignId);
    if (!campaign) throw new LorekeeperError('CAMPAIGN_NOT_FOUND', `campaign ${campaignId} does not exist`);
    if (campaign.checkpoint.seq >= head) return campaign.checkpoint.seq;
    if (campaign.status === 'quarantined') {
      throw new LorekeeperError(
        'UNAVAILABLE',
        `campaign ${campaignId} is quarantined at seq ${campaign.checkpoint.seq}: a stream entry does not apply. ` +
          'Nothing is lost; an operator resolves it with `lorekeeper dead-letters`',
      );
    }
    // Pub/sub: the worker holding the campaign acts; asking again covers a worker that just took over.
    deps.nats.publish(flushRequestSubject(campaignId), JSON.stringify(request));
    // The checkpoint, not only the archive: a save and a session end leave the entities written.
    const wait = Math.min(REPEAT_REQUEST_MS, deadline - Date.now());
    if (await deps.durability.waitFor(campaignId, head, wait, 'checkpoint')) {
      return (await readCheckpoint(deps.db, campaignId)).seq;
    }
  }
  throw new LorekeeperError(
    'UNAVAILABLE',
    `Postgres did not confirm campaign ${campaignId} up to seq ${head} within ${FINAL_SYNC_TIMEOUT_MS} ms; ` +
      'is a persistence worker running? Nothing is lost; retry',
  );
}

async function entitiesWrittenBetween(
  db: Kysely<Database>,
  campaignId: string,
  afterSeq: number,
  upToSeq: number,
) {
  const row = await db
    .selectFrom('sync_log')
    .select((eb) =>
      eb.fn
        .coalesce(eb.fn.sum<number>(eb('entities_written', '+', eb.ref('entities_deleted'))), eb.lit(0))
        .as('n'),
    )
    .where('campaign_id', '=', campaignId)
    .where('error', 'is', null)
    .where('to_seq', '>', afterSeq)
    .where('to_seq', '<=', upToSeq)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

function sessionNotFound(campaignId: string, sessionId: string): LorekeeperError {
  return new LorekeeperError(
    'SESSION_NOT_FOUND',
    `session ${sessionId} is not the active session of campaign ${campaignId}`,
  );
}
