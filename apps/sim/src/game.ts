import type { Entity } from '@lorekeeper/domain';
import { fold, isLorekeeperError } from '@lorekeeper/domain';
import type { LorekeeperClient } from '@lorekeeper/client';
import type { ActionKind, Random } from './player-actions';
import { playerTurn } from './player-actions';

export interface GameOptions {
  readonly campaignId: string;
  readonly sessionId: string;
  /** The players this game server drives (several servers drive disjoint sets of one campaign). */
  readonly players: readonly string[];
  readonly actionsPerSecond: number;
  readonly durationMs: number;
  readonly random: Random;
  /** Called after each acknowledged append (for live progress). */
  readonly onAppend?: (ms: number, events: number) => void;
}

/** An acknowledged event with the seq the service gave it. */
export interface PlayedEvent {
  readonly seq: number;
  readonly type: string;
  readonly entityId: string;
  readonly data: unknown;
}

export interface GameReport {
  played: PlayedEvent[];
  actions: Partial<Record<ActionKind, number>>;
  /** Actions the service refused (another server changed what this one saw); their entities were re-read. */
  refused: number;
  appendMs: number[];
}

/**
 * Drive `players` through the campaign at a steady rate: each turn one player acts (see
 * playerTurn), the append goes through the client (idempotent retries included), and the local view
 * folds what was acknowledged. A refusal re-reads the entities it touched and play goes on.
 */
export async function playGame(
  client: LorekeeperClient,
  initial: ReadonlyMap<string, Entity>,
  options: GameOptions,
): Promise<GameReport> {
  let state = new Map(initial);
  const report: GameReport = { played: [], actions: {}, refused: 0, appendMs: [] };
  const started = Date.now();
  const interval = 1_000 / options.actionsPerSecond;
  for (let turn = 0; Date.now() - started < options.durationMs; turn += 1) {
    const due = started + turn * interval;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    const playerId = options.players[turn % options.players.length] as string;
    const { kind, events } = playerTurn(state, playerId, options.random, turn);
    const t0 = performance.now();
    try {
      const reply = await client.append(options.campaignId, options.sessionId, events);
      const ms = performance.now() - t0;
      report.appendMs.push(ms);
      options.onAppend?.(ms, events.length);
      state = fold(state, events);
      events.forEach((event, i) => report.played.push({ ...event, seq: reply.results[i]?.seq ?? 0 }));
      report.actions[kind] = (report.actions[kind] ?? 0) + 1;
    } catch (error) {
      if (!isLorekeeperError(error) || error.code === 'UNAVAILABLE' || error.code === 'SESSION_NOT_FOUND')
        throw error;
      report.refused += 1;
      for (const id of new Set(events.map((event) => event.entityId))) {
        const fresh = await client.getEntity(options.campaignId, id).catch(() => undefined);
        if (fresh) state.set(id, fresh);
        else state.delete(id);
      }
    }
  }
  return report;
}
