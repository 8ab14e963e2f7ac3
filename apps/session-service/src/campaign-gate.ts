/** How a task holds a campaign: beside up to `width` others, or alone. */
export type GateMode = 'shared' | 'exclusive';

interface Waiter {
  readonly mode: GateMode;
  readonly start: () => void;
}

interface Lane {
  running: number;
  exclusive: boolean;
  readonly waiting: Waiter[];
}

/**
 * Admits a campaign's appends: up to `width` at once in shared mode (each reads, validates and commits
 * with the Function's compare-and-set as the real guard), or one alone in exclusive mode, which a
 * shared append falls back to after losing a compare-and-set race to its neighbours. First come, first
 * served per campaign, so an exclusive task is never starved by a stream of shared ones. Different
 * campaigns never wait for each other.
 */
export class CampaignGate {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly width: number) {
    if (!Number.isInteger(width) || width < 1)
      throw new RangeError(`width must be a positive integer, got ${width}`);
  }

  run<T>(key: string, mode: GateMode, task: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { running: 0, exclusive: false, waiting: [] };
      this.lanes.set(key, lane);
    }
    const admitted = lane;
    return new Promise<T>((resolve, reject) => {
      admitted.waiting.push({
        mode,
        start: () => {
          task()
            .then(resolve, reject)
            .finally(() => this.finish(key, admitted, mode));
        },
      });
      this.pump(admitted);
    });
  }

  /** Campaigns with appends running or waiting (for metrics and tests). */
  get size(): number {
    return this.lanes.size;
  }

  private pump(lane: Lane): void {
    for (;;) {
      const next = lane.waiting[0];
      if (!next || lane.exclusive) return;
      if (next.mode === 'exclusive' ? lane.running > 0 : lane.running >= this.width) return;
      lane.waiting.shift();
      lane.running += 1;
      lane.exclusive = next.mode === 'exclusive';
      next.start();
    }
  }

  private finish(key: string, lane: Lane, mode: GateMode): void {
    lane.running -= 1;
    if (mode === 'exclusive') lane.exclusive = false;
    this.pump(lane);
    if (lane.running === 0 && lane.waiting.length === 0) this.lanes.delete(key);
  }
}
