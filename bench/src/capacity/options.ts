/** The sizes of one capacity run, from the command line (`--quick` for a smaller, faster run). */
export interface CapacityOptions {
  readonly quick: boolean;
  readonly rounds: number;
  /** The world session start is measured on, and every later part runs in. */
  readonly world: {
    readonly regions: number;
    readonly players: number;
    readonly npcs: number;
    readonly items: number;
    readonly quests: number;
  };
  /** Players per session start. */
  readonly sessionSizes: readonly number[];
  /**
   * Rounds of session starts: more than `rounds`, since a round takes about a second and the first
   * few starts of a fresh service process run before V8 has optimised the loading path.
   */
  readonly sessionStartRounds: number;
  /** The players of the campaign's session in the worker and lag parts (the largest session). */
  readonly activePlayers: number;
  /** The backlog the worker catches up: `backlogSeconds` of play at `backlogRate` events/s. */
  readonly backlogSeconds: number;
  readonly backlogRate: number;
  /** Events on all-distinct entities (one player each), for the worker beside raw UNNEST upserts. */
  readonly distinctEvents: number;
  /** Rows per raw UNNEST upsert statement (the ceiling's batch). */
  readonly rawBatch: number;
  /** Events per append in the lag part, and how long each load runs. */
  readonly appendBatch: number;
  readonly saturationSeconds: number;
  readonly lagSeconds: number;
  /** Which parts to run (all by default; `--only start,worker,lag` for a smoke run of some). */
  readonly parts: ReadonlySet<Part>;
  readonly profile: boolean;
}

export type Part = 'start' | 'worker' | 'lag';
const PARTS: readonly Part[] = ['start', 'worker', 'lag'];

export function parseOptions(args: readonly string[]): CapacityOptions {
  const flag = (name: string, fallback: number) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? Number(args[at + 1]) : fallback;
  };
  const quick = args.includes('--quick');
  const only = args.indexOf('--only');
  const parts = only >= 0 ? (args[only + 1] ?? '').split(',') : PARTS;
  // 1,000,000 entities in full (with the world entity); a tenth of it with --quick.
  const scale = flag('scale', quick ? 0.1 : 1);
  return {
    quick,
    rounds: flag('rounds', quick ? 1 : 3),
    world: {
      regions: Math.round(20_000 * scale),
      players: Math.round(200_000 * scale),
      npcs: Math.round(300_000 * scale),
      items: Math.round(450_000 * scale),
      quests: Math.round(49_999 * scale),
    },
    sessionSizes: [2, 20, 200],
    sessionStartRounds: flag('start-rounds', quick ? 1 : 7),
    activePlayers: 200,
    backlogSeconds: flag('backlog-seconds', quick ? 30 : 300),
    backlogRate: flag('backlog-rate', 2_000),
    distinctEvents: flag('distinct-events', quick ? 20_000 : 100_000),
    rawBatch: 500,
    appendBatch: flag('append-batch', 10),
    saturationSeconds: flag('saturation-seconds', quick ? 3 : 5),
    lagSeconds: flag('lag-seconds', quick ? 8 : 20),
    parts: new Set(parts.filter((part): part is Part => (PARTS as readonly string[]).includes(part))),
    profile: !args.includes('--no-profile'),
  };
}
