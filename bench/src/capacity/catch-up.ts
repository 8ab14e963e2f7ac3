import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { NatsConnection } from 'nats';
import type { Entity } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import { readCheckpoint, upsertEntities } from '@lorekeeper/pg-store';
import { flushRequestSubject } from '@lorekeeper/protocol';
import type { Redis } from '@lorekeeper/redis-store';
import { deleteCampaignKeys, markCampaignActive } from '@lorekeeper/redis-store';
import { waitUntil } from '@lorekeeper/testing';
import type { CpuSource } from '../cpu';
import { cpuBetween, readCpu } from '../cpu';
import { snapshotsBeingCopied } from '../pg-writes';
import type { Backlog } from './backlog';
import type { ProfileWindow } from './profile';
import { monotonicUs } from './profile';

export interface CatchUpSample {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** Entity rows the worker wrote (upserted or deleted), from its sync_log. */
  readonly entityRows: number;
  readonly entityRowsPerSecond: number;
  readonly entityRowsPer1000Events: number;
  readonly eventsArchived: number;
  /** The archive's rows written for them (chunks of up to 1,000 events). */
  readonly archiveChunks: number;
  readonly flushes: number;
  /** CPU seconds per process over the catch-up (absent for the profiled round). */
  readonly cpuSeconds?: Record<string, number>;
  /** When the catch-up began and ended, in microseconds of the clock a `.cpuprofile` keeps time on. */
  readonly window: ProfileWindow;
}

export interface CatchUpContext {
  readonly db: Kysely<Database>;
  readonly redis: Redis;
  readonly nats: NatsConnection;
  readonly campaignId: string;
  /** The processes whose CPU the catch-up is charged with. */
  readonly cpu?: readonly CpuSource[];
}

/**
 * The backlog is in the stream; the worker (already running, idle) is told the campaign is active
 * and folds and checkpoints until the Postgres checkpoint reaches the backlog's last seq. Timed from
 * that moment, so it includes discovering the campaign (at most 200 ms) and taking it over. The tail
 * below the backlog bound is asked for with a save, as a game would at the end of a session.
 */
export async function catchUp(context: CatchUpContext, backlog: Backlog): Promise<CatchUpSample> {
  const { db, redis, nats, campaignId } = context;
  const cpuBefore = context.cpu && readCpu(context.cpu);
  const fromUs = monotonicUs();
  const started = performance.now();
  await markCampaignActive(redis, campaignId);
  await waitUntil(
    async () => {
      nats.publish(flushRequestSubject(campaignId), JSON.stringify({ campaignId, trigger: 'manual' }));
      return (await readCheckpoint(db, campaignId)).seq >= backlog.lastSeq;
    },
    1_800_000,
    'the worker to catch up',
  );
  const seconds = (performance.now() - started) / 1_000;
  const window = { fromUs, toUs: monotonicUs() };
  const cpuSeconds = context.cpu && cpuBefore && cpuBetween(cpuBefore, readCpu(context.cpu));
  const written = await db
    .selectFrom('sync_log')
    .select((eb) => [
      eb.fn.coalesce(eb.fn.sum<number>('entities_written'), eb.lit(0)).as('upserted'),
      eb.fn.coalesce(eb.fn.sum<number>('entities_deleted'), eb.lit(0)).as('deleted'),
      eb.fn.coalesce(eb.fn.sum<number>('events_archived'), eb.lit(0)).as('archived'),
      eb.fn.countAll<number>().as('flushes'),
    ])
    .where('campaign_id', '=', campaignId)
    .where('from_seq', '>=', backlog.firstSeq)
    .executeTakeFirstOrThrow();
  const chunks = await db
    .selectFrom('event_chunks')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('campaign_id', '=', campaignId)
    .where('first_seq', '>=', backlog.firstSeq)
    .executeTakeFirstOrThrow();
  await releaseCampaign(db, redis, campaignId);
  const entityRows = Number(written.upserted) + Number(written.deleted);
  return {
    events: backlog.events,
    seconds,
    eventsPerSecond: backlog.events / seconds,
    entityRows,
    entityRowsPerSecond: entityRows / seconds,
    entityRowsPer1000Events: (entityRows * 1_000) / backlog.events,
    eventsArchived: Number(written.archived),
    archiveChunks: Number(chunks.count),
    flushes: Number(written.flushes),
    ...(cpuSeconds ? { cpuSeconds } : {}),
    window,
  };
}

/**
 * Drop the session's keys (all of it is durable now) and give the worker time to let the campaign
 * go, so the next round's stream is taken over afresh from the Postgres checkpoint. Then wait until
 * nothing else works in the bench's database: a replay snapshot the round started goes on being
 * copied after the session ends (paced, for tens of seconds on this world), and the next scenario
 * must not share Postgres with it (snapshotsBeingCopied: an idle moment does not mean the copy ended).
 */
async function releaseCampaign(db: Kysely<Database>, redis: Redis, campaignId: string): Promise<void> {
  await deleteCampaignKeys(redis, campaignId);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await waitUntil(
    async () => {
      const { rows } = await sql<{ busy: number }>`
        select count(*)::int as busy from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'`.execute(db);
      return rows[0]?.busy === 0 && (await snapshotsBeingCopied(db, campaignId)) === 0;
    },
    600_000,
    'Postgres to be idle after the catch-up (a replay snapshot being copied)',
  );
}

/**
 * The ceiling: the same entity rows upserted straight into Postgres with pg-store's UNNEST upsert,
 * `batch` rows per statement, each statement its own transaction. Returns rows per second.
 */
export async function rawUpserts(
  db: Kysely<Database>,
  campaignId: string,
  entities: readonly Entity[],
  batch: number,
): Promise<number> {
  const started = performance.now();
  for (let start = 0; start < entities.length; start += batch) {
    const chunk = entities.slice(start, start + batch);
    await db.transaction().execute((trx) => upsertEntities(trx, campaignId, chunk));
  }
  return entities.length / ((performance.now() - started) / 1_000);
}
