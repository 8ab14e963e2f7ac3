import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acknowledgementSection } from '../compare-report';
import { rampChart } from '../ramp-chart';
import { capacityTargets, replayTargets } from './capacity-targets';
import { compareTargets } from './compare-targets';
import type { ReportInputs } from './inputs';
import { profilesSection } from './profiles';
import { catchUpSection, compareSections, lagSection, replaySection, sessionStartSection } from './sections';
import type { TargetCheck } from './targets';
import { ISSUE_8, targetsTable, verdictOf, verdictText } from './targets';

export type StepKey = 'compare' | 'profile' | 'capacity' | 'replay';

/** One child step of `npm run bench`, as it went. */
export interface StepRecord {
  readonly key: StepKey;
  readonly command: string;
  readonly status: 'ok' | 'failed' | 'not run';
  readonly exitCode?: number | null;
  readonly seconds?: number;
  /** The files it writes in bench/results. */
  readonly writes: readonly string[];
}

export interface RunRecord {
  readonly command: string;
  readonly started: string;
  readonly seconds: number;
  readonly quick: boolean;
  readonly profile: boolean;
  readonly cores: number;
  readonly node: string;
  readonly steps: readonly StepRecord[];
}

const ISSUE_ORDER: readonly string[] = Object.values(ISSUE_8).map((row) => row.what);

/** report.md, report.json and report.svg in `dir`; returns the targets it judged. */
export function writeReport(dir: string, run: RunRecord, inputs: ReportInputs): TargetCheck[] {
  const why = (key: StepKey) => {
    const step = run.steps.find((s) => s.key === key);
    if (!step || step.status === 'not run') return `the ${key} step was not run`;
    if (step.status === 'failed')
      return `the ${key} step failed (exit ${step.exitCode}); its output is above the report`;
    return `the ${key} step left no results`;
  };
  const checks = [
    ...(inputs.compare ? compareTargets(inputs.compare) : compareUnmeasured(why('compare'))),
    ...capacityTargets(inputs.capacity, why('capacity')),
    ...replayTargets(inputs.replay, why('replay')),
  ].sort((a, b) => ISSUE_ORDER.indexOf(a.what) - ISSUE_ORDER.indexOf(b.what));
  const markdown = [
    ...header(run, checks),
    ...targetsSection(checks),
    ...(inputs.compare ? acknowledgementSection(inputs.compare) : []),
    ...compareSections(inputs.compare, why('compare')),
    ...sessionStartSection(inputs.capacity, why('capacity')),
    ...catchUpSection(inputs.capacity, why('capacity')),
    ...lagSection(inputs.capacity, why('capacity')),
    ...replaySection(inputs.replay, why('replay')),
    ...profilesSection(dir, checks, inputs.compareProfile, inputs.capacity?.worker?.profile, run.profile),
    ...(inputs.compare
      ? [
          '## Chart',
          '',
          '![Throughput and p99 latency against offered load, per scenario and contender](report.svg)',
          '',
        ]
      : []),
  ];
  const targets = checks.map((c) => ({ ...c, verdict: verdictOf(c), verdictText: verdictText(c) }));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.md'), `${markdown.join('\n')}\n`);
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify({ run, targets, ...inputs }, null, 2)}\n`);
  if (inputs.compare) writeFileSync(join(dir, 'report.svg'), `${rampChart(inputs.compare)}\n`);
  return checks;
}

function header(run: RunRecord, checks: readonly TargetCheck[]): string[] {
  const minutes = `${Math.floor(run.seconds / 60)} min ${Math.round(run.seconds % 60)} s`;
  const count = (verdict: string) => checks.filter((c) => verdictOf(c) === verdict).length;
  return [
    '# Lorekeeper benchmarks: issue 8 in one run',
    '',
    `${run.quick ? '**Quick run**' : 'Full run'} of \`${run.command}\`, started ${run.started}, took ${minutes}; ` +
      `${run.cores} cores shared by the bench, the services, NATS, Redis and PostgreSQL; Node ${run.node}. Every ` +
      'scenario runs its contenders in one script on this machine, interleaved over rounds; figures are medians over ' +
      'the rounds, and every ratio is to a baseline measured in the same run.' +
      (run.quick
        ? ' A quick run has one short round of each scenario (so no median) and smaller worlds and histories: its ' +
          'figures are noisier, and ' +
          'rows marked with their smaller size do not measure what the target names.'
        : ''),
    '',
    `Targets: ${count('met')} met, ${count('missed')} missed, ${count('not measured')} not measured.`,
    '',
    '| step | command | status | seconds | writes (bench/results) |',
    '| --- | --- | --- | ---: | --- |',
    ...run.steps.map(
      (s) =>
        `| ${s.key} | \`${s.command}\` | ${s.status === 'failed' ? `**failed** (exit ${s.exitCode})` : s.status} | ` +
        `${s.seconds === undefined ? '–' : s.seconds.toFixed(0)} | ${s.writes.join(', ')} |`,
    ),
    '',
  ];
}

function targetsSection(checks: readonly TargetCheck[]): string[] {
  return [
    '## Targets',
    '',
    "Each row of issue 8's targets table, as many times as it has figures to judge (per scenario, per batch size, " +
      'per worker setting). "Missed by N×" is how far the figure is from the bar: the bar over the figure for a ' +
      'floor, the figure over the bar for a ceiling.',
    '',
    ...targetsTable(checks),
    '',
  ];
}

/** The compare targets' rows with no figure, when the compare step gave nothing. */
function compareUnmeasured(why: string): TargetCheck[] {
  const row = (
    issue: { what: string; target: string },
    bar: number,
    better: 'higher' | 'lower',
    unit: string,
  ) => ({
    ...issue,
    measure: 'every scenario',
    measured: undefined,
    unit,
    bar,
    better,
    baseline: '–',
    notMeasured: why,
  });
  return [
    row(ISSUE_8.append1, 0.7, 'higher', '× echo'),
    row(ISSUE_8.append20, 0.5, 'higher', '× ceiling'),
    row(ISSUE_8.latency, 5, 'lower', ' ms'),
    row(ISSUE_8.writeThrough, 10, 'higher', '×'),
    row(ISSUE_8.emmett, 10, 'higher', '×'),
  ];
}
