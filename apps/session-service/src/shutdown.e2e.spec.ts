import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { connectRedis, readStreamRange } from '@lorekeeper/redis-store';
import type { Redis } from '@lorekeeper/redis-store';
import type { ServerProcess, TestDatabase } from '@lorekeeper/testing';
import {
  createTestDatabase,
  startPrivateNats,
  tinyWorld,
  uniqueCampaignId,
  waitUntil,
} from '@lorekeeper/testing';
import { decodeReply } from '@lorekeeper/testing';

const MAIN = join(__dirname, '..', 'dist', 'main.js');

let db: TestDatabase;
let natsServer: ServerProcess;
let nats: NatsConnection;
let redis: Redis;

beforeAll(async () => {
  db = await createTestDatabase('shutdown');
  natsServer = await startPrivateNats();
  nats = await connect({ servers: natsServer.url });
  redis = await connectRedis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
});
afterAll(async () => {
  await nats.close();
  redis.disconnect();
  await natsServer.stop();
  await db.destroy();
});

function startService(): { child: ChildProcess; exited: Promise<number | null>; ready: Promise<void> } {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      NATS_URL: natsServer.url,
      SESSION_HTTP_PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('session service ready')) resolve();
    });
    child.once('exit', () => reject(new Error(`service exited before it was ready:\n${output}`)));
  });
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, ready };
}

async function request(subject: string, body: unknown) {
  return decodeReply(await nats.request(subject, JSON.stringify(body), { timeout: 5_000 })).body;
}

describe('the built session service process', () => {
  it('answers or refuses every batch whole when stopped with SIGTERM under load', async () => {
    const service = startService();
    await service.ready;
    const campaignId = uniqueCampaignId('sigterm');
    expect(await request(`campaign.${campaignId}.create`, { ...tinyWorld, campaignId })).toMatchObject({
      campaignId,
    });
    const { sessionId } = (await request(`campaign.${campaignId}.session.start`, {
      playerIds: ['player:alice'],
    })) as {
      sessionId: string;
    };

    const acknowledged: { seq: number; results: { seq: number; version: number }[] }[] = [];
    let stop = false;
    const batch = Array.from({ length: 5 }, () => ({
      type: 'player.xp.gained',
      entityId: 'player:alice',
      data: { amount: 1 },
    }));
    const loop = async () => {
      while (!stop) {
        try {
          const reply = await request(`campaign.${campaignId}.append`, { sessionId, events: batch });
          if (reply.error) throw new Error(JSON.stringify(reply.error));
          acknowledged.push(reply);
        } catch {
          // No responders or a timeout once the service is gone: this batch was not acknowledged.
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    };
    const loops = Array.from({ length: 8 }, loop);
    await waitUntil(() => acknowledged.length >= 50, 20_000, '50 acknowledged batches');
    service.child.kill('SIGTERM');
    const code = await service.exited;
    stop = true;
    await Promise.all(loops);

    expect(code).toBe(0);
    const stream = await readStreamRange(redis, campaignId, 1, undefined, 1_000_000);
    // No half batch: the stream holds whole batches of five, each under one batch id.
    const sizes = new Map<string, number>();
    for (const event of stream) sizes.set(event.meta.batchId, (sizes.get(event.meta.batchId) ?? 0) + 1);
    expect([...sizes.values()].every((size) => size === 5)).toBe(true);
    // Every acknowledged batch is in the stream, with the versions its reply named.
    const bySeq = new Map(stream.map((event) => [event.seq, event]));
    for (const reply of acknowledged) {
      for (const result of reply.results) expect(bySeq.get(result.seq)?.version).toBe(result.version);
    }
    expect(stream.length).toBeGreaterThanOrEqual(acknowledged.length * 5);
    // Versions are contiguous: nothing was applied twice or skipped.
    expect(stream.map((event) => event.version)).toEqual(stream.map((_, i) => i + 1));
  });

  it('exits non-zero naming the service it cannot reach and how to start it', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        NATS_URL: natsServer.url,
        REDIS_URL: 'redis://127.0.0.1:1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('cannot reach Redis at redis://127.0.0.1:1');
    expect(stderr).toContain('docker compose up -d redis');
  });
});
