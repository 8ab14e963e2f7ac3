import type { LorekeeperClient } from '@lorekeeper/client';
import { isLorekeeperError } from '@lorekeeper/client';
import type { ReferenceEvent } from '@lorekeeper/domain';
import type { ArchivedEvent } from '@lorekeeper/pg-store';

/** One batch a load loop sent, and what became of it as the game server saw it. */
export interface SentBatch {
  readonly player: string;
  /**
   * The batch's marker: its `player.gold.changed` delta and `player.xp.gained` amount. Each loop
   * drives its own player and counts up, so (player, marker) names exactly one batch in any log.
   */
  readonly marker: number;
  readonly quest: string | undefined;
  readonly events: number;
  readonly sentAt: number;
  /** acked: a success reply; refused: a coded error; unknown: the client gave up without a reply. */
  outcome?: 'acked' | 'refused' | 'unknown';
  code?: string;
  seqs?: readonly number[];
  durable?: boolean;
  answeredAt?: number;
}

export interface LoadOptions {
  readonly campaignId: string;
  readonly players: readonly string[];
  /**
   * Quests per player, taken in order (the arrays are consumed, so a later load goes on with the rest):
   * every `majorEvery`-th batch starts and completes the next one.
   */
  readonly quests: ReadonlyMap<string, string[]>;
  readonly majorEvery: number;
  /** Pause between one loop's batches. */
  readonly pauseMs: number;
  /** The session every loop appends to, and how to get a new one on SESSION_NOT_FOUND. */
  readonly session: SessionHolder;
  /** Where to record the batches (a load started again goes on counting from the markers in it). */
  readonly record?: SentBatch[];
}

/**
 * The game server's side of "start again": when an append says SESSION_NOT_FOUND, one `session.start`
 * for all players (shared by every loop that met it with the same session id).
 */
export class SessionHolder {
  private restarting: Promise<string> | undefined;
  readonly restarts: { at: number; from: string; to: string; seq: number }[] = [];

  constructor(
    private readonly client: LorekeeperClient,
    private readonly campaignId: string,
    private readonly players: readonly string[],
    public current: string,
  ) {}

  async renew(stale: string): Promise<string> {
    if (stale !== this.current) return this.current;
    this.restarting ??= (async () => {
      try {
        for (let attempt = 1; ; attempt += 1) {
          try {
            const reply = await this.client.startSession(this.campaignId, this.players);
            this.restarts.push({ at: Date.now(), from: stale, to: reply.sessionId, seq: reply.seq });
            this.current = reply.sessionId;
            return reply.sessionId;
          } catch (error) {
            if (attempt >= 50) throw error;
            await sleep(200);
          }
        }
      } finally {
        this.restarting = undefined;
      }
    })();
    return this.restarting;
  }
}

export interface RunningLoad {
  readonly batches: SentBatch[];
  /** Stop sending and wait for every loop to have its last reply (or give up). */
  stop(): Promise<void>;
}

/** One loop per player, appending small batches at a steady pace with the client's idempotent retries. */
export function startLoad(client: LorekeeperClient, options: LoadOptions): RunningLoad {
  const batches: SentBatch[] = options.record ?? [];
  let running = true;
  const loops = options.players.map(async (player, loop) => {
    const quests = options.quests.get(player) ?? [];
    let marker = loopStart(batches, player);
    for (let n = 0; running; n += 1) {
      marker += 1;
      const quest = (n + loop) % options.majorEvery === 0 ? quests.shift() : undefined;
      const events: ReferenceEvent[] = [
        { type: 'player.gold.changed', entityId: player, data: { delta: marker } },
        { type: 'player.xp.gained', entityId: player, data: { amount: marker } },
      ];
      if (quest) {
        events.push(
          { type: 'quest.started', entityId: quest, data: { playerId: player } },
          { type: 'quest.completed', entityId: quest, data: {} },
        );
      }
      const batch: SentBatch = { player, marker, quest, events: events.length, sentAt: Date.now() };
      batches.push(batch);
      const sessionId = options.session.current;
      try {
        const reply = await client.append(options.campaignId, sessionId, events);
        Object.assign(batch, {
          outcome: 'acked',
          seqs: reply.results.map((r) => r.seq),
          durable: reply.durable,
          answeredAt: Date.now(),
        });
      } catch (error) {
        const code = isLorekeeperError(error) ? error.code : 'THROWN';
        batch.code = code;
        batch.answeredAt = Date.now();
        batch.outcome = code === 'UNAVAILABLE' || code === 'THROWN' ? 'unknown' : 'refused';
        if (code === 'SESSION_NOT_FOUND') {
          // Nothing was applied: the quest is still available for the next batch.
          if (quest) quests.unshift(quest);
          await options.session.renew(sessionId);
        } else if (batch.outcome === 'unknown') await sleep(100);
      }
      await sleep(options.pauseMs);
    }
  });
  return {
    batches,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** A loop started again goes on counting from its player's last marker. */
function loopStart(batches: readonly SentBatch[], player: string): number {
  return batches.reduce((max, b) => (b.player === player ? Math.max(max, b.marker) : max), 0);
}

/** How often each (player, marker) batch appears in a log of events (archive or stream). */
export function markerCounts(events: readonly Pick<ArchivedEvent, 'type' | 'entityId' | 'data'>[]) {
  const counts = new Map<string, number>();
  for (const event of events) {
    if (event.type !== 'player.gold.changed') continue;
    const key = markerKey(event.entityId, (event.data as { delta: number }).delta);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export function markerKey(player: string, marker: number): string {
  return `${player}#${marker}`;
}

/** Events per second sent between two instants. */
export function offeredRate(batches: readonly SentBatch[], from: number, to: number): number {
  const events = batches
    .filter((b) => b.sentAt >= from && b.sentAt < to)
    .reduce((sum, b) => sum + b.events, 0);
  return events / Math.max(0.001, (to - from) / 1_000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
