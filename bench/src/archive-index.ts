/**
 * The archive's entity index with and without GIN's pending list: what a flush pays that archives a
 * small chunk (about 70 events on entities spread over a large world) and indexes it as a range of its
 * own, one transaction per chunk. That is the index's worst case: since migration 0012 a major event's
 * flush archives without indexing, and a range gathers every chunk since the last flush on the save
 * cadence (results up to 2026-11-28 measured the chunk index of migration 0011 the same way). Each round
 * runs both settings in turn, each on a freshly migrated database, so neither finds the other's index.
 * Reported: the slowest insert, p99 and p50 (the pending list's merge lands on one insert), and the total.
 *
 *   npm run bench:archive-index [-- --quick] [-- --chunks 8000 --rounds 3]
 */
import type { EntryToArchive } from '@lorekeeper/pg-store';
import { archiveEvents, indexEntityRange } from '@lorekeeper/pg-store';
import { createTestDatabase } from '@lorekeeper/testing';
import { sql } from 'kysely';
import { numberFlag, runBench, writeResults } from './results';
import { median, summarise } from './stats';
import { checkArgs } from './usage';

checkArgs({
  command: 'npm run bench:archive-index --',
  summary: "Archive inserts with and without the entity index's pending list (migrations 0011, 0012).",
  options: [
    { name: 'quick', help: 'one round' },
    { name: 'chunks', value: 'N', help: 'chunks archived per setting and round (8,000)' },
    { name: 'events', value: 'N', help: 'events per chunk (70)' },
    { name: 'entities', value: 'N', help: 'entities the events pick from at random (300,000)' },
    { name: 'rounds', value: 'N', help: 'rounds (3; 1 with --quick)' },
  ],
});
const quick = process.argv.includes('--quick');
const CHUNKS = numberFlag('chunks', 8_000);
const EVENTS = numberFlag('events', 70);
const ENTITIES = numberFlag('entities', 300_000);
const ROUNDS = numberFlag('rounds', quick ? 1 : 3);
const SETTINGS = ['fastupdate = on', 'fastupdate = off'] as const;
type Setting = (typeof SETTINGS)[number];

interface Run {
  readonly setting: Setting;
  readonly round: number;
  readonly totalMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Inserts slower than 50 ms. */
  readonly slow: number;
}

const META = {
  sessionId: '3f2a1c9e-4b7d-4e21-9a3c-7d1e5f9b2c41',
  batchId: '9c8b7a6d-5e4f-4321-8abc-def012345678',
  at: '2026-11-27T21:58:18.123Z',
};

/** A chunk's worth of moves of NPCs picked at random, from `seq` on. */
function chunkFrom(seq: number): EntryToArchive[] {
  return Array.from({ length: EVENTS }, (_, i) => ({
    seq: seq + i,
    streamId: `${seq + i}-0`,
    type: 'npc.moved',
    entityId: `npc:n${Math.floor(Math.random() * ENTITIES)}`,
    version: 3,
    data: { regionId: `region:r${i}` },
    meta: META,
  }));
}

async function runOnce(setting: Setting, round: number): Promise<Run> {
  const { db, destroy } = await createTestDatabase('bench_archive_index');
  try {
    await sql`alter index event_entity_ranges_entity_idx set (${sql.raw(setting)})`.execute(db);
    const times: number[] = [];
    const started = performance.now();
    for (let i = 0; i < CHUNKS; i += 1) {
      const events = chunkFrom(1 + i * EVENTS);
      const t0 = performance.now();
      await db.transaction().execute(async (trx) => {
        await archiveEvents(trx, 'bench', events);
        await indexEntityRange(trx, 'bench', i * EVENTS + EVENTS);
      });
      times.push(performance.now() - t0);
    }
    const { p50, p99 } = summarise(times);
    const run: Run = {
      setting,
      round,
      totalMs: performance.now() - started,
      p50Ms: p50,
      p99Ms: p99,
      maxMs: Math.max(...times),
      slow: times.filter((ms) => ms > 50).length,
    };
    process.stderr.write(
      `round ${round}, ${setting}: ${CHUNKS} inserts in ${run.totalMs.toFixed(0)} ms; p50 ${run.p50Ms.toFixed(2)}, ` +
        `p99 ${run.p99Ms.toFixed(2)}, slowest ${run.maxMs.toFixed(1)} ms\n`,
    );
    return run;
  } finally {
    await destroy();
  }
}

async function main(): Promise<void> {
  const runs: Run[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const setting of SETTINGS) runs.push(await runOnce(setting, round));
  }
  const of = (setting: Setting, pick: (run: Run) => number) =>
    median(runs.filter((run) => run.setting === setting).map(pick));
  const row = (setting: Setting) =>
    `| ${setting} | ${of(setting, (r) => r.maxMs).toFixed(1)} | ${of(setting, (r) => r.p99Ms).toFixed(2)} | ` +
    `${of(setting, (r) => r.p50Ms).toFixed(2)} | ${of(setting, (r) => r.slow)} | ${of(setting, (r) => r.totalMs).toFixed(0)} |`;
  const total = of('fastupdate = off', (r) => r.totalMs) / of('fastupdate = on', (r) => r.totalMs);
  const slowest = of('fastupdate = on', (r) => r.maxMs) / of('fastupdate = off', (r) => r.maxMs);
  const lines = [
    '# Archive inserts and the entity index',
    '',
    `${CHUNKS} chunks of ${EVENTS} events on entities picked at random from ${ENTITIES.toLocaleString('en-US')}, ` +
      `one transaction each through \`archiveEvents\`, into a fresh database per setting; ${ROUNDS} round(s), ` +
      'the settings in turn, medians.',
    '',
    '| event_entity_ranges_entity_idx | slowest insert ms | p99 ms | p50 ms | inserts over 50 ms | all inserts ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row('fastupdate = on'),
    row('fastupdate = off'),
    '',
    `Without the pending list (what migrations 0011 and 0012 set), the slowest insert is ${slowest.toFixed(1)}× shorter ` +
      `and all of them take ${total.toFixed(2)}× as long.`,
  ];
  writeResults('archive-index', lines, { chunks: CHUNKS, events: EVENTS, entities: ENTITIES, runs });
}

runBench(main);
