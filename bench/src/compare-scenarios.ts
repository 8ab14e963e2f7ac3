import { generateWorld } from '@lorekeeper/domain';
import type { Scenario } from './compare-run';
import { gameMix, hotEntities } from './workload';

/** The compare's two loads: the simulated game's mix, and many events on few entities. */
export const SCENARIOS: readonly Scenario[] = [
  {
    key: 'game-mix',
    name: 'game mix',
    // Quests for Lorekeeper's whole block. A completed quest is never offered again; of a block's
    // events about one in 30 completes one (a major event) up to the 200,000th, since the world starts
    // with quests under way, and one in 60 up to the 500,000th (compare-scenarios.spec.ts). With the 300
    // this world once had, they were used up in the probe and the ramp, and the judged steps held no
    // major event. The ceiling's blocks, of millions of events, lean towards xp at their end, which
    // changes nothing it measures.
    world: (campaignId) =>
      generateWorld({
        campaignId,
        regions: 50,
        players: 200,
        npcs: 300,
        items: 600,
        quests: 20_000,
        seed: 11,
      }),
    players: () => Array.from({ length: 200 }, (_, i) => `player:p${i}`),
    workload: (world, players) => gameMix(world.entities, players, 23),
  },
  {
    key: 'hot-entities',
    name: 'hot entities (10 players)',
    world: (campaignId) =>
      generateWorld({ campaignId, regions: 5, players: 10, npcs: 0, items: 0, quests: 0, seed: 11 }),
    players: () => Array.from({ length: 10 }, (_, i) => `player:p${i}`),
    workload: (world, players) => hotEntities(world.entities, players, 29),
  },
];
