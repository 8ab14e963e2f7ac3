import { SCENARIOS } from './compare-scenarios';

/** Major events among `count` events of the scenario's workload, from its `from`th event on. */
function majorsBetween(key: string, from: number, count: number): number {
  const scenario = SCENARIOS.find((s) => s.key === key)!;
  const world = scenario.world('scenarios-spec');
  const workload = scenario.workload(world, scenario.players(world));
  for (let i = 0; i < from; i += 1) workload.next();
  let majors = 0;
  for (let i = 0; i < count; i += 1) if (workload.next()!.major) majors += 1;
  return majors;
}

describe("the compare's scenarios", () => {
  // The game mix is judged at 50% and 90% of saturation, after a probe and a ramp on the same world:
  // about 200,000 events into a block at 1 event per request, 450,000 at 20. Its quests must last
  // that long, or the judged steps say nothing about major events (as with the 300 quests it had).
  it('hold major events in the game mix where Lorekeeper is judged, at least one event in 100', () => {
    expect(majorsBetween('game-mix', 200_000, 20_000)).toBeGreaterThanOrEqual(200);
    expect(majorsBetween('game-mix', 430_000, 20_000)).toBeGreaterThanOrEqual(200);
  });

  it('hold no major event in the hot-entity load', () => {
    expect(majorsBetween('hot-entities', 0, 20_000)).toBe(0);
  });
});
