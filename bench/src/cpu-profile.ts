import { readFileSync } from 'node:fs';

/** The parts of a V8 .cpuprofile (what `node --cpu-prof` writes) that self time needs. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  }[];
  readonly samples: readonly number[];
  /** Microseconds before each sample. */
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  /** Share of the busy (non-idle) time. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly idleMs: number;
  readonly functions: readonly SelfTime[];
  /** Self time by where the code lives: our libs and apps, each npm package, Node's internals. */
  readonly places: readonly SelfTime[];
}

const NOT_BUSY = new Set(['(idle)', '(program)', '(garbage collector)']);

export function summariseProfile(file: string, top: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let idleMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1_000;
    const frame = frames.get(id);
    if (!frame) return;
    if (frame.functionName === '(idle)') {
      idleMs += ms;
      return;
    }
    const name = NOT_BUSY.has(frame.functionName)
      ? frame.functionName
      : `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    const place = NOT_BUSY.has(frame.functionName) ? frame.functionName : placeOf(frame.url);
    byPlace.set(place, (byPlace.get(place) ?? 0) + ms);
  });
  const busyMs = [...byFunction.values()].reduce((sum, ms) => sum + ms, 0);
  const ranked = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, share: ms / busyMs }));
  return { busyMs, idleMs, functions: ranked(byFunction), places: ranked(byPlace) };
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const repo = /\/(apps|libs)\/.*$/.exec(url);
  return repo ? repo[0].slice(1) : url.replace(/^file:\/\//, '');
}

function placeOf(url: string): string {
  if (url === '') return '(native / V8 builtins)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const repo = /\/((?:apps|libs)\/[^/]+)\//.exec(url);
  return repo ? repo[1]! : url;
}

export function profileMarkdown(summary: ProfileSummary, context: string): string[] {
  const row = (t: SelfTime) =>
    `| ${t.name.replace(/\|/g, '\\|')} | ${t.ms.toFixed(0)} | ${(t.share * 100).toFixed(1)}% |`;
  return [
    '# Session service CPU profile',
    '',
    context,
    '',
    `Busy ${(summary.busyMs / 1_000).toFixed(1)} s, idle ${(summary.idleMs / 1_000).toFixed(1)} s. Self time, ` +
      'as shares of the busy time.',
    '',
    '## By where the code lives',
    '',
    '| place | self ms | share |',
    '| --- | ---: | ---: |',
    ...summary.places.map(row),
    '',
    '## Top functions',
    '',
    '| function | self ms | share |',
    '| --- | ---: | ---: |',
    ...summary.functions.map(row),
    '',
  ];
}
