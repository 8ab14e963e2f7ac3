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

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
