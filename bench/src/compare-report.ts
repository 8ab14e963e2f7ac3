import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BlockSample, CompareData, ContenderRow } from './compare-data';
import { medianOf, per1000, rowFor, rowsOf } from './compare-data';
import { RAMP_EXTENSIONS, RAMP_EXTENSION_FACTOR } from './compare-run';
import { rampChart } from './ramp-chart';
import { compareTargets } from './report/compare-targets';
import { targetsTable } from './report/targets';
import { writeResults } from './results';

/** compare.md, compare.json and compare.svg, all from the data of one run. */
export function writeCompareReport(dir: string, data: CompareData): void {
  const markdown = [
    ...header(data),
    ...data.scenarios.flatMap((scenario) => scenarioSection(data, scenario.name, '##')),
    "## The issue's targets",
    '',
    ...targetsTable(compareTargets(data)),
    '',
    ...acknowledgementSection(data),
    ...notes(),
  ];
  writeResults('compare', markdown, data);
  writeFileSync(join(dir, 'compare.svg'), `${rampChart(data)}\n`);
}

function header(data: CompareData): string[] {
  const p = data.plan;
  return [
    '# Lorekeeper against the alternatives',
    '',
    `${data.meta.quick ? 'Quick run (`--quick`): ' : ''}${data.rounds} round(s); in each round every contender runs in turn on each ` +
      `scenario (interleaved), after an unmeasured ${p.probeSeconds} s burst of each before round 1 (warm-up). Per contender: a ${p.probeSeconds} s closed-loop probe (${p.probeInFlight} requests in ` +
      `flight), then an open-loop ramp at ${p.rampFractions.map((f) => `${f}×`).join(', ')} the probe's rate, ` +
      `${p.stepSeconds} s a step (while the top step is carried, up to ${RAMP_EXTENSIONS} more, each ` +
      `${RAMP_EXTENSION_FACTOR}× the last), then ${p.stepSeconds} s at 50% and at 90% of the saturation found. Open loop: request ` +
      `i is due at start + i × batch / rate whatever earlier requests did, and latency runs from the due time, so a ` +
      `stalled sender cannot hide queueing (coordinated omission); a request ordered after others in flight (the ` +
      `rest of a turn, or a change to an entity one of them changes) is due once they are answered, and its latency ` +
      `counted from its own due time as well is in a table of its own. Saturation is the most events/s carried on any ramp ` +
      `step; numbers are medians over rounds, ratios are ratios of medians.`,
    '',
    `Everything shares one machine (${data.meta.cores} cores, Node ${data.meta.node}): the bench client, the session ` +
      'service, the worker, the echo service, NATS, Redis and PostgreSQL. The persistence worker runs throughout, so ' +
      'Lorekeeper is measured as the whole system. Emmett runs inside the bench client (a library, as an application ' +
      'would embed it), on a database of its own.',
    '',
    ...data.skipped.flatMap((s) => [`**Not measured: ${s.name}**, because ${s.reason}`, '']),
  ];
}

/** One scenario's tables: throughput and latency, then cost. `heading` is '##' or '###'. */
export function scenarioSection(data: CompareData, scenario: string, heading: string): string[] {
  const rows = rowsOf(data, scenario).filter((r) => r.blocks.length > 0);
  const ratio = (value: number, base: ContenderRow | undefined) =>
    base ? `${(value / base.saturation).toFixed(2)}×` : '–';
  const latency = (row: ContenderRow, at: 'at50' | 'at90') =>
    (['p50', 'p99', 'p999'] as const)
      .map((q) => medianOf(row, (b) => b[at].latencyMs[q]).toFixed(2))
      .join(' / ');
  const labels = [...new Set(rows.flatMap((r) => r.blocks.flatMap((b) => Object.keys(b.cpuSeconds))))];
  return [
    `${heading} ${scenario}`,
    '',
    '| contender | sustained events/s at saturation (median; rounds) | × ceiling (same batch) | × echo | × write-through | latency at 50%: p50 / p99 / p99.9 ms | at 90%: p50 / p99 / p99.9 ms | refused or failed requests |',
    '| --- | ---: | ---: | ---: | ---: | --- | --- | --- |',
    ...rows.map((r) => {
      const rounds = r.blocks.map((b) => `${Math.round(b.saturation)}${b.saturated ? '' : '+'}`).join(', ');
      return (
        `| ${r.contender.name} | **${Math.round(r.saturation)}** (${rounds}) | ${ratio(r.saturation, rowFor(rows, `ceiling-${r.contender.batch}`))} | ` +
        `${ratio(r.saturation, rowFor(rows, 'echo'))} | ${ratio(r.saturation, rowFor(rows, 'write-through'))} | ` +
        `${latency(r, 'at50')} | ${latency(r, 'at90')} | ${refusedSummary(r.blocks)} |`
      );
    }),
    '',
    '`+` after a round: even the highest offered load was carried, so saturation is a lower bound.',
    '',
    ...fromDueLatency(rows),
    ...majorEvents(rows),
    `Cost at 90% of saturation, counted until the step's events were durable (for Lorekeeper: until the worker's ` +
      'checkpoint reached the last event; "durable after" is how long that took once the load stopped, with a flush ' +
      'asked for). CPU seconds per 1,000 events applied, per process (Emmett and write-through run inside the bench ' +
      "client, so their CPU is its column and Postgres's). Postgres rows written per 1,000 events, counted from the " +
      "rows: for Lorekeeper the worker's sync_log figures, its log row and checkpoint update per flush, the archive's chunk rows and snapshots; " +
      "for write-through 2 per event; for Emmett its message and stream rows, and the projection's row. Redis memory " +
      "once the step was durable, with MEMORY USAGE of the contender's own keys: the entity hashes per live entity, " +
      'and every key of the campaign in total (the stream not yet trimmed, idempotency keys, transient entities).',
    '',
    `| contender | durable after (ms) | PG rows / 1,000 events | Redis B / live entity (entities) | Redis total KiB | ${labels.join(' | ')} | total CPU s / 1,000 events |`,
    `| --- | ---: | ---: | ---: | ---: | ${labels.map(() => '---:').join(' | ')} | ---: |`,
    ...rows.map((r) => {
      const cpu = labels.map((label) => medianOf(r, (b) => per1000(b, b.cpuSeconds[label] ?? 0)));
      const total = medianOf(r, (b) =>
        per1000(
          b,
          Object.values(b.cpuSeconds).reduce((s, v) => s + v, 0),
        ),
      );
      return (
        `| ${r.contender.name} | ${medianOf(r, (b) => b.settleMs).toFixed(0)} | ${medianOf(r, (b) => per1000(b, b.rowsWritten)).toFixed(0)} | ` +
        `${redisCells(r)} | ${cpu.map((c) => c.toFixed(3)).join(' | ')} | ${total.toFixed(3)} |`
      );
    }),
    '',
    ...snapshotShares(rows),
    ...cacheHits(rows),
  ];
}

/**
 * How much of Lorekeeper's Postgres rows in the 90% step a replay snapshot's copy was. One comes due
 * every SNAPSHOT_EVERY_EVENTS, so a step holds one by chance, and the rows and Postgres CPU of that
 * step move with it between rounds (its CPU cannot be told apart; its rows can).
 */
export function snapshotShares(rows: readonly ContenderRow[]): string[] {
  const measured = rows
    .map((r) => ({ ...r, blocks: r.blocks.filter((b) => b.snapshotRowsWritten !== undefined) }))
    .filter((r) => r.blocks.length > 0);
  if (measured.length === 0) return [];
  const shares = measured.map((r) => {
    const holding = r.blocks.filter((b) => b.snapshotRowsWritten! > 0).length;
    const byRound = r.blocks.map(
      (b) =>
        `${per1000(b, b.rowsWritten).toFixed(0)} (${per1000(b, b.snapshotRowsWritten!).toFixed(0)} a snapshot's)`,
    );
    return `${r.contender.name}: ${holding} of ${r.blocks.length} round(s); PG rows / 1,000 events by round ${byRound.join(', ')}`;
  });
  return [
    `90% steps that held a replay snapshot's copy (one comes due every SNAPSHOT_EVERY_EVENTS, ` +
      `100,000 by default, so a step holds one by chance; its rows are in the PG rows column above and its ` +
      `Postgres CPU in the postgres column): ${shares.join('; ')}.`,
    '',
  ];
}

/** The session service's LiveCache hit share at 90% of saturation, for the contenders that have one. */
function cacheHits(rows: readonly ContenderRow[]): string[] {
  const measured = rows
    .map((r) => ({ ...r, blocks: r.blocks.filter((b) => b.cacheHitShare !== undefined) }))
    .filter((r) => r.blocks.length > 0);
  if (measured.length === 0) return [];
  const shares = measured.map(
    (r) => `${r.contender.name} ${(100 * medianOf(r, (b) => b.cacheHitShare!)).toFixed(1)}%`,
  );
  return [
    `Appends validated against the session service's LiveCache at 90% of saturation (the rest read Redis ` +
      `first; \`lorekeeper_live_cache_lookups_total\`), median over rounds: ${shares.join('; ')}.`,
    '',
  ];
}

function redisCells(row: ContenderRow): string {
  const measured = row.blocks.filter((b) => b.redis);
  if (measured.length === 0) return 'no Redis | no Redis';
  const of = { ...row, blocks: measured };
  const perEntity = medianOf(of, (b) => b.redis!.entityBytes / Math.max(1, b.redis!.liveEntities));
  const entities = medianOf(of, (b) => b.redis!.liveEntities);
  const total = medianOf(of, (b) => b.redis!.totalBytes) / 1_024;
  return `${perEntity.toFixed(0)} (${Math.round(entities)}) | ${total.toFixed(0)}`;
}

/** Latency counted from each request's scheduled time, the wait for the requests ordered before it included. */
function fromDueLatency(rows: readonly ContenderRow[]): string[] {
  const measured = rows.filter((r) =>
    r.blocks.every((b) => b.at50.fromDueLatencyMs && b.at90.fromDueLatencyMs),
  );
  if (measured.length === 0) return [];
  const cells = (row: ContenderRow, at: 'at50' | 'at90') =>
    (['p50', 'p99', 'p999'] as const)
      .map((q) => medianOf(row, (b) => b[at].fromDueLatencyMs![q]).toFixed(2))
      .join(' / ');
  return [
    'Latency from the scheduled time even for a request that first waited for those ordered before it: how late ' +
      'the game saw each action applied (at 1 event per request each event of a turn waits for the one before):',
    '',
    '| contender | at 50%: p50 / p99 / p99.9 ms | at 90%: p50 / p99 / p99.9 ms |',
    '| --- | --- | --- |',
    ...measured.map((r) => `| ${r.contender.name} | ${cells(r, 'at50')} | ${cells(r, 'at90')} |`),
    '',
  ];
}

/** Requests holding a major event, at 50% of saturation: Lorekeeper answers them once they are durable. */
function majorEvents(rows: readonly ContenderRow[]): string[] {
  const counts = rows.map((r) => r.blocks.reduce((n, b) => n + b.at50.majorLatencyMs.count, 0));
  if (counts.every((n) => n === 0)) return [];
  return [
    'Requests holding a major event (quest.completed) at 50% of saturation, all rounds; latency medians over rounds:',
    '',
    '| contender | requests | p50 / p99 ms |',
    '| --- | ---: | --- |',
    ...rows.map((r, i) => {
      const blocks = r.blocks.filter((b) => b.at50.majorLatencyMs.count > 0);
      const q = (k: 'p50' | 'p99') => medianOf({ ...r, blocks }, (b) => b.at50.majorLatencyMs[k]).toFixed(2);
      return `| ${r.contender.name} | ${counts[i]} | ${blocks.length > 0 ? `${q('p50')} / ${q('p99')}` : '–'} |`;
    }),
    '',
  ];
}

function refusedSummary(blocks: readonly BlockSample[]): string {
  const counts: Record<string, number> = {};
  let requests = 0;
  for (const step of blocks.flatMap((b) => [b.probe, ...b.ramp, b.at50, b.at90])) {
    requests += step.requests;
    for (const [code, n] of Object.entries(step.refused)) counts[code] = (counts[code] ?? 0) + n;
    if (step.failed > 0) counts['failed'] = (counts['failed'] ?? 0) + step.failed;
  }
  const parts = Object.entries(counts).map(([code, n]) => `${code} ${n}`);
  const retries = blocks.reduce((n, b) => n + (b.retries ?? 0), 0);
  const retried = retries > 0 ? `; ${retries} version-conflict retries` : '';
  return `${parts.length === 0 ? 'none' : parts.join(', ')} of ${requests}${retried}`;
}

export function acknowledgementSection(data: CompareData): string[] {
  return [
    '## What an acknowledgement means',
    '',
    '| contender | the reply means |',
    '| --- | --- |',
    ...data.contenders.map((c) => `| ${c.name} | ${c.acknowledgement} |`),
    '',
  ];
}

function notes(): string[] {
  return [
    '## Reading these numbers',
    '',
    '- The workloads are generated in the bench process (the game mix folds every event into its own view to ' +
      'choose valid next actions), and that process shares the two cores, so every contender pays the same ' +
      'generator cost; its CPU is the "bench client" column.',
    '- "postgres (all)" sums every postgres process on the machine; anything else using the server in that window ' +
      'is counted too.',
    "- The game mix is the sim's ACTION_MIX (move 20, gold 20, xp 15, trade 10, fight 15, dialogue 10, quest 10), " +
      "written again in bench/src/workload.ts because the bench may not import an app. A turn's events stay in one " +
      'request where the batch allows; a request holding the rest of a turn is sent after the one before it is ' +
      "answered. As a game server orders a player's actions, a game-mix request waits for the requests in flight " +
      'that change an entity its events write or read (that wait counts in its latency from the scheduled time, ' +
      'not in its own), and each turn goes to a ' +
      'player with no action in flight; when every player is waiting for a reply, so is the sender (that wait ' +
      'counts too). So 200 players bound the requests in flight: about 200 of 1 event, about 20 of 20 events ' +
      '(some 10 turns each). The hot-entity load ' +
      'is not ordered: its gold and xp gains always apply, and racing on few entities is its point. Each block ' +
      'starts from a fresh campaign of the same seeded world (game mix: 50 regions, 200 players, 300 NPCs, 600 ' +
      "items, 20,000 quests; Lorekeeper's is written to Postgres as `lorekeeper world import` writes a world, " +
      "since it is over NATS's 1 MB). A completed quest is not offered again: of a block's events, about one in 30 " +
      'completes a quest (a major event) up to the 200,000th (the world starts with quests under way), one in 60 ' +
      "up to the 500,000th, then fewer as they run out. Lorekeeper's blocks hold about 200,000 events (1 event " +
      "per request) and 450,000 (20), so their judged steps hold major events, while the ceiling's blocks, of " +
      'millions, lean towards xp at their end.',
    '- Refused requests (coded errors) are counted apart and not as throughput; the generator then re-reads the ' +
      'entities involved. With the ordering above, a valid game-mix request is refused only if the service is ' +
      'wrong, so refusals there are a finding. (Before it, 28% of the 20-event requests were refused whole: ' +
      'their turns depended on requests still in flight.)',
    "- Emmett (bench/emmett, installed apart: its peer dependency on commander 12 conflicts with the workspace's " +
      'commander 14) appends one event per `appendToStream`, a stream per entity, on 8 pooled connections like ' +
      'write-through; the version conflicts it throws under concurrency are retried (up to 50 times) and counted. ' +
      'It validates nothing, so it refuses nothing. Its projection writes the state the generator folded with ' +
      "Lorekeeper's `evolve` (carried in the event's metadata), one upsert per event: the cheapest projection it allows.",
    '- Latencies of requests never sent because the sender was blocked at saturation enter the summaries as a ' +
      "lower bound (their wait until the step ended); only the ramp's overloaded steps have them.",
    '- The bench client runs with a young generation of at most 2 MB a half (`--max-semi-space-size=2`, ' +
      "bench/src/results.ts): its scavenges pause it for every reply in flight, and V8's default made them " +
      "rarer but about four times as long, which showed in every contender's p99. The services run with V8's defaults.",
    '- `npm run bench:compare -- --profile --only lorekeeper-1 --scenarios game-mix` profiles the session service ' +
      '(`node --cpu-prof`) and writes compare-profile.md and .json instead of these files; `npm run bench -- --profile` ' +
      'does the same and puts the summary into report.md.',
    '',
  ];
}
