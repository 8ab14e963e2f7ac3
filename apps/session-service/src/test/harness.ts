import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import pino from 'pino';
import { loadConfig } from '@lorekeeper/config';
import type { WorldDocument } from '@lorekeeper/domain';
import type { Verb } from '@lorekeeper/protocol';
import type { Redis } from '@lorekeeper/redis-store';
import { connectRedis, deleteCampaignKeys } from '@lorekeeper/redis-store';
import type { ServerProcess, TestDatabase, WireReply } from '@lorekeeper/testing';
import {
  createCampaignOver,
  createTestDatabase,
  requestOver,
  startPrivateNats,
  startSessionOver,
} from '@lorekeeper/testing';
import type { RunningSessionService, SessionServiceOptions } from '../service';
import { startSessionService } from '../service';

export interface Harness {
  readonly db: TestDatabase;
  readonly redis: Redis;
  /** A plain nats.js client, as a game server would use. */
  readonly nats: NatsConnection;
  readonly service: RunningSessionService;
  request(campaignId: string, verb: Verb, body: unknown, timeoutMs?: number): Promise<WireReply>;
  /** Create a campaign from a world document under a fresh id; returns the id. */
  createCampaign(world: WorldDocument, label?: string): Promise<string>;
  startSession(campaignId: string, playerIds: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * A session service of this test file's own (own database, own NATS server, the shared Redis), and
 * a plain NATS client to talk to it.
 */
export async function startHarness(
  label: string,
  env: Record<string, string> = {},
  options: SessionServiceOptions = {},
): Promise<Harness> {
  const db = await createTestDatabase(label);
  const natsServer: ServerProcess = await startPrivateNats();
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: db.url,
    NATS_URL: natsServer.url,
    SESSION_HTTP_PORT: '0',
    ...env,
  });
  const service = await startSessionService(config, pino({ level: 'silent' }), options);
  const redis = await connectRedis(config.redisUrl);
  const nats = await connect({ servers: natsServer.url });
  const created: string[] = [];
  const request = (campaignId: string, verb: Verb, body: unknown, timeoutMs = 10_000) =>
    requestOver(nats, campaignId, verb, body, timeoutMs);
  return {
    db,
    redis,
    nats,
    service,
    request,
    async createCampaign(world, campaignLabel = label) {
      const campaignId = await createCampaignOver(nats, world, campaignLabel);
      created.push(campaignId);
      return campaignId;
    },
    startSession: (campaignId, playerIds) => startSessionOver(nats, campaignId, playerIds),
    async close() {
      await nats.close();
      await service.close();
      // The Redis is shared with other test files: leave no campaign of this file behind.
      for (const campaignId of created) await deleteCampaignKeys(redis, campaignId).catch(() => 0);
      redis.disconnect();
      await natsServer.stop();
      await db.destroy();
    },
  };
}

export type { WireReply };
