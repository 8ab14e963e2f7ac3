/**
 * Append throughput and latency through NATS and the real session service, with batches of 1 and of
 * 20 events, beside the ceiling: raw XADD+HSET from one Redis Function, pipelined from this script.
 * Contenders run interleaved, several rounds; the report gives medians and ratios, never one timing.
 *
 *   npm run bench:append [-- --quick] [-- --seconds 5 --rounds 3 --in-flight 64]
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { Requests } from '@lorekeeper/client';
import { createDatabase, dropDatabase, ensureDatabaseExists, migrateToLatest } from '@lorekeeper/pg-store';
import { connectRedis, deleteCampaignKeys } from '@lorekeeper/redis-store';
import {
  dieWithParent,
  generateWorld,
  startPrivateNats,
  uniqueDatabaseUrl,
  waitUntil,
} from '@lorekeeper/testing';
import { ceilingAppend, ceilingKeys, loadCeiling } from './ceiling';
import { REPO_ROOT, numberFlag, runBench, writeResults } from './results';
import { closedLoop, median, summarise } from './stats';
import { checkArgs } from './usage';

checkArgs({
  command: 'npm run bench:append --',
  summary: 'Appends through the session service beside the raw Redis Function, closed loop.',
  options: [
    { name: 'quick', help: '2-second loads, two rounds' },
    { name: 'seconds', value: 'N', help: 'seconds per load (5)' },
    { name: 'rounds', value: 'N', help: 'rounds (3; 2 with --quick)' },
    { name: 'in-flight', value: 'N', help: 'requests in flight (64)' },
  ],
});
const root = REPO_ROOT;
const flag = numberFlag;
const quick = process.argv.includes('--quick');
const seconds = flag('seconds', quick ? 2 : 5);
const rounds = flag('rounds', quick ? 2 : 3);
const inFlight = flag('in-flight', 64);
const PLAYERS = 200;

interface Contender {
  readonly name: string;
  readonly batch: number;
  run(worker: number, i: number): Promise<number>;
}

async function main(): Promise<void> {
  const databaseUrl = uniqueDatabaseUrl('bench_append');
  await ensureDatabaseExists(databaseUrl);
  const db = createDatabase(databaseUrl);
  await migrateToLatest(db);
  await db.destroy();
  const natsServer = await startPrivateNats();
  const service = dieWithParent(
    spawn(process.execPath, [join(root, 'apps/session-service/dist/main.js')], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        NATS_URL: natsServer.url,
        SESSION_HTTP_PORT: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const nats = await connect({ servers: natsServer.url, noAsyncTraces: true });
  const redis = await connectRedis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  const campaignId = `bench-${Date.now()}`;
  try {
    await waitUntil(
      () =>
        ask(nats, `campaign.${campaignId}.entity.get`, { entityId: 'world' }).then(
          () => true,
          () => false,
        ),
      20_000,
      'the session service',
    );
    const world = generateWorld({
      campaignId,
      regions: 50,
      players: PLAYERS,
      npcs: 100,
      items: 400,
      quests: 100,
      seed: 7,
    });
    await ask(nats, `campaign.${campaignId}.create`, world);
    const playerIds = Array.from({ length: PLAYERS }, (_, i) => `player:p${i}`);
    const { sessionId } = (await ask(nats, `campaign.${campaignId}.session.start`, { playerIds })) as {
      sessionId: string;
    };
    await loadCeiling(redis);
    const keys = ceilingKeys(campaignId);

    const event = (worker: number, i: number, k: number) => ({
      type: 'player.xp.gained',
      entityId: `player:p${(worker * 31 + i * 20 + k) % PLAYERS}`,
      data: { amount: 1 },
    });
    const lorekeeper = (batch: number): Contender => ({
      name: `lorekeeper, batch ${batch}`,
      batch,
      run: async (worker, i) => {
        const events = Array.from({ length: batch }, (_, k) => event(worker, i, k));
        const reply = await ask(nats, `campaign.${campaignId}.append`, { sessionId, events });
        if ((reply as { error?: unknown }).error) throw new Error(JSON.stringify(reply));
        return batch;
      },
    });
    const ceiling = (batch: number): Contender => ({
      name: `raw Redis Function XADD+HSET, batch ${batch}`,
      batch,
      run: async (worker, i) => {
        const events = Array.from({ length: batch }, (_, k) => {
          const e = event(worker, i, k);
          return { ...e, entity: { id: e.entityId, version: i, state: { xp: i } } };
        });
        await ceilingAppend(redis, keys, events);
        return batch;
      },
    });
    const contenders = [lorekeeper(1), ceiling(1), lorekeeper(20), ceiling(20)];
    const results = new Map<string, { eps: number[]; latencies: number[] }>(
      contenders.map((c) => [c.name, { eps: [], latencies: [] }]),
    );
    for (let round = 1; round <= rounds; round += 1) {
      for (const contender of contenders) {
        const run = await closedLoop(seconds, inFlight, (w, i) => contender.run(w, i));
        const entry = results.get(contender.name);
        entry?.eps.push(run.eventsPerSecond);
        for (const latency of run.latencies) entry?.latencies.push(latency);
        process.stderr.write(
          `round ${round}/${rounds}  ${contender.name.padEnd(40)} ${Math.round(run.eventsPerSecond)} events/s\n`,
        );
      }
    }
    report(contenders, results);
  } finally {
    nats.close().catch(() => undefined);
    await deleteCampaignKeys(redis, campaignId).catch(() => 0);
    await redis.del(ceilingKeys(campaignId).stream, ceilingKeys(campaignId).hash);
    redis.disconnect();
    service.kill('SIGTERM');
    await new Promise((resolve) => service.once('exit', resolve));
    await natsServer.stop();
    await dropDatabase(databaseUrl);
  }
}

async function ask(nats: NatsConnection, subject: string, body: unknown): Promise<unknown> {
  const reply = await Requests.of(nats).request(subject, JSON.stringify(body), 30_000);
  return JSON.parse(reply.string()) as unknown;
}

function report(
  contenders: readonly Contender[],
  results: Map<string, { eps: number[]; latencies: number[] }>,
): void {
  const rows = contenders.map((c) => {
    const r = results.get(c.name) ?? { eps: [], latencies: [] };
    return {
      name: c.name,
      batch: c.batch,
      eventsPerSecond: median(r.eps),
      rounds: r.eps,
      latencyMs: summarise(r.latencies),
    };
  });
  const ceilingFor = (batch: number) =>
    rows.find((r) => r.batch === batch && r.name.startsWith('raw'))?.eventsPerSecond ?? 1;
  const lines = [
    `# Append benchmark`,
    ``,
    `${rounds} rounds × ${seconds} s per contender, interleaved, ${inFlight} requests in flight, ${PLAYERS} players; ` +
      `client, services and Redis share this machine (${cpus().length} cores).`,
    ``,
    `| contender | events/s (median) | × ceiling | latency p50 / p99 / p99.9 per request (ms) |`,
    `| --- | ---: | ---: | --- |`,
    ...rows.map(
      (r) =>
        `| ${r.name} | ${Math.round(r.eventsPerSecond)} | ${(r.eventsPerSecond / ceilingFor(r.batch)).toFixed(3)} | ` +
        `${r.latencyMs.p50.toFixed(2)} / ${r.latencyMs.p99.toFixed(2)} / ${r.latencyMs.p999.toFixed(2)} |`,
    ),
  ];
  writeResults('append', lines, { seconds, rounds, inFlight, rows });
}

runBench(main);
