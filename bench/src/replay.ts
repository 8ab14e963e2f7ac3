/**
 * `lorekeeper state --at` on a long history: a campaign whose archive holds 1,000,000 events, with a
 * replay snapshot every 100,000 (what the worker's SNAPSHOT_EVERY_EVENTS default gives). Measured, in
 * the same script: the CLI as a user runs it (worst case: a point just before the next snapshot, so
 * 100k events are folded; a point in the middle; one entity), and the same state folded from the
 * created world with no snapshot to help (the design without snapshots). Medians and ratios.
 *
 *   npm run bench:replay [-- --quick] [-- --events 1000000 --rounds 3]
 */
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Entity, RecordedEvent } from '@lorekeeper/domain';
import { evolve, generateWorld } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import {
  CREATED_SNAPSHOT,
  INITIAL_CHECKPOINT,
  advanceCheckpoint,
  archiveEvents,
  indexEntityRange,
  createDatabase,
  createCampaignFromWorld,
  createSnapshot,
  dropDatabase,
  ensureDatabaseExists,
  findSnapshotAtOrBefore,
  migrateToLatest,
  upsertEntities,
} from '@lorekeeper/pg-store';
import type { Checkpoint } from '@lorekeeper/pg-store';
import { replayTo } from '@lorekeeper/replay';
import { uniqueDatabaseUrl } from '@lorekeeper/testing';
import type { Kysely } from 'kysely';
import { REPO_ROOT, numberFlag, runBench, writeResults } from './results';
import { median } from './stats';
import { checkArgs } from './usage';

checkArgs({
  command: 'npm run bench:replay --',
  summary: '`lorekeeper state --at` on a 1,000,000-event history, against the same fold without snapshots.',
  options: [
    { name: 'quick', help: '200,000 events, one round' },
    { name: 'events', value: 'N', help: 'events in the archive (1,000,000)' },
    { name: 'snapshot-every', value: 'N', help: 'events between replay snapshots (100,000)' },
    { name: 'rounds', value: 'N', help: 'rounds (3; 1 with --quick)' },
  ],
});
const exec = promisify(execFile);
const root = REPO_ROOT;
const flag = numberFlag;
const quick = process.argv.includes('--quick');
const EVENTS = flag('events', quick ? 200_000 : 1_000_000);
const SNAPSHOT_EVERY = flag('snapshot-every', 100_000);
const ROUNDS = flag('rounds', quick ? 1 : 3);
const CAMPAIGN = 'bench-replay';

/** Events that apply to `state` in turn: gold, xp, a move to a neighbour, an item handed on. */
function nextEvent(state: Map<string, Entity>, i: number, players: number, items: number): RecordedEvent {
  const player = `player:p${i % players}`;
  const meta = {
    sessionId: 'bench',
    batchId: `b${i}`,
    at: new Date(Date.UTC(2026, 10, 1) + i * 10).toISOString(),
  };
  const base = { seq: i + 1, version: 0, meta };
  switch (i % 4) {
    case 0:
      return { ...base, type: 'player.gold.changed', entityId: player, data: { delta: 1 } };
    case 1:
      return { ...base, type: 'player.xp.gained', entityId: player, data: { amount: 3 } };
    case 2: {
      const here = (state.get(player)?.state as { regionId: string }).regionId;
      const neighbours = (state.get(here)?.state as { neighbors: string[] }).neighbors;
      return {
        ...base,
        type: 'player.moved',
        entityId: player,
        data: { regionId: neighbours[i % neighbours.length] },
      };
    }
    default: {
      const item = `item:i${i % items}`;
      const owner = (state.get(item)?.state as { ownerId: string }).ownerId;
      const to = `player:p${(i * 7) % players}`;
      return {
        ...base,
        type: 'item.moved',
        entityId: item,
        data: { fromId: owner, toId: to === owner ? `player:p${(i * 7 + 1) % players}` : to },
      };
    }
  }
}

/** Write the history the way the worker would have: archive, entities and checkpoint per chunk, snapshots. */
async function recordHistory(db: Kysely<Database>): Promise<void> {
  const players = 1_000;
  const items = 500;
  const world = generateWorld({
    campaignId: CAMPAIGN,
    regions: 50,
    players,
    npcs: 0,
    items,
    quests: 0,
    seed: 3,
  });
  // Every item starts with a player, so item.moved always has a holder to move from.
  const entities = world.entities.map((e) =>
    e.kind === 'item'
      ? { ...e, state: { ...(e.state as object), ownerId: `player:p${Number(e.id.slice(6)) % players}` } }
      : e,
  );
  await db.transaction().execute(async (trx) => {
    await createCampaignFromWorld(trx, { id: CAMPAIGN, name: 'Replay bench' }, entities);
  });
  const state = new Map(entities.map((e) => [e.id, e]));
  let checkpoint: Checkpoint = INITIAL_CHECKPOINT;
  const chunk = 50_000;
  const started = Date.now();
  for (let from = 0; from < EVENTS; from += chunk) {
    const events: (RecordedEvent & { streamId: string })[] = [];
    const dirty = new Set<string>();
    for (let i = from; i < Math.min(EVENTS, from + chunk); i += 1) {
      const event = nextEvent(state, i, players, items);
      const next = evolve(state.get(event.entityId), event) as Entity;
      state.set(next.id, next);
      dirty.add(next.id);
      events.push({ ...event, version: next.version, streamId: `${event.seq}-0` });
    }
    const to = { seq: from + events.length, streamId: `${from + events.length}-0` };
    await db.transaction().execute(async (trx) => {
      await archiveEvents(trx, CAMPAIGN, events);
      await indexEntityRange(trx, CAMPAIGN, to.seq);
      await upsertEntities(
        trx,
        CAMPAIGN,
        [...dirty].map((id) => state.get(id) as Entity),
      );
      await advanceCheckpoint(trx, CAMPAIGN, checkpoint, to);
    });
    checkpoint = to;
    if (to.seq % SNAPSHOT_EVERY === 0) await createSnapshot(db, CAMPAIGN, `auto-${to.seq}`);
    process.stderr.write(
      `\rrecorded ${to.seq.toLocaleString('en-US')} events (${Math.round((to.seq * 1_000) / (Date.now() - started))}/s)`,
    );
  }
  process.stderr.write('\n');
}

async function timeCli(databaseUrl: string, ...cliArgs: string[]): Promise<number> {
  const t0 = performance.now();
  await exec(process.execPath, [join(root, 'apps/cli/bin/lorekeeper.js'), ...cliArgs], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    maxBuffer: 256 * 1024 * 1024,
  });
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const databaseUrl = uniqueDatabaseUrl('bench_replay');
  await ensureDatabaseExists(databaseUrl);
  const db = createDatabase(databaseUrl);
  const timings: Record<string, number[]> = {};
  const record = (name: string, ms: number) => {
    (timings[name] ??= []).push(ms);
    process.stderr.write(`${name.padEnd(58)} ${(ms / 1_000).toFixed(2)} s\n`);
  };
  // Just before a snapshot: the most a replay ever folds. Mid-way: half of that.
  const worst = EVENTS - 1;
  const middle = EVENTS - SNAPSHOT_EVERY / 2;
  try {
    const migrated = await migrateToLatest(db);
    if (migrated.error) throw migrated.error;
    await recordHistory(db);
    const created = await findSnapshotAtOrBefore(db, CAMPAIGN, 0);
    if (created?.name !== CREATED_SNAPSHOT) throw new Error('the created snapshot is missing');
    for (let round = 1; round <= ROUNDS; round += 1) {
      record(
        `lorekeeper state --at ${worst} (whole world)`,
        await timeCli(databaseUrl, 'state', CAMPAIGN, '--at', String(worst), '--json', '--no-redis'),
      );
      record(
        `lorekeeper state --at ${middle} (whole world)`,
        await timeCli(databaseUrl, 'state', CAMPAIGN, '--at', String(middle), '--json', '--no-redis'),
      );
      record(
        `lorekeeper state --at ${worst} --entity player:p7`,
        await timeCli(
          databaseUrl,
          'state',
          CAMPAIGN,
          '--at',
          String(worst),
          '--entity',
          'player:p7',
          '--json',
          '--no-redis',
        ),
      );
      // The baseline: the same fold from the created world, as a design without snapshots must.
      const t0 = performance.now();
      await withoutSnapshots(db, worst);
      record(`fold from the created world, no snapshots (in process)`, performance.now() - t0);
    }
  } finally {
    await db.destroy();
    await dropDatabase(databaseUrl);
  }
  report(timings, worst);
}

/** replayTo, but from the created world: drop the auto snapshots for the duration of one read. */
async function withoutSnapshots(db: Kysely<Database>, seq: number): Promise<void> {
  await db
    .transaction()
    .execute(async (trx) => {
      await trx
        .deleteFrom('snapshots')
        .where('campaign_id', '=', CAMPAIGN)
        .where('name', '!=', CREATED_SNAPSHOT)
        .execute();
      const replayed = await replayTo(trx, CAMPAIGN, seq);
      if (replayed.folded !== seq) throw new Error(`folded ${replayed.folded}, expected ${seq}`);
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
}

class Rollback extends Error {}

function report(timings: Record<string, number[]>, worst: number): void {
  const s = (name: string) => median(timings[name] ?? []) / 1_000;
  const baseline = s('fold from the created world, no snapshots (in process)');
  const rows = Object.keys(timings).map(
    (name) => `| ${name} | ${s(name).toFixed(2)} | ${(baseline / s(name)).toFixed(1)} |`,
  );
  const lines = [
    '# Replay benchmark: `lorekeeper state --at` on a long history',
    '',
    `${EVENTS.toLocaleString('en-US')} archived events on a world of 1,551 entities (1,000 players), a replay snapshot every ` +
      `${SNAPSHOT_EVERY.toLocaleString('en-US')} events. CLI timings include starting Node and connecting. ` +
      `${ROUNDS} round(s), medians; ${cpus().length} cores shared with Postgres.`,
    '',
    '| what | seconds | × faster than no snapshots |',
    '| --- | ---: | ---: |',
    ...rows,
    '',
    `Target: \`state --at\` on 1,000,000 archived events in <= 5 s. Worst case here (seq ${worst.toLocaleString('en-US')}, ` +
      `${(SNAPSHOT_EVERY - 1).toLocaleString('en-US')} events after the last snapshot): ${s(`lorekeeper state --at ${worst} (whole world)`).toFixed(2)} s.`,
  ];
  // Which timing is which, for the combined report (their names hold the seqs).
  const cases = {
    worst: `lorekeeper state --at ${worst} (whole world)`,
    entity: `lorekeeper state --at ${worst} --entity player:p7`,
    baseline: 'fold from the created world, no snapshots (in process)',
  };
  writeResults('replay', lines, { EVENTS, SNAPSHOT_EVERY, ROUNDS, timings, cases });
}

runBench(main);
