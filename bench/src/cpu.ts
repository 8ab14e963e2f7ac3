import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on every Linux this runs on). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, or undefined if it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Pids of every process whose command name is `name` (all of Postgres: postmaster and backends). */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // It exited while we looked.
    }
  }
  return pids;
}

/** Where CPU is read from: a fixed pid, every process of a name, or this process. */
export type CpuSource =
  | { readonly label: string; readonly pid: number }
  | { readonly label: string; readonly named: string }
  | { readonly label: string; readonly self: true };

/** CPU per source at one instant; per-pid for named sources, so a process that exits drops out. */
export type CpuReading = ReadonlyMap<string, ReadonlyMap<number, number>>;

export function readCpu(sources: readonly CpuSource[]): CpuReading {
  const reading = new Map<string, Map<number, number>>();
  for (const source of sources) {
    const perPid = new Map<number, number>();
    if ('self' in source) {
      const usage = process.cpuUsage();
      perPid.set(process.pid, (usage.user + usage.system) / 1e6);
    } else {
      for (const pid of 'pid' in source ? [source.pid] : pidsNamed(source.named)) {
        const seconds = processCpuSeconds(pid);
        if (seconds !== undefined) perPid.set(pid, seconds);
      }
    }
    reading.set(source.label, perPid);
  }
  return reading;
}

/**
 * CPU seconds each source used between two readings. A pid only in the later reading started in
 * between, and all of its CPU counts: a Postgres backend a worker opens during a catch-up did all its
 * work there (counting only pids in both readings once put a whole catch-up's Postgres at 0.4 s). A pid
 * only in the earlier one exited, and what it used since is lost with it.
 */
export function cpuBetween(before: CpuReading, after: CpuReading): Record<string, number> {
  const used: Record<string, number> = {};
  for (const [label, pids] of after) {
    let total = 0;
    for (const [pid, seconds] of pids) total += seconds - (before.get(label)?.get(pid) ?? 0);
    used[label] = total;
  }
  return used;
}
