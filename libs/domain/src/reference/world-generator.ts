import type { Entity } from '../entity';
import { CAMPAIGN_ID_PATTERN, WORLD_ID } from '../ids';
import type { WorldDocument } from '../world';
import { WORLD_FORMAT } from '../world';

export interface WorldOptions {
  readonly campaignId: string;
  readonly regions: number;
  readonly players: number;
  readonly npcs: number;
  readonly items: number;
  readonly quests: number;
  readonly worldEvents?: number;
  readonly seed: number;
  readonly name?: string;
  /** Upper bound on each region's neighbour list (the schema allows 64). */
  readonly maxNeighbours?: number;
}

/** Mulberry32: tiny, fast and the same on every machine, so a seed names one world forever. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A valid world document of any size, the same for the same options. Regions form a connected graph
 * (a random spanning tree plus some extra edges) with symmetric neighbour lists of at most
 * `maxNeighbours`; everything else stands in a random region; items are held by players, NPCs or lie
 * in regions; quests are available, active (with a player) or completed. Entity count is the sum of
 * the counts plus one `world`.
 */
export function generateWorld(options: WorldOptions): WorldDocument {
  const { campaignId, regions, players, npcs, items, quests, worldEvents = 0, seed } = options;
  const maxNeighbours = options.maxNeighbours ?? 4;
  checkOptions(options, worldEvents, maxNeighbours);
  const random = seededRandom(seed);
  const below = (n: number) => Math.floor(random() * n);
  const regionId = (i: number) => `region:r${i}`;
  const playerId = (i: number) => `player:p${i}`;
  const randomRegion = () => regionId(below(regions));
  const randomHolder = () => {
    const roll = random();
    if (players > 0 && roll < 0.4) return playerId(below(players));
    if (npcs > 0 && roll < 0.7) return `npc:n${below(npcs)}`;
    return randomRegion();
  };

  const entities: Entity[] = [{ id: WORLD_ID, kind: 'world', version: 0, state: { flags: {} } }];
  regionGraph(regions, maxNeighbours, below).forEach((neighbours, i) => {
    const state = { name: `Region ${i}`, neighbors: neighbours.map(regionId) };
    entities.push({ id: regionId(i), kind: 'region', version: 0, state });
  });
  for (let i = 0; i < players; i++) {
    const state = { name: `Player ${i}`, regionId: randomRegion(), gold: below(1000), xp: below(5000) };
    entities.push({ id: playerId(i), kind: 'player', version: 0, state });
  }
  for (let i = 0; i < npcs; i++) {
    const alive = random() < 0.85;
    const hp = alive ? 1 + below(100) : 0;
    const state = { name: `Npc ${i}`, regionId: randomRegion(), hp, status: alive ? 'alive' : 'defeated' };
    entities.push({ id: `npc:n${i}`, kind: 'npc', version: 0, state });
  }
  for (let i = 0; i < items; i++) {
    const state = { name: `Item ${i}`, ownerId: randomHolder(), qty: 1 + below(5) };
    entities.push({ id: `item:i${i}`, kind: 'item', version: 0, state });
  }
  for (let i = 0; i < quests; i++) {
    const roll = players > 0 ? random() : 0;
    const status = roll < 0.4 ? 'available' : roll < 0.75 ? 'active' : 'completed';
    const holder = status === 'available' ? null : playerId(below(players));
    const state = {
      name: `Quest ${i}`,
      regionId: randomRegion(),
      status,
      step: holder ? below(6) : 0,
      playerId: holder,
    };
    entities.push({ id: `quest:q${i}`, kind: 'quest', version: 0, state });
  }
  for (let i = 0; i < worldEvents; i++) {
    const state = { kind: 'omen', regionId: randomRegion(), status: random() < 0.7 ? 'active' : 'ended' };
    entities.push({ id: `worldEvent:e${i}`, kind: 'worldEvent', version: 0, state });
  }
  return {
    format: WORLD_FORMAT,
    campaignId,
    name: options.name ?? `Generated world ${seed}`,
    seq: 0,
    entities,
  };
}

/** Neighbour lists by region index: connected, symmetric, no self-loops, none longer than `max`. */
function regionGraph(count: number, max: number, below: (n: number) => number): number[][] {
  const neighbours: number[][] = Array.from({ length: count }, () => []);
  const link = (a: number, b: number) => {
    neighbours[a]!.push(b);
    neighbours[b]!.push(a);
  };
  // Spanning tree: each region joins an earlier one with room. The previous region has exactly one
  // neighbour at that moment (later regions have not joined yet), so it always has room when max >= 2.
  for (let i = 1; i < count; i++) {
    let parent = below(i);
    for (let tries = 0; neighbours[parent]!.length >= max && tries < 8; tries++) parent = below(i);
    link(i, neighbours[parent]!.length < max ? parent : i - 1);
  }
  // Extra edges give the map loops, so a region is not always one road from the next.
  for (let i = 0; i < count; i++) {
    const other = below(count);
    const room = neighbours[i]!.length < max && neighbours[other]!.length < max;
    if (other !== i && room && !neighbours[i]!.includes(other)) link(i, other);
  }
  return neighbours;
}

function checkOptions(options: WorldOptions, worldEvents: number, maxNeighbours: number): void {
  const problems: string[] = [];
  const counts = { ...options, worldEvents };
  for (const key of ['regions', 'players', 'npcs', 'items', 'quests', 'worldEvents'] as const) {
    const count = counts[key];
    if (!Number.isSafeInteger(count) || count < 0) problems.push(`${key} must be a count, got ${count}`);
  }
  if (options.regions < 1) problems.push(`regions must be at least 1, got ${options.regions}`);
  if (!Number.isInteger(maxNeighbours) || maxNeighbours < 2 || maxNeighbours > 64) {
    problems.push(`maxNeighbours must be an integer from 2 to 64, got ${maxNeighbours}`);
  }
  if (!CAMPAIGN_ID_PATTERN.test(options.campaignId)) {
    problems.push(`campaignId must match ${String(CAMPAIGN_ID_PATTERN)}, got "${options.campaignId}"`);
  }
  if (problems.length > 0) throw new Error(`generateWorld: ${problems.join('; ')}`);
}
