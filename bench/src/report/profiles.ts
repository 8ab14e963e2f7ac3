import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ProfileSummary as WorkerProfile } from '../capacity/profile';
import type { CompareProfile } from '../compare-profile';
import type { SelfTime } from '../cpu-profile';
import type { TargetCheck } from './targets';
import { ISSUE_8, verdictOf } from './targets';

const TOP = 12;
const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The issue rows each profile bears on: the session service's for appends, the worker's for durability. */
const SESSION_ROWS: readonly string[] = [
  ISSUE_8.append1,
  ISSUE_8.append20,
  ISSUE_8.latency,
  ISSUE_8.writeThrough,
  ISSUE_8.emmett,
].map((r) => r.what);
const WORKER_ROWS: readonly string[] = [
  ISSUE_8.workerMix,
  ISSUE_8.workerDistinct,
  ISSUE_8.lag,
  ISSUE_8.catchUp,
].map((r) => r.what);

/**
 * The CPU profiles taken by this run (`--profile`), summarised: the session service through the
 * lorekeeper-1 game-mix step, the persistence worker through a catch-up. Figures only; the reading
 * of them is written by hand in NOTES.md.
 */
export function profilesSection(
  dir: string,
  checks: readonly TargetCheck[],
  session: CompareProfile | undefined,
  worker: WorkerProfile | undefined,
  profiled: boolean,
): string[] {
  const missed = (rows: readonly string[]) => {
    const names = [
      ...new Set(checks.filter((c) => rows.includes(c.what) && verdictOf(c) === 'missed').map((c) => c.what)),
    ];
    return names.length > 0
      ? `Missed targets it bears on: ${names.join('; ')}.`
      : 'No missed target depends on it in this run.';
  };
  const notes = existsSync(join(dir, 'NOTES.md'))
    ? 'What the profiles say about each miss, and the next step, is written by hand in [NOTES.md](NOTES.md).'
    : 'The hand-written reading of these profiles goes in bench/results/NOTES.md (not written yet).';
  const lines = ['## Profiles', '', notes, ''];
  if (!profiled)
    return [
      ...lines,
      'No profile was taken in this run: `npm run bench -- --profile` profiles the session service (`node --cpu-prof`) ' +
        'through the Lorekeeper 1-event game-mix step and the persistence worker through a catch-up, each in a run ' +
        'of its own that is not counted in the figures above.',
      '',
    ];
  return [
    ...lines,
    ...sessionProfile(session, missed(SESSION_ROWS)),
    ...workerProfile(worker, missed(WORKER_ROWS)),
  ];
}

function sessionProfile(profile: CompareProfile | undefined, missed: string): string[] {
  const heading = '### Session service, Lorekeeper 1 event/request on the game mix';
  if (!profile)
    return [heading, '', 'The profiling step failed or left no profile; see the steps table.', ''];
  const { summary } = profile;
  const row = (t: SelfTime) => `| ${cell(t.name)} | ${t.ms.toFixed(0)} | ${pct(t.share)} |`;
  return [
    heading,
    '',
    `${profile.context} Details: [compare-profile.md](compare-profile.md). ${missed}`,
    '',
    `Busy ${(summary.busyMs / 1_000).toFixed(1)} s, idle ${(summary.idleMs / 1_000).toFixed(1)} s; self time as shares of the busy time.`,
    '',
    '| where the code lives | self ms | share |',
    '| --- | ---: | ---: |',
    ...summary.places.slice(0, TOP).map(row),
    '',
    '| function | self ms | share |',
    '| --- | ---: | ---: |',
    ...summary.functions.slice(0, TOP).map(row),
    '',
  ];
}

function workerProfile(profile: WorkerProfile | undefined, missed: string): string[] {
  const heading = '### Persistence worker, catching up a backlog of the simulated mix';
  if (!profile) return [heading, '', 'The capacity step failed or left no profile; see the steps table.', ''];
  return [
    heading,
    '',
    `\`node --cpu-prof\` on the worker through one more (uncounted) catch-up round of bench:capacity, summed over the catch-up itself: ` +
      `${(profile.totalMs / 1_000).toFixed(1)} s, ${pct(profile.idleShare)} idle (waiting on Redis or ` +
      `Postgres), ${pct(profile.gcShare)} garbage collection. Details: [capacity.md](capacity.md). ${missed}`,
    '',
    '| function | where | self ms | share of the profile |',
    '| --- | --- | ---: | ---: |',
    ...profile.top
      .slice(0, TOP)
      .map((f) => `| \`${cell(f.name)}\` | ${cell(f.where)} | ${f.selfMs.toFixed(0)} | ${pct(f.share)} |`),
    '',
  ];
}
