import type { Entity } from '@lorekeeper/domain';
import { applyEvents, entitiesById, generateWorld, seededRandom } from '@lorekeeper/testing';
import type { ActionKind } from './player-actions';
import { playerTurn } from './player-actions';

function play(seed: number, turns: number) {
  const world = generateWorld({
    campaignId: 'sim',
    regions: 12,
    players: 6,
    npcs: 40,
    items: 60,
    quests: 30,
    seed,
  });
  let state: Map<string, Entity> = entitiesById(world);
  const random = seededRandom(seed);
  const kinds = new Map<ActionKind, number>();
  const log: string[] = [];
  for (let turn = 0; turn < turns; turn += 1) {
    const playerId = `player:p${turn % 6}`;
    const { kind, events } = playerTurn(state, playerId, random, turn);
    // The same path an append takes: parse, check references, evolve. Throws on an invalid event.
    state = applyEvents(state, events);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    log.push(...events.map((e) => `${e.type} ${e.entityId}`));
  }
  return { state, kinds, log };
}

describe('the simulated players', () => {
  it('only ever produce events that apply, across a long game', () => {
    expect(() => play(11, 3_000)).not.toThrow();
  });

  it('play the whole mix: moves, gold, xp, trades, fights, dialogue and quests', () => {
    const { kinds, log } = play(5, 3_000);
    for (const kind of ['move', 'gold', 'xp', 'trade', 'fight', 'dialogue', 'quest'] as const) {
      expect(kinds.get(kind) ?? 0).toBeGreaterThan(0);
    }
    for (const type of [
      'combat.started',
      'npc.damaged',
      'dialogue.choice',
      'quest.started',
      'quest.completed',
      'item.moved',
    ]) {
      expect(log.some((line) => line.startsWith(type))).toBe(true);
    }
  });

  it('are deterministic for a seed', () => {
    expect(play(7, 500).log).toEqual(play(7, 500).log);
    expect(play(7, 500).log).not.toEqual(play(8, 500).log);
  });
});
