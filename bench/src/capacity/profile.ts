import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One function's share of a CPU profile, by self time (time on the CPU in the function itself). */
export interface HotFunction {
  readonly name: string;
  readonly where: string;
  readonly selfMs: number;
  /** Of the whole profile, idle included. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Time the process waited with nothing to run (on Redis, Postgres or a timer). */
  readonly idleShare: number;
  /** Garbage collection's share. */
  readonly gcShare: number;
  readonly top: readonly HotFunction[];
}

/**
 * A span of time in microseconds of the monotonic clock: a `.cpuprofile`'s `startTime` and Node's
 * `process.hrtime` both read it, so another process can say when something happened in the profile.
 */
export interface ProfileWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

/** Now, on the clock of ProfileWindow. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1_000n);
}

interface CpuProfile {
  readonly startTime: number;
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * Sum the self time of every function in the one `.cpuprofile` that `node --cpu-prof` left in `dir`,
 * over the samples inside `window` only when one is given (the profiled process idles before and after
 * what is measured, and that idle time says nothing about it).
 */
export function summariseProfile(
  dir: string,
  root: string,
  count = 15,
  window?: ProfileWindow,
): ProfileSummary {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}: the worker did not exit cleanly`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const frameOf = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfUs = new Map<string, { name: string; where: string; us: number }>();
  let totalUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((nodeId, i) => {
    const frame = frameOf.get(nodeId);
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    totalUs += us;
    if (!frame) return;
    const where = frame.url ? `${shorten(frame.url, root)}:${frame.lineNumber + 1}` : '(native)';
    const key = `${frame.functionName}@${where}`;
    const entry = selfUs.get(key) ?? { name: frame.functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    selfUs.set(key, entry);
  });
  const shareOf = (name: string) =>
    [...selfUs.values()].filter((entry) => entry.name === name).reduce((sum, entry) => sum + entry.us, 0) /
    totalUs;
  const top = [...selfUs.values()]
    .filter((entry) => entry.name !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .slice(0, count)
    .map((entry) => ({
      name: entry.name,
      where: entry.where,
      selfMs: entry.us / 1_000,
      share: entry.us / totalUs,
    }));
  return {
    totalMs: totalUs / 1_000,
    idleShare: shareOf('(idle)'),
    gcShare: shareOf('(garbage collector)'),
    top,
  };
}

/** A repository path for our code, `node_modules/<package>/...` for a dependency's. */
function shorten(url: string, root: string): string {
  const path = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules >= 0) return path.slice(inModules);
  return path.startsWith(root) ? relative(root, path) : path;
}
