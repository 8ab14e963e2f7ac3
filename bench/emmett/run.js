#!/usr/bin/env node
'use strict';
/**
 * Emmett's PostgreSQL event store beside the naive write-through, in one script, interleaved rounds,
 * medians and ratios: 8 clients append one event at a time for 200 players (a gold change each).
 *   - emmett, log only: appendToStream per event, no projection;
 *   - emmett + inline projection: the same, with a raw-SQL inline projection keeping a players table
 *     current in the append's transaction (the state a game server could read);
 *   - write-through: one transaction per event (read the row FOR UPDATE, update it, insert the event).
 * Emmett's concurrent appends throw version conflicts even without an expected version; they are
 * retried and counted. Writes bench/results/emmett.md and .json. Lorekeeper's own figures against the
 * same write-through are in bench/results/compare.md and worker.md; the ratio between the two files
 * goes through that common baseline.
 *
 *   node bench/emmett/run.js [--quick]
 */
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { randomBytes } = require('node:crypto');

const here = __dirname;
if (!existsSync(path.join(here, 'node_modules', '@event-driven-io', 'emmett-postgresql'))) {
  process.stderr.write('bench/emmett: installing Emmett into bench/emmett/node_modules (once)\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock'], {
    cwd: here,
    stdio: 'inherit',
  });
}
const { getPostgreSQLEventStore, postgreSQLRawSQLProjection } = require('@event-driven-io/emmett-postgresql');
const { isExpectedVersionConflictError, projections } = require('@event-driven-io/emmett');
const { SQL } = require('@event-driven-io/dumbo');
const pg = require('pg');

// Lorekeeper itself, from the workspace's build (`npm run build` first).
const root = path.join(here, '..', '..');
const { connect } = require(path.join(root, 'node_modules', 'nats'));
const { LorekeeperClient } = require(path.join(root, 'libs', 'client', 'dist'));
const { generateWorld } = require(path.join(root, 'libs', 'domain', 'dist'));
const { spawnService, startPrivateNats } = require(path.join(root, 'libs', 'testing', 'dist'));

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 2 : 5;
const ROUNDS = quick ? 1 : 3;
const CLIENTS = 8;
const PLAYERS = 200;
const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function withDatabase(url, name) {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function admin(sql) {
  const client = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Run `once(client, i)` from CLIENTS loops for SECONDS; returns events/s and retries. */
async function closedLoop(once) {
  let events = 0;
  let retries = 0;
  const end = Date.now() + SECONDS * 1_000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let i = 0; Date.now() < end; i += 1) {
        retries += await once(client, i);
        events += 1;
      }
    }),
  );
  return { eventsPerSecond: (events * 1_000) / (Date.now() - started), retries };
}

const playerOf = (client, i) => `p${(client * 37 + i) % PLAYERS}`;

async function emmettContender(url, withProjection) {
  const options = withProjection
    ? {
        projections: projections.inline([
          postgreSQLRawSQLProjection({
            name: 'players',
            canHandle: ['GoldChanged'],
            init: () => SQL`CREATE TABLE IF NOT EXISTS players (id text PRIMARY KEY, gold integer NOT NULL)`,
            evolve: (event) =>
              SQL`INSERT INTO players (id, gold) VALUES (${event.data.playerId}, ${event.data.delta})
                  ON CONFLICT (id) DO UPDATE SET gold = players.gold + EXCLUDED.gold`,
          }),
        ]),
      }
    : {};
  const store = getPostgreSQLEventStore(url, options);
  // The first append creates the schema; keep it out of the timing.
  await store.appendToStream('warmup', [{ type: 'GoldChanged', data: { playerId: 'warmup', delta: 1 } }]);
  const result = await closedLoop(async (client, i) => {
    const playerId = playerOf(client, i);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await store.appendToStream(`player-${playerId}`, [
          { type: 'GoldChanged', data: { playerId, delta: 1 } },
        ]);
        return attempt;
      } catch (error) {
        const conflict =
          isExpectedVersionConflictError(error) || /Expected version/.test(String(error && error.message));
        if (attempt >= 50 || !conflict) throw error;
      }
    }
  });
  await store.close();
  return result;
}

async function writeThroughContender(url) {
  const pool = new pg.Pool({ connectionString: url, max: CLIENTS });
  await pool.query(`CREATE TABLE IF NOT EXISTS wt_players (id text PRIMARY KEY, gold integer NOT NULL, version integer NOT NULL);
    CREATE TABLE IF NOT EXISTS wt_events (seq bigserial PRIMARY KEY, player_id text NOT NULL, data jsonb NOT NULL);
    INSERT INTO wt_players SELECT 'p' || g, 0, 0 FROM generate_series(0, ${PLAYERS - 1}) g ON CONFLICT DO NOTHING`);
  const result = await closedLoop(async (client, i) => {
    const playerId = playerOf(client, i);
    const connection = await pool.connect();
    try {
      await connection.query('BEGIN');
      const { rows } = await connection.query(
        'SELECT gold, version FROM wt_players WHERE id = $1 FOR UPDATE',
        [playerId],
      );
      await connection.query('UPDATE wt_players SET gold = $2, version = $3 WHERE id = $1', [
        playerId,
        rows[0].gold + 1,
        rows[0].version + 1,
      ]);
      await connection.query('INSERT INTO wt_events (player_id, data) VALUES ($1, $2)', [
        playerId,
        { delta: 1 },
      ]);
      await connection.query('COMMIT');
    } finally {
      connection.release();
    }
    return 0;
  });
  await pool.end();
  return result;
}

/**
 * Lorekeeper with the same shape: the real session service and worker, one gold change per append
 * through NATS. Its acknowledgement means "in Redis and the stream"; the worker makes it durable in
 * Postgres in batches (a major event would wait for that, see DESIGN.md).
 */
async function lorekeeperSystem(url) {
  execFileSync(process.execPath, [path.join(root, 'apps', 'cli', 'bin', 'lorekeeper.js'), 'migrate'], {
    env: { ...process.env, DATABASE_URL: url },
    stdio: 'ignore',
  });
  const nats = await startPrivateNats();
  const env = { DATABASE_URL: url, NATS_URL: nats.url, LOG_LEVEL: 'info' };
  const services = [
    await spawnService('session-service', env),
    await spawnService('persistence-worker', env),
  ];
  const connection = await connect({ servers: nats.url });
  const client = new LorekeeperClient(connection);
  return {
    client,
    async close() {
      await connection.close();
      for (const service of services) await service.stop();
      await nats.stop();
    },
  };
}

async function lorekeeperContender(system, round) {
  const campaignId = `emmett-bench-${round}-${randomBytes(3).toString('hex')}`;
  const world = generateWorld({
    campaignId,
    regions: 10,
    players: PLAYERS,
    npcs: 0,
    items: 0,
    quests: 0,
    seed: round,
  });
  await system.client.createCampaign(world);
  const players = Array.from({ length: PLAYERS }, (_, i) => `player:p${i}`);
  const { sessionId } = await system.client.startSession(campaignId, players);
  const result = await closedLoop(async (client, i) => {
    const entityId = `player:${playerOf(client, i)}`;
    await system.client.append(campaignId, sessionId, [
      { type: 'player.gold.changed', entityId, data: { delta: 1 } },
    ]);
    return 0;
  });
  await system.client.endSession(campaignId, sessionId);
  return result;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main() {
  const name = `lk_bench_emmett_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = withDatabase(base, name);
  const lorekeeperName = `${name}_lk`;
  await admin(`CREATE DATABASE ${lorekeeperName}`);
  const system = await lorekeeperSystem(withDatabase(base, lorekeeperName));
  const samples = {
    lorekeeper: [],
    'emmett, log only': [],
    'emmett + inline projection': [],
    'write-through': [],
  };
  const retries = {
    lorekeeper: 0,
    'emmett, log only': 0,
    'emmett + inline projection': 0,
    'write-through': 0,
  };
  try {
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const [label, run] of [
        ['lorekeeper', () => lorekeeperContender(system, round)],
        ['emmett, log only', () => emmettContender(url, false)],
        ['emmett + inline projection', () => emmettContender(url, true)],
        ['write-through', () => writeThroughContender(url)],
      ]) {
        const result = await run();
        samples[label].push(result.eventsPerSecond);
        retries[label] += result.retries;
        process.stderr.write(
          `${label.padEnd(30)} ${Math.round(result.eventsPerSecond)} events/s (${result.retries} conflict retries)\n`,
        );
      }
    }
  } finally {
    const { endAllPools } = require('@event-driven-io/dumbo');
    await endAllPools().catch(() => undefined);
    await system.close();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin(`DROP DATABASE IF EXISTS ${lorekeeperName} WITH (FORCE)`);
  }
  const emmettProjected = median(samples['emmett + inline projection']);
  const writeThrough = median(samples['write-through']);
  const lines = [
    "# Lorekeeper beside Emmett's PostgreSQL event store and write-through",
    '',
    `${CLIENTS} clients, one event per append, ${PLAYERS} players; ${ROUNDS} interleaved round(s) of ${SECONDS} s; medians. ` +
      'Emmett 0.42.0 (`@event-driven-io/emmett-postgresql`), installed apart in bench/emmett (its peer dependency on ' +
      "commander 12 conflicts with the CLI's commander 14). Everything shares the 2-core machine.",
    '',
    '| contender | events/s (median) | × write-through | × Emmett with projection | version-conflict retries |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...Object.keys(samples).map((label) => {
      const eps = median(samples[label]);
      return `| ${label} | ${Math.round(eps)} | ${(eps / writeThrough).toFixed(2)} | ${(eps / emmettProjected).toFixed(2)} | ${retries[label]} |`;
    }),
    '',
    'Lorekeeper: the real session service and worker, through NATS; its reply means the event is in Redis and',
    "its stream (durable in Postgres within the worker's next flush; a major event's reply waits for that).",
    'Emmett and write-through reply once Postgres committed. Targets (issue 8): >= 10x write-through and >= 10x',
    'Emmett with a projection keeping state current.',
  ];
  const out = path.join(here, '..', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'emmett.md'), `${lines.join('\n')}\n`);
  writeFileSync(
    path.join(out, 'emmett.json'),
    `${JSON.stringify({ CLIENTS, PLAYERS, SECONDS, ROUNDS, samples, retries }, null, 2)}\n`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error) => {
  process.stderr.write(`bench/emmett: ${error && error.stack ? error.stack : String(error)}\n`);
  process.exit(1);
});
