import type { CampaignStatus, Database } from '@lorekeeper/pg-store';
import { findCampaign, readSyncLog } from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import { readGroupInfo, readHeadSeq, readLease, streamLength } from '@lorekeeper/redis-store';
import type { Kysely } from 'kysely';

/** One live campaign's stream and where its persistence stands (a row of `lorekeeper streams`). */
export interface StreamStatus {
  readonly campaignId: string;
  /** 'unknown': in Redis's active set but not in this database (another deployment's campaign). */
  readonly status: CampaignStatus | 'unknown';
  readonly headSeq: number;
  readonly streamLength: number;
  /** Entries not delivered to a worker yet; null when there is no consumer group yet or Redis cannot tell. */
  readonly groupLag: number | null;
  /** Entries delivered to a worker and not acknowledged. */
  readonly pending: number;
  /** Where the entities in Postgres are. */
  readonly checkpointSeq: number | null;
  /** Where the archive ends: the checkpoint, or past it after a major event's flush (archive only). */
  readonly archivedSeq: number | null;
  /** Events appended and not durable yet: head - archivedSeq. */
  readonly behind: number | null;
  /** When the last successful flush committed, and how long ago (seconds); null when never. */
  readonly lastFlushAt: string | null;
  readonly lastFlushAgeSeconds: number | null;
  readonly leaseHolder: string | null;
  readonly leaseExpiresInMs: number | null;
}

/** How far back the sync log is searched for the last successful flush (failed ones may come after it). */
const SYNC_LOG_LOOKBACK = 50;

export async function readStreamStatus(
  db: Kysely<Database>,
  redis: Redis,
  campaignId: string,
  now: Date,
): Promise<StreamStatus> {
  const [headSeq, length, group, lease, campaign, log] = await Promise.all([
    readHeadSeq(redis, campaignId),
    streamLength(redis, campaignId),
    readGroupInfo(redis, campaignId),
    readLease(redis, campaignId),
    findCampaign(db, campaignId),
    readSyncLog(db, campaignId, SYNC_LOG_LOOKBACK),
  ]);
  const lastFlush = log.find((entry) => entry.error === null);
  const checkpointSeq = campaign?.checkpoint.seq ?? null;
  const archivedSeq = campaign?.archived.seq ?? null;
  return {
    campaignId,
    status: campaign?.status ?? 'unknown',
    headSeq,
    streamLength: length,
    groupLag: group?.lag ?? null,
    pending: group?.pending ?? 0,
    checkpointSeq,
    archivedSeq,
    behind: archivedSeq === null ? null : Math.max(0, headSeq - archivedSeq),
    lastFlushAt: lastFlush?.createdAt.toISOString() ?? null,
    lastFlushAgeSeconds: lastFlush
      ? Math.round((now.getTime() - lastFlush.createdAt.getTime()) / 1_000)
      : null,
    leaseHolder: lease?.holder ?? null,
    leaseExpiresInMs: lease?.expiresInMs ?? null,
  };
}
