/** The q-quantile (0..1) of some samples, nearest-rank; 0 for none. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * What the game servers acknowledged, as it happens: every append's latency and size, and a sliding
 * window of the last few seconds for the live progress line.
 */
export class AppendStats {
  private readonly recent: { at: number; ms: number; events: number }[] = [];
  readonly latenciesMs: number[] = [];
  events = 0;
  appends = 0;

  constructor(private readonly windowMs = 3_000) {}

  record(ms: number, events: number, at = Date.now()): void {
    this.latenciesMs.push(ms);
    this.events += events;
    this.appends += 1;
    this.recent.push({ at, ms, events });
  }

  /** Events per second and append latency over the window ending `now`. */
  window(now = Date.now()): { eventsPerSecond: number; p50: number; p99: number } {
    while (this.recent.length > 0 && (this.recent[0] as { at: number }).at < now - this.windowMs)
      this.recent.shift();
    const events = this.recent.reduce((sum, r) => sum + r.events, 0);
    const ms = this.recent.map((r) => r.ms);
    return {
      eventsPerSecond: (events * 1_000) / this.windowMs,
      p50: quantile(ms, 0.5),
      p99: quantile(ms, 0.99),
    };
  }
}
