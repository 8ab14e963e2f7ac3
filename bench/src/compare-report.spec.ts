import type { BlockSample, ContenderRow } from './compare-data';
import { snapshotShares } from './compare-report';

/** A block as the snapshot line reads it: the 90% step's events and the rows written over it. */
const block = (applied: number, rowsWritten: number, snapshotRowsWritten?: number) =>
  ({
    at90: { applied },
    rowsWritten,
    ...(snapshotRowsWritten === undefined ? {} : { snapshotRowsWritten }),
  }) as unknown as BlockSample;

const row = (name: string, blocks: BlockSample[]): ContenderRow => ({
  contender: { key: name, name, batch: 1, acknowledgement: '' },
  blocks,
  saturation: 0,
});

describe("the compare report's line on replay snapshots in the 90% step", () => {
  it('counts the rounds whose step held a copy and gives each round its rows and the copy’s share', () => {
    const [line] = snapshotShares([
      row('Lorekeeper', [
        block(50_000, 26_000, 21_000),
        block(40_000, 5_000, 0),
        block(50_000, 10_000, 4_000),
      ]),
      row('write-through', [block(2_000, 4_000)]),
    ]);
    expect(line).toContain(
      "Lorekeeper: 2 of 3 round(s); PG rows / 1,000 events by round 520 (420 a snapshot's), 125 (0 a snapshot's), 200 (80 a snapshot's)",
    );
    expect(line).not.toContain('write-through');
  });

  it('says nothing for results without the count (runs before it, or contenders without snapshots)', () => {
    expect(snapshotShares([row('Lorekeeper', [block(50_000, 5_000)])])).toEqual([]);
  });
});
