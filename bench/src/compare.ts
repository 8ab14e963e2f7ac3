/**
 * Lorekeeper beside the alternatives, in one run: the real session service over NATS (with the
 * persistence worker running), the raw Redis Function ceiling, a bare NestJS NATS echo, and
 * write-through to Postgres, on the simulated game's mix and on a hot-entity load. Each contender is
 * probed, ramped through open-loop offered loads to saturation, then held at 50% and 90% of it;
 * contenders run interleaved, several rounds, and the report gives medians and ratios.
 *
 *   npm run bench:compare [-- --quick] [-- --rounds 3 --seconds 3 --only echo,lorekeeper-1]
 *   npm run bench:compare -- --profile --only lorekeeper-1   (writes compare-profile.md only)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { createDatabase, dropDatabase, ensureDatabaseExists, migrateToLatest } from '@lorekeeper/pg-store';
import { connectRedis, loadFunctions } from '@lorekeeper/redis-store';
import type { ServerProcess, ServiceProcess } from '@lorekeeper/testing';
import { generateWorld, spawnService, startPrivateNats, uniqueDatabaseUrl } from '@lorekeeper/testing';
import { loadCeiling } from './ceiling';
import type { Child } from './children';
import { spawnNode } from './children';
import { profileMarkdown, summariseProfile } from './cpu-profile';
import type { BlockResult, Plan, Scenario } from './compare-run';
import { runBlock } from './compare-run';
import { writeReport } from './compare-report';
import type { Contender, Stores } from './contenders';
import { ceiling, echo, lorekeeper, naiveWriteThrough } from './contenders';
import type { CpuSource } from './cpu';
import { ECHO_READY_LINE } from './echo-wire';
import { gameMix, hotEntities } from './workload';

const root = join(__dirname, '..', '..');
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const quick = args.includes('--quick');
const rounds = Number(option('rounds') ?? (quick ? 2 : 3));
const stepSeconds = Number(option('seconds') ?? (quick ? 1 : 3));
const only = option('only')?.split(',');
const profile = args.includes('--profile');
const resultsDir = join(root, 'bench', 'results');

const plan: Plan = {
  probeSeconds: stepSeconds,
  stepSeconds,
  rampFractions: quick ? [0.5, 1, 1.5] : [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2],
  probeInFlight: 64,
  maxOutstanding: 2_048,
};

const scenarios: Scenario[] = [
  {
    name: 'game mix',
    world: (campaignId) =>
      generateWorld({ campaignId, regions: 50, players: 200, npcs: 300, items: 600, quests: 300, seed: 11 }),
    players: () => Array.from({ length: 200 }, (_, i) => `player:p${i}`),
    workload: (world, players) => gameMix(world.entities, players, 23),
  },
  {
    name: 'hot entities (10 players)',
    world: (campaignId) =>
      generateWorld({ campaignId, regions: 5, players: 10, npcs: 0, items: 0, quests: 0, seed: 11 }),
    players: () => Array.from({ length: 10 }, (_, i) => `player:p${i}`),
    workload: (world, players) => hotEntities(world.entities, players, 29),
  },
];

async function main(): Promise<void> {
  const databaseUrl = uniqueDatabaseUrl('bench_compare');
  await ensureDatabaseExists(databaseUrl);
  const db = createDatabase(databaseUrl);
  const writeThroughDb = createDatabase(databaseUrl, { maxConnections: 8 });
  await migrateToLatest(db);
  const redis = await connectRedis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  await loadFunctions(redis);
  await loadCeiling(redis);
  const natsServer = await startPrivateNats();
  const env = { DATABASE_URL: databaseUrl, NATS_URL: natsServer.url };
  const profileDir = profile ? mkdtempSync(join(tmpdir(), 'lk-profile-')) : '';
  // --cpu-prof may not go in NODE_OPTIONS, so a profiled session service is started by hand.
  const session: Child = profile
    ? await spawnNode(
        ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, join(root, 'apps/session-service/dist/main.js')],
        { ...env, LOG_LEVEL: 'info', SESSION_HTTP_PORT: '0' },
        'session service ready',
      )
    : await spawnService('session-service', env).then((s) => ({
        process: s.process,
        stop: () => s.stop().then(() => undefined),
      }));
  const worker = await spawnService('persistence-worker', env);
  // The echo service runs as a child process of its own, so its CPU is counted apart from ours.
  const echoService = await spawnNode(
    [join(__dirname, 'echo-service.js')],
    { NATS_URL: natsServer.url },
    ECHO_READY_LINE,
  );
  const nats = await connect({ servers: natsServer.url });
  const stores: Stores = { nats, redis, db, writeThroughDb };
  try {
    const cpu = cpuSources({ session, worker, natsServer, echoService, redisPid: await redisPid() });
    const contenders = chosen([
      ['lorekeeper-1', lorekeeper(stores, 1)],
      ['lorekeeper-20', lorekeeper(stores, 20)],
      ['echo', echo(stores)],
      ['ceiling-1', ceiling(stores, 1)],
      ['ceiling-20', ceiling(stores, 20)],
      ['write-through', naiveWriteThrough(stores)],
    ]);
    const results: BlockResult[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      for (const scenario of scenarios) {
        process.stderr.write(`round ${round}/${rounds}, ${scenario.name}\n`);
        for (const contender of contenders) {
          const log = (line: string) => process.stderr.write(`${line}\n`);
          results.push(await runBlock(contender, scenario, round, plan, cpu, log));
        }
      }
    }
    // A profiled run keeps its figures out of compare.md: the profiler slows the service it watches.
    if (!profile) writeReport(resultsDir, { quick, rounds, plan, contenders, scenarios, results });
  } finally {
    await nats.close().catch(() => undefined);
    await echoService.stop();
    await session.stop();
    if (profile) writeProfile(profileDir, contenderKeys());
    await worker.stop();
    await natsServer.stop();
    redis.disconnect();
    await writeThroughDb.destroy();
    await db.destroy();
    await dropDatabase(databaseUrl);
  }
}

/** The session service wrote its profile on exit; summarise it beside the results. */
function writeProfile(dir: string, what: string): void {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the session service left no .cpuprofile in ${dir}`);
  const context =
    `\`npm run bench:compare -- ${args.join(' ')}\` (${what}): \`node --cpu-prof\` on the session service for the ` +
    `whole run, ramping each contender to saturation and past it. Profile: ${join(dir, file)} (not kept).`;
  const lines = profileMarkdown(summariseProfile(join(dir, file), 20), context);
  writeFileSync(join(resultsDir, 'compare-profile.md'), `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

const contenderKeys = () => only?.join(', ') ?? 'every contender';

function chosen(all: [string, Contender][]): Contender[] {
  const picked = all.filter(([key]) => !only || only.includes(key)).map(([, contender]) => contender);
  if (picked.length === 0)
    throw new Error(`--only matched nothing; choose from ${all.map(([k]) => k).join(', ')}`);
  return picked;
}

async function redisPid(): Promise<number> {
  const redis = await connectRedis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  try {
    const info = await redis.info('server');
    return Number(/process_id:(\d+)/.exec(info)?.[1]);
  } finally {
    redis.disconnect();
  }
}

function cpuSources(p: {
  session: Child;
  worker: ServiceProcess;
  natsServer: ServerProcess;
  echoService: Child;
  redisPid: number;
}): CpuSource[] {
  const pidOf = (child: ChildProcess | undefined) => child?.pid ?? -1;
  return [
    { label: 'session service', pid: pidOf(p.session.process) },
    { label: 'persistence worker', pid: pidOf(p.worker.process) },
    { label: 'echo service', pid: pidOf(p.echoService.process) },
    { label: 'nats-server', pid: pidOf(p.natsServer.process) },
    { label: 'redis-server', pid: p.redisPid },
    // Every postgres process on the machine: our backends, plus whatever else is using this server.
    { label: 'postgres (all)', named: 'postgres' },
    { label: 'bench client', self: true },
  ];
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
