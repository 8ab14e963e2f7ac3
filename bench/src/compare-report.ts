import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { BlockResult, Plan, Scenario } from './compare-run';
import type { Contender } from './contenders';
import type { StepResult } from './open-loop';
import { median } from './stats';
import type { Panel } from './svg-chart';
import { svgChart } from './svg-chart';

export interface CompareRun {
  readonly quick: boolean;
  readonly rounds: number;
  readonly plan: Plan;
  readonly contenders: readonly Contender[];
  readonly scenarios: readonly Scenario[];
  readonly results: readonly BlockResult[];
}

/** Why one contender of the issue is not in the run; written into the report as it is. */
export const EMMETT_NOT_MEASURED =
  'Emmett is not in this run: `@event-driven-io/emmett@0.42.0` declares the peer dependency `commander@^12.1.0` and the workspace pins `commander@14.0.3` (the CLI uses it), so installing it at the root fails with ERESOLVE. It is measured apart by `npm run bench:emmett` (bench/results/emmett.md), which installs Emmett in bench/emmett on its own and runs Lorekeeper, Emmett (log only and with an inline projection) and write-through closed-loop, 8 clients one event at a time.';

interface Row {
  readonly contender: Contender;
  readonly blocks: readonly BlockResult[];
  readonly saturation: number;
}

export function writeReport(dir: string, run: CompareRun): void {
  mkdirSync(dir, { recursive: true });
  const markdown = [
    ...header(run),
    ...run.scenarios.flatMap((scenario) => scenarioSection(run, scenario)),
    ...targetsSection(run),
    ...acknowledgementSection(run),
    ...notes(),
  ];
  writeFileSync(join(dir, 'compare.md'), `${markdown.join('\n')}\n`);
  const samples = run.results.map((r) => ({
    ...r,
    probe: sample(r.probe),
    ramp: r.ramp.map(sample),
    at50: sample(r.at50),
    at90: sample(r.at90),
  }));
  const meta = {
    date: new Date().toISOString(),
    cores: cpus().length,
    node: process.version,
    quick: run.quick,
  };
  writeFileSync(
    join(dir, 'compare.json'),
    `${JSON.stringify({ meta, rounds: run.rounds, plan: run.plan, samples }, null, 2)}\n`,
  );
  writeFileSync(join(dir, 'compare.svg'), `${chart(run)}\n`);
  process.stdout.write(`${markdown.join('\n')}\n`);
}

/** A step as stored: everything but the ids of refused entities. */
function sample(step: StepResult) {
  const { refusedEntities: _ids, ...rest } = step;
  return rest;
}

function rowsOf(run: CompareRun, scenario: Scenario): Row[] {
  return run.contenders.map((contender) => {
    const blocks = run.results.filter((r) => r.contender === contender.name && r.scenario === scenario.name);
    return { contender, blocks, saturation: median(blocks.map((b) => b.saturation)) };
  });
}

const find = (rows: readonly Row[], prefix: string, batch: number) =>
  rows.find((r) => r.contender.name.startsWith(prefix) && r.contender.batch === batch);

function header(run: CompareRun): string[] {
  const p = run.plan;
  return [
    '# Lorekeeper against the alternatives',
    '',
    `${run.quick ? 'Quick run (`--quick`): ' : ''}${run.rounds} rounds; in each round every contender runs in turn on each ` +
      `scenario (interleaved). Per contender: a ${p.probeSeconds} s closed-loop probe (${p.probeInFlight} requests in ` +
      `flight), then an open-loop ramp at ${p.rampFractions.map((f) => `${f}×`).join(', ')} the probe's rate, ` +
      `${p.stepSeconds} s a step, then ${p.stepSeconds} s at 50% and at 90% of the saturation found. Open loop: request ` +
      `i is due at start + i × batch / rate whatever earlier requests did, and latency runs from the due time, so a ` +
      `stalled sender cannot hide queueing (coordinated omission). Saturation is the most events/s carried on any ramp ` +
      `step; numbers are medians over rounds, ratios are ratios of medians.`,
    '',
    `Everything shares one machine (${cpus().length} cores, Node ${process.version}): the bench client, the session ` +
      'service, the worker, the echo service, NATS, Redis and PostgreSQL. The persistence worker runs throughout, so ' +
      'Lorekeeper is measured as the whole system.',
    '',
    `**Not measured:** ${EMMETT_NOT_MEASURED}`,
    '',
  ];
}

function scenarioSection(run: CompareRun, scenario: Scenario): string[] {
  const rows = rowsOf(run, scenario);
  const echo = find(rows, 'bare NestJS', 1)?.saturation;
  const ceilingFor = (batch: number) => find(rows, 'raw Redis', batch)?.saturation;
  const ratio = (value: number, base: number | undefined) => (base ? `${(value / base).toFixed(2)}×` : '–');
  const latency = (blocks: readonly BlockResult[], at: 'at50' | 'at90') =>
    (['p50', 'p99', 'p999'] as const)
      .map((q) => median(blocks.map((b) => b[at].latencyMs[q])).toFixed(2))
      .join(' / ');
  const labels = [...new Set(rows.flatMap((r) => r.blocks.flatMap((b) => Object.keys(b.cpuSeconds))))];
  return [
    `## ${scenario.name}`,
    '',
    '| contender | sustained events/s at saturation (median; rounds) | × ceiling (same batch) | × echo | latency at 50%: p50 / p99 / p99.9 ms | at 90%: p50 / p99 / p99.9 ms | refused or failed requests |',
    '| --- | ---: | ---: | ---: | --- | --- | --- |',
    ...rows.map((r) => {
      const rounds = r.blocks.map((b) => `${Math.round(b.saturation)}${b.saturated ? '' : '+'}`).join(', ');
      return (
        `| ${r.contender.name} | **${Math.round(r.saturation)}** (${rounds}) | ${ratio(r.saturation, ceilingFor(r.contender.batch))} | ` +
        `${ratio(r.saturation, echo)} | ${latency(r.blocks, 'at50')} | ${latency(r.blocks, 'at90')} | ${refusedSummary(r.blocks)} |`
      );
    }),
    '',
    '`+` after a round: even the highest offered load was carried, so saturation is a lower bound.',
    '',
    ...majorEvents(rows),
    `Cost at 90% of saturation, counted until the step's events were durable (for Lorekeeper: until the worker's ` +
      'checkpoint reached the last event; "durable after" is how long that took once the load stopped). CPU seconds per 1,000 events applied, per process; Postgres rows ' +
      "written per 1,000 events (counted from the rows: for Lorekeeper the worker's sync_log figures, its log row and checkpoint update per flush, and snapshots; for write-through 2 per event).",
    '',
    `| contender | durable after (ms) | PG rows / 1,000 events | ${labels.join(' | ')} | total CPU s / 1,000 events |`,
    `| --- | ---: | ---: | ${labels.map(() => '---:').join(' | ')} | ---: |`,
    ...rows.map((r) => {
      const per = (b: BlockResult, value: number) => (value / Math.max(1, b.at90.applied)) * 1_000;
      const rowsPer = median(r.blocks.map((b) => per(b, b.rowsWritten)));
      const cpu = labels.map((label) => median(r.blocks.map((b) => per(b, b.cpuSeconds[label] ?? 0))));
      const total = median(
        r.blocks.map((b) =>
          per(
            b,
            Object.values(b.cpuSeconds).reduce((s, v) => s + v, 0),
          ),
        ),
      );
      const settle = median(r.blocks.map((b) => b.settleMs));
      return `| ${r.contender.name} | ${settle.toFixed(0)} | ${rowsPer.toFixed(0)} | ${cpu.map((c) => c.toFixed(3)).join(' | ')} | ${total.toFixed(3)} |`;
    }),
    '',
  ];
}

/** Requests holding a major event, at 50% of saturation: Lorekeeper answers them once they are durable. */
function majorEvents(rows: readonly Row[]): string[] {
  const counts = rows.map((r) => r.blocks.reduce((n, b) => n + b.at50.majorLatencyMs.count, 0));
  if (counts.every((n) => n === 0)) return [];
  return [
    'Requests holding a major event (quest.completed) at 50% of saturation, all rounds; latency medians over rounds:',
    '',
    '| contender | requests | p50 / p99 ms |',
    '| --- | ---: | --- |',
    ...rows.map((r, i) => {
      const blocks = r.blocks.filter((b) => b.at50.majorLatencyMs.count > 0);
      const q = (k: 'p50' | 'p99') => median(blocks.map((b) => b.at50.majorLatencyMs[k])).toFixed(2);
      return `| ${r.contender.name} | ${counts[i]} | ${blocks.length > 0 ? `${q('p50')} / ${q('p99')}` : '–'} |`;
    }),
    '',
  ];
}

function refusedSummary(blocks: readonly BlockResult[]): string {
  const counts: Record<string, number> = {};
  let requests = 0;
  for (const step of blocks.flatMap((b) => [b.probe, ...b.ramp, b.at50, b.at90])) {
    requests += step.requests;
    for (const [code, n] of Object.entries(step.refused)) counts[code] = (counts[code] ?? 0) + n;
    if (step.failed > 0) counts['failed'] = (counts['failed'] ?? 0) + step.failed;
  }
  const parts = Object.entries(counts).map(([code, n]) => `${code} ${n}`);
  return parts.length === 0 ? `none of ${requests}` : `${parts.join(', ')} of ${requests}`;
}

interface Target {
  readonly name: string;
  readonly measured: number | undefined;
  readonly target: number;
  readonly higherIsBetter: boolean;
  readonly unit: string;
  readonly detail: string;
}

function targetsSection(run: CompareRun): string[] {
  const targets = run.scenarios.flatMap((scenario) => targetsFor(rowsOf(run, scenario), scenario.name));
  return [
    "## The issue's targets",
    '',
    '| target | scenario | measured | verdict |',
    '| --- | --- | --- | --- |',
    ...targets.map(
      (t) =>
        `| ${t.name} | ${t.detail} | ${t.measured === undefined ? '–' : `${format(t.measured)}${t.unit}`} | ${verdict(t)} |`,
    ),
    '| against Emmett with a projection keeping state current: >= 10× sustained events/s | both | – | ' +
      'NOT IN THIS RUN: see bench/results/emmett.md (`npm run bench:emmett`) |',
    '',
  ];
}

function targetsFor(rows: readonly Row[], scenario: string): Target[] {
  const lk1 = find(rows, 'Lorekeeper', 1);
  const lk20 = find(rows, 'Lorekeeper', 20);
  const echo = find(rows, 'bare NestJS', 1);
  const ceiling20 = find(rows, 'raw Redis', 20);
  const naive = find(rows, 'write-through', 1);
  const div = (a: Row | undefined, b: Row | undefined) => (a && b ? a.saturation / b.saturation : undefined);
  const at50 = (row: Row | undefined, q: 'p99' | 'p999') =>
    row ? median(row.blocks.map((b) => b.at50.latencyMs[q])) : undefined;
  const t = (
    name: string,
    measured: number | undefined,
    target: number,
    higherIsBetter: boolean,
    unit: string,
  ): Target => ({
    name,
    measured,
    target,
    higherIsBetter,
    unit,
    detail: scenario,
  });
  return [
    t(
      'append 1 event/request through NATS >= 70% of the bare NestJS echo',
      div(lk1, echo),
      0.7,
      true,
      '× echo',
    ),
    t('… and about 15,000 events/s', lk1?.saturation, 15_000, true, ' events/s'),
    t(
      'append 20 events/request >= 50% of the raw Redis Function ceiling',
      div(lk20, ceiling20),
      0.5,
      true,
      '× ceiling',
    ),
    t('append latency at 50% of saturation, 1 event/request: p99 <= 5 ms', at50(lk1, 'p99'), 5, false, ' ms'),
    t('… p99.9 <= 20 ms', at50(lk1, 'p999'), 20, false, ' ms'),
    t(
      'append latency at 50% of saturation, 20 events/request: p99 <= 5 ms',
      at50(lk20, 'p99'),
      5,
      false,
      ' ms',
    ),
    t('… p99.9 <= 20 ms', at50(lk20, 'p999'), 20, false, ' ms'),
    t('against write-through: >= 10× sustained events/s (1 event/request)', div(lk1, naive), 10, true, '×'),
    t('… (20 events/request)', div(lk20, naive), 10, true, '×'),
  ];
}

function verdict(t: Target): string {
  if (t.measured === undefined) return 'NOT MEASURED';
  const met = t.higherIsBetter ? t.measured >= t.target : t.measured <= t.target;
  const factor = t.higherIsBetter ? t.measured / t.target : t.target / t.measured;
  return met
    ? `MET (${format(factor)}× the bar)`
    : `**MISSED**: ${format(t.measured)} against ${format(t.target)} (${(factor * 100).toFixed(0)}% of the bar)`;
}

function format(n: number): string {
  if (Math.abs(n) >= 100) return Math.round(n).toString();
  return n.toPrecision(3);
}

function acknowledgementSection(run: CompareRun): string[] {
  return [
    '## What an acknowledgement means',
    '',
    '| contender | the reply means |',
    '| --- | --- |',
    ...run.contenders.map((c) => `| ${c.name} | ${c.acknowledgement} |`),
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
      'answered. Each block starts from a fresh campaign (the same seeded world), and quests, once completed, ' +
      'are not offered again, so later steps see fewer major events than the first.',
    '- Refused requests (coded errors) are counted apart and not as throughput; the generator then re-reads the ' +
      'entities involved. In the game mix they come from turns that depend on each other (a move, then a trade ' +
      'in the new region) sent in requests that are in flight together: the session service runs up to 16 ' +
      'appends of a campaign at once, so a later turn can be validated before the earlier one commits. ' +
      'Write-through, one event per transaction on 8 connections, meets this less often.',
    '- Latencies of requests never sent because the sender was blocked at saturation enter the summaries as a ' +
      "lower bound (their wait until the step ended); only the ramp's overloaded steps have them.",
    '- `npm run bench:compare -- --profile --only lorekeeper-1` profiles the session service (`node --cpu-prof`) ' +
      'and writes compare-profile.md instead of these files.',
    '',
  ];
}

function chart(run: CompareRun): string {
  const panels: Panel[] = run.scenarios.flatMap((scenario) => {
    const rows = rowsOf(run, scenario).filter((r) => r.blocks.length > 0);
    const steps = (r: Row) =>
      r.blocks[0]!.ramp.map((_, i) => {
        const at = r.blocks.map((b) => b.ramp[i]!);
        return {
          offered: median(at.map((s) => s.offered)),
          achieved: median(at.map((s) => s.achieved)),
          p99: median(at.map((s) => s.latencyMs.p99)),
        };
      });
    return [
      {
        title: `${scenario.name}: carried vs offered`,
        xLabel: 'offered events/s',
        yLabel: 'carried events/s',
        diagonal: true,
        series: rows.map((r) => ({
          name: r.contender.name,
          points: steps(r).map((s) => [s.offered, s.achieved] as const),
        })),
      },
      {
        title: `${scenario.name}: p99 latency vs offered`,
        xLabel: 'offered events/s',
        yLabel: 'p99 latency (ms, from due time)',
        series: rows.map((r) => ({
          name: r.contender.name,
          points: steps(r).map((s) => [s.offered, s.p99] as const),
        })),
      },
    ];
  });
  return svgChart(panels, 2);
}
