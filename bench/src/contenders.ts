import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { LorekeeperClient } from '@lorekeeper/client';
import type { Entity, WorldDocument } from '@lorekeeper/domain';
import { isLorekeeperError } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import { insertCampaign, insertEntities, readCheckpoint } from '@lorekeeper/pg-store';
import { flushRequestSubject } from '@lorekeeper/protocol';
import type { Redis } from '@lorekeeper/redis-store';
import { campaignKeys } from '@lorekeeper/redis-store';
import { waitUntil } from '@lorekeeper/testing';
import type { Kysely } from 'kysely';
import { ceilingAppend, ceilingKeys } from './ceiling';
import { ECHO_SUBJECT } from './echo-wire';
import { lorekeeperRowsWritten, writeThroughRowsWritten } from './pg-writes';
import type { Outcome, Send } from './open-loop';
import type { BenchEvent } from './workload';
import { writeThrough } from './write-through';

/** A contender made ready for one scenario: a fresh campaign (or keys) of its own. */
export interface Prepared {
  readonly send: Send;
  /** What the contender now holds for an entity, to correct the load generator after a refusal. */
  readonly fetch: (entityId: string) => Promise<Entity | undefined>;
  /** Wait until everything acknowledged has reached its durable store (the worker's checkpoint). */
  readonly settle: () => Promise<void>;
  /** Postgres rows written for this contender's campaign so far. */
  readonly rowsWritten: () => Promise<number>;
  readonly cleanup: () => Promise<void>;
}

export interface Contender {
  readonly name: string;
  readonly batch: number;
  /** What its acknowledgement promises (the issue asks this of every contender). */
  readonly acknowledgement: string;
  prepare(world: WorldDocument, players: readonly string[]): Promise<Prepared>;
}

export interface Stores {
  readonly nats: NatsConnection;
  readonly redis: Redis;
  readonly db: Kysely<Database>;
  /** A pool of 8 connections: the write-through contender's 8 concurrent clients. */
  readonly writeThroughDb: Kysely<Database>;
}

const wire = (events: readonly BenchEvent[]) =>
  events.map(({ type, entityId, data }) => ({ type, entityId, data }));

const applied: Outcome = { ok: true };

export function lorekeeper(stores: Stores, batch: number): Contender {
  // One attempt: a retry would hide a timeout inside a slow success.
  const client = new LorekeeperClient(stores.nats, { timeoutMs: 30_000, appendAttempts: 1 });
  return {
    name: `Lorekeeper via NATS, ${batch} event${batch === 1 ? '' : 's'}/request`,
    batch,
    acknowledgement:
      'live in Redis (AOF everysec: about 1 s at risk); a batch with a major event (quest.completed) replies after the worker committed it to Postgres',
    async prepare(world, players) {
      await client.createCampaign(world);
      const { sessionId } = await client.startSession(world.campaignId, players);
      return {
        send: async (events) => {
          try {
            await client.append(world.campaignId, sessionId, wire(events));
            return applied;
          } catch (error) {
            if (isLorekeeperError(error) && error.code !== 'UNAVAILABLE')
              return { ok: false, code: error.code };
            throw error;
          }
        },
        fetch: (entityId) => client.getEntity(world.campaignId, entityId).catch(() => undefined),
        settle: () => checkpointReachesHead(stores, world.campaignId),
        rowsWritten: () => lorekeeperRowsWritten(stores.db, world.campaignId),
        cleanup: async () => {
          await client.endSession(world.campaignId, sessionId);
        },
      };
    },
  };
}

/** Ask the worker to flush until its Postgres checkpoint reaches the campaign's last seq. */
async function checkpointReachesHead(stores: Stores, campaignId: string): Promise<void> {
  const head = Number((await stores.redis.get(campaignKeys(campaignId).seq)) ?? 0);
  const subject = flushRequestSubject(campaignId);
  await waitUntil(
    async () => {
      stores.nats.publish(subject, JSON.stringify({ campaignId, trigger: 'manual' }));
      return (await readCheckpoint(stores.db, campaignId)).seq >= head;
    },
    120_000,
    `the worker to checkpoint ${campaignId} up to seq ${head}`,
  );
}

export function ceiling(stores: Stores, batch: number): Contender {
  return {
    name: `raw Redis Function XADD+HSET, ${batch} event${batch === 1 ? '' : 's'}/call`,
    batch,
    acknowledgement: 'in Redis memory only (AOF everysec at best); no checks of any kind',
    async prepare(world) {
      const keys = ceilingKeys(`${world.campaignId}-${batch}`);
      return {
        send: async (events) => {
          await ceilingAppend(stores.redis, keys, events);
          return applied;
        },
        fetch: async () => undefined,
        settle: async () => undefined,
        rowsWritten: async () => 0,
        cleanup: async () => {
          await stores.redis.unlink(keys.stream, keys.hash);
        },
      };
    },
  };
}

export function echo(stores: Stores): Contender {
  return {
    name: 'bare NestJS NATS echo, 1 event/request',
    batch: 1,
    acknowledgement: 'nothing is stored',
    async prepare() {
      return {
        // The body the client's append sends (with a fresh idempotency key), inside NestJS's own request
        // envelope: its stock NATS transport treats a message without an id as an event and never replies.
        send: async (events) => {
          const body = { sessionId: 'echo', events: wire(events), idempotencyKey: randomUUID() };
          const envelope = JSON.stringify({ pattern: ECHO_SUBJECT, data: body, id: randomUUID() });
          const reply = await stores.nats.request(ECHO_SUBJECT, envelope, { timeout: 30_000 });
          JSON.parse(new TextDecoder().decode(reply.data));
          return applied;
        },
        fetch: async () => undefined,
        settle: async () => undefined,
        rowsWritten: async () => 0,
        cleanup: async () => undefined,
      };
    },
  };
}

export function naiveWriteThrough(stores: Stores): Contender {
  return {
    name: 'write-through to Postgres, 1 transaction/event',
    batch: 1,
    acknowledgement: 'durable (committed to Postgres before the reply)',
    async prepare(world) {
      const campaignId = `${world.campaignId}-wt`;
      await stores.db.transaction().execute(async (trx) => {
        await insertCampaign(trx, { id: campaignId, name: campaignId });
        await insertEntities(trx, campaignId, world.entities);
      });
      let seq = 0;
      return {
        send: async (events) => {
          for (const event of events) {
            try {
              await writeThrough(stores.writeThroughDb, campaignId, (seq += 1), event);
            } catch (error) {
              if (isLorekeeperError(error)) return { ok: false, code: error.code };
              throw error;
            }
          }
          return applied;
        },
        fetch: async (entityId) => {
          const row = await stores.db
            .selectFrom('entities')
            .select(['id', 'kind', 'version', 'state'])
            .where('campaign_id', '=', campaignId)
            .where('id', '=', entityId)
            .executeTakeFirst();
          return row ? { id: row.id, kind: row.kind, version: row.version, state: row.state } : undefined;
        },
        settle: async () => undefined,
        rowsWritten: () => writeThroughRowsWritten(stores.db, campaignId),
        cleanup: async () => undefined,
      };
    },
  };
}
