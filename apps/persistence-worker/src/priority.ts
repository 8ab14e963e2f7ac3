import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

export interface PriorityOutcome {
  /** The niceness asked for. */
  readonly nice: number;
  /** Threads lowered to it (Linux sets niceness per thread); the others were at it or below already. */
  readonly lowered: number;
  /** Why some thread could not be lowered, if one could not. */
  readonly error?: string;
}

/**
 * Lower this process to niceness `nice`, never raising it (an operator who started the worker with
 * `nice -n 15` keeps 15; raising needs privileges anyway). The worker is throughput work: sharing
 * cores with the session service, its bursts of folding and flushing otherwise take the core an
 * append is waiting for, and the appends' latency tail is those bursts (docs/configuration.md,
 * WORKER_NICE). Linux keeps a niceness per thread, and the threads V8 and libuv started before this
 * runs (garbage collection, the thread pool) would keep theirs: each is lowered by its thread id.
 */
export function lowerPriority(nice: number): PriorityOutcome {
  const threads = threadIds();
  let lowered = 0;
  let error: string | undefined;
  for (const tid of threads) {
    try {
      if (getPriority(tid) >= nice) continue;
      setPriority(tid, nice);
      lowered += 1;
    } catch (cause) {
      // A thread that ended meanwhile (ESRCH), or a platform without per-thread priorities.
      error ??= cause instanceof Error ? cause.message : String(cause);
    }
  }
  return error === undefined ? { nice, lowered } : { nice, lowered, error };
}

/** This process's thread ids on Linux; elsewhere just the process (0: the caller). */
function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [0];
  }
}
