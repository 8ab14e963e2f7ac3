import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import pino from 'pino';
import { loadConfig } from '@lorekeeper/config';
import type { WorldDocument } from '@lorekeeper/domain';
import type { Redis } from '@lorekeeper/redis-store';
import { connectRedis, deleteCampaignKeys } from '@lorekeeper/redis-store';
import type { ServerProcess, ServiceProcess, TestDatabase, WireReply } from '@lorekeeper/testing';
import {
  createTestDatabase,
  requestOver,
  spawnService,
  startPrivateNats,
  createCampaignOver,
  startSessionOver,
} from '@lorekeeper/testing';
import type { RunningWorker } from '../service';
import { startPersistenceWorker } from '../service';

/**
 * The whole system for one test file: its own database and NATS server, the built session service as
 * a process, and workers started in this process (so a test can inspect them) or as processes.
 */
export interface System {
  readonly db: TestDatabase;
  readonly redis: Redis;
  readonly nats: NatsConnection;
  readonly env: Record<string, string>;
  readonly sessionService: ServiceProcess;
  request(campaignId: string, verb: string, body: unknown, timeoutMs?: number): Promise<WireReply>;
  createCampaign(world: WorldDocument, label?: string): Promise<string>;
  startSession(campaignId: string, playerIds: readonly string[]): Promise<string>;
  startWorker(): Promise<RunningWorker>;
  spawnWorker(): Promise<ServiceProcess>;
  close(): Promise<void>;
}

export async function startSystem(label: string, settings: Record<string, string> = {}): Promise<System> {
  const db = await createTestDatabase(label);
  const natsServer: ServerProcess = await startPrivateNats();
  const env = { ...settings, DATABASE_URL: db.url, NATS_URL: natsServer.url };
  const sessionService = await spawnService('session-service', env);
  const redis = await connectRedis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  const nats = await connect({ servers: natsServer.url });
  const workers: RunningWorker[] = [];
  const created: string[] = [];
  const processes: ServiceProcess[] = [sessionService];
  const request = (campaignId: string, verb: string, body: unknown, timeoutMs?: number) =>
    requestOver(nats, campaignId, verb, body, timeoutMs);
  return {
    db,
    redis,
    nats,
    env,
    sessionService,
    request,
    async createCampaign(world, campaignLabel = label) {
      const campaignId = await createCampaignOver(nats, world, campaignLabel);
      created.push(campaignId);
      return campaignId;
    },
    startSession: (campaignId, playerIds) => startSessionOver(nats, campaignId, playerIds),
    async startWorker() {
      const config = loadConfig({ ...process.env, ...env, WORKER_HTTP_PORT: '0' });
      const worker = await startPersistenceWorker(
        config,
        pino({ level: process.env['WORKER_LOG_LEVEL'] ?? 'silent' }),
      );
      workers.push(worker);
      return worker;
    },
    async spawnWorker() {
      const worker = await spawnService('persistence-worker', env);
      processes.push(worker);
      return worker;
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      for (const child of processes) {
        if (child.process.exitCode === null && child.process.signalCode === null)
          child.process.kill('SIGKILL');
        await child.exited;
      }
      await nats.close();
      // The Redis is shared with other test files: leave no campaign of this file behind.
      for (const campaignId of created) await deleteCampaignKeys(redis, campaignId).catch(() => 0);
      redis.disconnect();
      await natsServer.stop();
      await db.destroy();
    },
  };
}
