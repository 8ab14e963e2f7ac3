/**
 * `npm run bench`: every scenario of issue 8 in one command, gathered into one report.
 *
 *   npm run bench [-- --quick] [-- --profile] [-- --only compare,capacity,replay]
 *   node bench/dist/bench.js --render    (report.md and compare.md again from the results on disk, after a wording change)
 *
 * Each step is a benchmark script run as a child process, one after the other (never two at once:
 * they would share the cores they measure), writing its own results in bench/results as before:
 *
 *   compare   the game mix and the hot-entity load, every contender interleaved, Emmett included
 *   profile   with --profile: the session service under `node --cpu-prof` through the Lorekeeper
 *             1-event game-mix block, in a run of its own (the profiler slows what it watches)
 *   capacity  session start on a 1,000,000-entity world, worker catch-up after a 5-minute backlog,
 *             event-to-durable lag at 50% load; with --profile, one more catch-up under the profiler
 *   replay    `state --at` on a 1,000,000-event history
 *
 * then report.md, report.json and report.svg: every scenario, the targets table, the profiles. A step
 * that fails is reported as failed and the others still run; the exit code is then 1.
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { dieWithParent } from '@lorekeeper/testing';
import type { CompareData } from './compare-data';
import { writeCompareReport } from './compare-report';
import type { CompareProfile } from './compare-profile';
import type { CapacityData, ReplayData, ReportInputs } from './report/inputs';
import { readJson } from './report/inputs';
import type { RunRecord, StepKey, StepRecord } from './report/render';
import { writeReport } from './report/render';
import { targetsTable, verdictOf } from './report/targets';
import { BENCH_V8_FLAGS, REPO_ROOT, runBench } from './results';
import { checkArgs } from './usage';

checkArgs({
  command: 'npm run bench --',
  summary:
    'Every scenario of issue 8 in one run (about 40 minutes on a 2-core machine), one step after the\n' +
    'other, gathered into bench/results/report.md, report.json and report.svg.',
  options: [
    { name: 'quick', help: 'a short run: one round, a smaller world and history (3 to 4 minutes)' },
    { name: 'profile', help: 'also CPU-profile the session service and the worker (adds 1-2 minutes)' },
    {
      name: 'only',
      value: 'a,b',
      choices: ['compare', 'profile', 'capacity', 'replay'],
      help: 'run these steps only',
    },
    { name: 'render', help: 'write report.md and compare.md again from the results on disk; runs nothing' },
  ],
});
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',') : undefined;
const resultsDir = join(REPO_ROOT, 'bench', 'results');
const log = (line: string) =>
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} bench: ${line}\n`);

interface Step {
  readonly key: StepKey;
  readonly script: string;
  readonly args: readonly string[];
  readonly writes: readonly string[];
}

const quickFlag = quick ? ['--quick'] : [];
const STEPS: readonly Step[] = [
  {
    key: 'compare',
    script: 'compare.js',
    // One round when quick: eight contenders on two scenarios take about 2 minutes a round.
    args: quick ? ['--quick', '--rounds', '1'] : [],
    writes: ['compare.md', 'compare.json', 'compare.svg'],
  },
  {
    key: 'profile',
    script: 'compare.js',
    args: ['--profile', '--only', 'lorekeeper-1', '--scenarios', 'game-mix', '--rounds', '1', ...quickFlag],
    writes: ['compare-profile.md', 'compare-profile.json'],
  },
  {
    key: 'capacity',
    script: 'capacity.js',
    args: [...quickFlag, ...(profile ? [] : ['--no-profile'])],
    writes: ['capacity.md', 'capacity.json'],
  },
  { key: 'replay', script: 'replay.js', args: quickFlag, writes: ['replay.md', 'replay.json'] },
];

async function main(): Promise<void> {
  if (args.includes('--render')) return render();
  const started = new Date();
  const records: StepRecord[] = [];
  for (const step of STEPS) {
    const command = `node bench/dist/${step.script} ${step.args.join(' ')}`.trim();
    const skip = (step.key === 'profile' && !profile) || (only !== undefined && !only.includes(step.key));
    if (skip) {
      records.push({ key: step.key, command, status: 'not run', writes: [] });
      continue;
    }
    log(`${step.key}: ${command}`);
    const t0 = performance.now();
    const exitCode = await runChild(join(__dirname, step.script), step.args);
    const seconds = (performance.now() - t0) / 1_000;
    log(`${step.key}: ${exitCode === 0 ? 'done' : `FAILED (exit ${exitCode})`} in ${seconds.toFixed(0)} s`);
    records.push({
      key: step.key,
      command,
      status: exitCode === 0 ? 'ok' : 'failed',
      exitCode,
      seconds,
      writes: step.writes,
    });
  }
  const run: RunRecord = {
    command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
    started: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1_000,
    quick,
    profile,
    cores: cpus().length,
    node: process.version,
    steps: records,
  };
  report(run);
  if (records.some((r) => r.status === 'failed')) process.exitCode = 1;
}

/** report.md from the results of the steps that succeeded; the targets table on stdout. */
function report(run: RunRecord): void {
  const ok = (key: StepKey) => run.steps.some((s) => s.key === key && s.status === 'ok');
  const inputs: ReportInputs = {
    ...optional('compare', ok('compare') ? readJson<CompareData>(resultsDir, 'compare') : undefined),
    ...optional('capacity', ok('capacity') ? readJson<CapacityData>(resultsDir, 'capacity') : undefined),
    ...optional('replay', ok('replay') ? readJson<ReplayData>(resultsDir, 'replay') : undefined),
    ...optional(
      'compareProfile',
      ok('profile') ? readJson<CompareProfile>(resultsDir, 'compare-profile') : undefined,
    ),
  };
  const checks = writeReport(resultsDir, run, inputs);
  const count = (verdict: string) => checks.filter((c) => verdictOf(c) === verdict).length;
  process.stdout.write(
    [
      `# ${run.command}: ${Math.round(run.seconds)} s`,
      '',
      ...targetsTable(checks),
      '',
      `${count('met')} met, ${count('missed')} missed, ${count('not measured')} not measured. ` +
        'Every scenario, figure and profile: bench/results/report.md (report.json, report.svg).',
      '',
    ].join('\n'),
  );
}

/**
 * `--render`: the last run's record from report.json, the figures from the step files on disk;
 * compare.md (and its chart) again from compare.json too, so its wording follows the code.
 */
function render(): void {
  const saved = readJson<{ run: RunRecord }>(resultsDir, 'report');
  if (!saved) throw new Error(`no report.json in ${resultsDir} to render again: run \`npm run bench\` first`);
  const compare = readJson<CompareData>(resultsDir, 'compare');
  if (compare) writeCompareReport(resultsDir, compare);
  report(saved.run);
}

const optional = <K extends string, T>(key: K, value: T | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, T>>;

/** Run `node <script> <args>`; its stdout (its own markdown) goes to our stderr, so ours is the summary. */
function runChild(script: string, childArgs: readonly string[]): Promise<number | null> {
  return new Promise((resolve) => {
    // With the bench's V8 flags already, so the step need not start itself again (runBench).
    const child = dieWithParent(
      spawn(process.execPath, [...BENCH_V8_FLAGS, script, ...childArgs], { stdio: ['ignore', 2, 2] }),
    );
    child.once('error', (error) => {
      log(`could not start ${script}: ${error.message}`);
      resolve(-1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
  });
}

runBench(main);
