/**
 * Lorekeeper beside the alternatives, in one run: the real session service over NATS (with the
 * persistence worker running), the raw Redis Function ceiling, a bare NestJS NATS echo, write-through
 * to Postgres and Emmett's PostgreSQL event store (log only and with an inline projection), on the
 * simulated game's mix and on a hot-entity load. Each contender is probed, ramped through open-loop
 * offered loads to saturation, then held at 50% and 90% of it; contenders run interleaved, several
 * rounds, and the report gives medians and ratios.
 *
 *   npm run bench:compare [-- --quick] [-- --rounds 3 --seconds 3 --only echo,lorekeeper-1 --scenarios game-mix]
 *   npm run bench:compare -- --profile --only lorekeeper-1 --scenarios game-mix   (compare-profile.md/json only)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { createDatabase, dropDatabase, ensureDatabaseExists, migrateToLatest } from '@lorekeeper/pg-store';
import { connectRedis, loadFunctions } from '@lorekeeper/redis-store';
import type { ServerProcess, ServiceProcess } from '@lorekeeper/testing';
import { spawnService, startPrivateNats, uniqueDatabaseUrl } from '@lorekeeper/testing';
import { loadCeiling } from './ceiling';
import type { Child } from './children';
import { spawnNode } from './children';
import type { CompareData, SkippedContender } from './compare-data';
import { toSample } from './compare-data';
import { writeCompareReport } from './compare-report';
import type { BlockResult, Plan, Scenario } from './compare-run';
import { runBlock, warmUp } from './compare-run';
import { SCENARIOS } from './compare-scenarios';
import { writeCompareProfile } from './compare-profile';
import type { Contender, Stores } from './contenders';
import { EMMETT_NAMES, ceiling, echo, emmettAppend, lorekeeper, naiveWriteThrough } from './contenders';
import type { CpuSource } from './cpu';
import { ECHO_READY_LINE } from './echo-wire';
import type { EmmettLoad } from './emmett';
import { loadEmmett } from './emmett';
import { REPO_ROOT, runBench } from './results';
import { checkArgs } from './usage';

checkArgs({
  command: 'npm run bench:compare --',
  summary:
    'Lorekeeper beside the raw Redis Function ceiling, a bare NestJS NATS echo, write-through and\n' +
    "Emmett's PostgreSQL store, open loop to saturation, interleaved (about 25 minutes in full).",
  options: [
    { name: 'quick', help: 'two rounds of 1-second steps and a shorter ramp' },
    { name: 'rounds', value: 'N', help: 'interleaved rounds (3; 2 with --quick)' },
    { name: 'seconds', value: 'N', help: 'seconds per load step (3; 1 with --quick)' },
    {
      name: 'only',
      value: 'a,b',
      choices: [
        'lorekeeper-1',
        'lorekeeper-20',
        'echo',
        'ceiling-1',
        'ceiling-20',
        'write-through',
        'emmett-log',
        'emmett-projected',
      ],
      help: 'these contenders only',
    },
    { name: 'scenarios', value: 'a,b', choices: ['game-mix', 'hot-entities'], help: 'these scenarios only' },
    {
      name: 'profile',
      help: 'profile the session service instead (writes compare-profile.md and .json only)',
    },
  ],
});
const root = REPO_ROOT;
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const quick = args.includes('--quick');
const rounds = Number(option('rounds') ?? (quick ? 2 : 3));
const stepSeconds = Number(option('seconds') ?? (quick ? 1 : 3));
const only = option('only')?.split(',');
const onlyScenarios = option('scenarios')?.split(',');
const profile = args.includes('--profile');
const resultsDir = join(root, 'bench', 'results');
const log = (line: string) => process.stderr.write(`${line}\n`);

const plan: Plan = {
  probeSeconds: stepSeconds,
  stepSeconds,
  rampFractions: quick ? [0.5, 1, 1.5] : [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2],
  probeInFlight: 64,
  maxOutstanding: 2_048,
};

const wanted = (key: string) => !only || only.includes(key);

async function main(): Promise<void> {
  const scenarios = SCENARIOS.filter((s) => !onlyScenarios || onlyScenarios.includes(s.key));
  if (scenarios.length === 0)
    throw new Error(`--scenarios matched nothing; choose from ${SCENARIOS.map((s) => s.key).join(', ')}`);
  // Before anything is measured: an install must not run between two contenders' steps.
  const emmettKeys = Object.keys(EMMETT_NAMES).filter(wanted);
  const emmett: EmmettLoad | undefined = emmettKeys.length > 0 ? await loadEmmett(log) : undefined;
  const emmettUrl = emmett?.ok ? uniqueDatabaseUrl('bench_compare_emmett') : undefined;
  if (emmettUrl) await ensureDatabaseExists(emmettUrl);

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
  // A known port for the session service's /metrics (its LiveCache lookups are reported).
  const sessionHttpPort = await freePort();
  const sessionEnv = { ...env, SESSION_HTTP_PORT: String(sessionHttpPort) };
  const profiled = profile ? await startProfiledSession(sessionEnv) : undefined;
  const session: Child =
    profiled?.session ??
    (await spawnService('session-service', sessionEnv).then((s) => ({
      process: s.process,
      stop: () => s.stop().then(() => undefined),
    })));
  const worker = await spawnService('persistence-worker', env);
  // The echo service runs as a child process of its own, so its CPU is counted apart from ours.
  const echoService = await spawnNode(
    [join(__dirname, 'echo-service.js')],
    { NATS_URL: natsServer.url },
    ECHO_READY_LINE,
  );
  // As a busy game server would connect (docs/client.md): without nats.js's two stack traces per request.
  const nats = await connect({ servers: natsServer.url, noAsyncTraces: true });
  const stores: Stores = {
    nats,
    redis,
    db,
    writeThroughDb,
    sessionMetricsUrl: `http://127.0.0.1:${sessionHttpPort}/metrics`,
  };
  try {
    const cpu = cpuSources({ session, worker, natsServer, echoService, redisPid: await redisPid() });
    const all: Contender[] = [
      lorekeeper(stores, 1),
      lorekeeper(stores, 20),
      echo(stores),
      ceiling(stores, 1),
      ceiling(stores, 20),
      naiveWriteThrough(stores),
      ...(emmett?.ok && emmettUrl
        ? [
            emmettAppend({ emmett: emmett.emmett, url: emmettUrl }, false),
            emmettAppend({ emmett: emmett.emmett, url: emmettUrl }, true),
          ]
        : []),
    ];
    const contenders = all.filter((c) => wanted(c.key));
    if (contenders.length === 0)
      throw new Error(`--only matched nothing; choose from ${all.map((c) => c.key).join(', ')}`);
    const skipped: SkippedContender[] =
      emmett && !emmett.ok
        ? emmettKeys.map((key) => ({ key, name: EMMETT_NAMES[key]!, reason: emmett.reason }))
        : [];
    for (const s of skipped) log(`not measured: ${s.name}, because ${s.reason}`);
    log(`warming up every contender (${plan.probeSeconds} s each, not counted)`);
    for (const contender of contenders) await warmUp(contender, scenarios[0]!, plan);
    const results: BlockResult[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      for (const scenario of scenarios) {
        log(`round ${round}/${rounds}, ${scenario.name}`);
        for (const contender of contenders)
          results.push(await runBlock(contender, scenario, round, plan, cpu, log));
      }
    }
    // A profiled run keeps its figures out of compare.md: the profiler slows the service it watches.
    if (!profile)
      writeCompareReport(resultsDir, compareData(scenarios, contenders, skipped, results, emmett));
  } finally {
    await nats.close().catch(() => undefined);
    await echoService.stop();
    await session.stop();
    if (profiled) writeCompareProfile(profiled.dir, args, only?.join(', ') ?? 'every contender');
    await worker.stop();
    await natsServer.stop();
    redis.disconnect();
    await writeThroughDb.destroy();
    await db.destroy();
    await dropDatabase(databaseUrl);
    if (emmettUrl) await dropDatabase(emmettUrl);
  }
}

function compareData(
  scenarios: readonly Scenario[],
  contenders: readonly Contender[],
  skipped: readonly SkippedContender[],
  results: readonly BlockResult[],
  emmett: EmmettLoad | undefined,
): CompareData {
  return {
    meta: {
      date: new Date().toISOString(),
      cores: cpus().length,
      node: process.version,
      quick,
      ...(emmett?.ok ? { emmett: emmett.emmett.version } : {}),
    },
    rounds,
    plan,
    scenarios: scenarios.map(({ key, name }) => ({ key, name })),
    contenders: contenders.map(({ key, name, batch, acknowledgement }) => ({
      key,
      name,
      batch,
      acknowledgement,
    })),
    skipped,
    samples: results.map(toSample),
  };
}

/** --cpu-prof may not go in NODE_OPTIONS, so a profiled session service is started by hand. */
async function startProfiledSession(env: Record<string, string>): Promise<{ session: Child; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lk-profile-'));
  const session = await spawnNode(
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, join(root, 'apps/session-service/dist/main.js')],
    { LOG_LEVEL: 'info', SESSION_HTTP_PORT: '0', ...env },
    'session service ready',
  );
  return { session, dir };
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

runBench(main);

/** A TCP port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
