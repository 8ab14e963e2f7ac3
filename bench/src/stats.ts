/** Latency samples in milliseconds, summarised. */
export interface Summary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

export function summarise(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Run `once` with `inFlight` calls outstanding for `seconds`; each call reports how many events it
 * carried. Returns events per second and per-call latencies.
 */
export async function closedLoop(
  seconds: number,
  inFlight: number,
  once: (worker: number, i: number) => Promise<number>,
): Promise<{ eventsPerSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  let events = 0;
  const started = performance.now();
  const deadline = started + seconds * 1_000;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, worker) => {
      for (let i = 0; performance.now() < deadline; i += 1) {
        const t0 = performance.now();
        // Not `events += await ...`: that reads `events` before the await and loses other workers' counts.
        const carried = await once(worker, i);
        events += carried;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { eventsPerSecond: events / ((performance.now() - started) / 1_000), latencies };
}
