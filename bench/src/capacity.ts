/**
 * Capacity: how far one machine goes with a large world. In one script, on a stack of its own (fresh
 * database, private Redis and NATS, the real session service and persistence worker as processes):
 *
 *  1. `session.start` on a 1,000,000-entity world with 2, 20 and 200 players: time, entities made
 *     live, Redis memory per live entity;
 *  2. the worker catching up a 5-minute backlog of the simulated mix, and on all-distinct entities
 *     beside raw UNNEST upserts of the same rows (the Postgres ceiling), then a profiled round;
 *  3. event-to-durable lag at half of the append saturation, with the worker's defaults and with a
 *     short autosave interval.
 *
 * Interleaved rounds, medians and ratios; results in bench/results/capacity.{md,json}.
 *
 *   npm run bench:capacity [-- --quick] [-- --rounds 3 --start-rounds 7 --only start,worker,lag --no-profile]
 *   node bench/dist/capacity.js --render    (capacity.md again from capacity.json)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lagPart } from './capacity/lag-part';
import type { Part } from './capacity/options';
import { parseOptions } from './capacity/options';
import type { CapacityResults } from './capacity/report';
import { renderReport } from './capacity/report';
import { pickPlayers, sessionStartPart } from './capacity/session-start';
import { startStack } from './capacity/stack';
import { workerPart } from './capacity/worker-part';
import { loadWorld } from './capacity/world';
import { runBench } from './results';
import { checkArgs } from './usage';

checkArgs({
  command: 'npm run bench:capacity --',
  summary:
    'Session start on a 1,000,000-entity world, worker catch-up after a 5-minute backlog and\n' +
    'event-to-durable lag at half load, on a stack of its own (about 8 minutes in full).',
  options: [
    { name: 'quick', help: 'a world of a tenth the size, one round, shorter loads' },
    {
      name: 'rounds',
      value: 'N',
      help: 'interleaved rounds of the worker and lag parts (3; 1 with --quick)',
    },
    { name: 'start-rounds', value: 'N', help: 'rounds of session starts (7; 1 with --quick)' },
    { name: 'only', value: 'a,b', choices: ['start', 'worker', 'lag'], help: 'these parts only' },
    { name: 'no-profile', help: 'skip the profiled catch-up round' },
    {
      name: 'scale',
      value: 'N',
      help: 'world size as a fraction of 1,000,000 entities (1; 0.1 with --quick)',
    },
    { name: 'backlog-seconds', value: 'N', help: 'seconds of play in the backlog (300; 30 with --quick)' },
    { name: 'backlog-rate', value: 'N', help: 'events per second of that play (2,000)' },
    {
      name: 'distinct-events',
      value: 'N',
      help: 'events of the all-distinct load (100,000; 20,000 with --quick)',
    },
    { name: 'append-batch', value: 'N', help: 'events per append in the lag part (10)' },
    {
      name: 'saturation-seconds',
      value: 'N',
      help: "seconds of the lag part's saturation load (5; 3 with --quick)",
    },
    { name: 'lag-seconds', value: 'N', help: 'seconds of each half load (20; 8 with --quick)' },
    { name: 'render', help: 'write capacity.md again from capacity.json; runs nothing' },
  ],
});
const root = join(__dirname, '..', '..');
const out = join(root, 'bench', 'results');
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

async function main(): Promise<void> {
  if (process.argv.includes('--render')) return render();
  const options = parseOptions(process.argv.slice(2));
  const stack = await startStack();
  let results: CapacityResults;
  try {
    const world = await loadWorld(stack.db, options);
    log(`world of ${world.entities.length} entities inserted in ${world.insertSeconds.toFixed(1)} s`);
    results = { options, world: { entities: world.entities.length, insertSeconds: world.insertSeconds } };
    const session = await stack.spawn('session-service');
    if (options.parts.has('start')) {
      const { sessionSizes, sessionStartRounds } = options;
      results.sessionStart = await sessionStartPart(
        {
          nats: stack.nats,
          redis: stack.redis,
          campaignId: world.campaignId,
          totalPlayers: options.world.players,
        },
        sessionSizes,
        sessionStartRounds,
        log,
      );
    }
    // The players of the session the worker and lag parts play: the largest session measured.
    const players = pickPlayers(options.world.players, options.activePlayers, 1);
    if (options.parts.has('worker'))
      results.worker = await workerPart(stack, world, players, options, root, log);
    if (options.parts.has('lag'))
      results.lag = await lagPart(stack, session, world.campaignId, players, options, log);
  } finally {
    await stack.close();
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'capacity.json'),
    `${JSON.stringify({ ...results, options: { ...options, parts: [...options.parts] } }, null, 2)}\n`,
  );
  writeMarkdown(results);
}

function writeMarkdown(results: CapacityResults): void {
  const markdown = renderReport(results);
  writeFileSync(join(out, 'capacity.md'), markdown);
  process.stdout.write(markdown);
}

/** `--render`: write capacity.md again from capacity.json (after a change to the report's wording). */
function render(): void {
  const saved = JSON.parse(readFileSync(join(out, 'capacity.json'), 'utf8')) as CapacityResults;
  const parts = saved.options.parts as unknown as Part[];
  writeMarkdown({ ...saved, options: { ...saved.options, parts: new Set(parts) } });
}

runBench(main);
