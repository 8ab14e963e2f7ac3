import type { Progress } from './progress';
import { startReplayProgress } from './progress';

describe('startReplayProgress', () => {
  it("shows the snapshot's rows, then the events folded, each on a bar of its own, again for a second replay", () => {
    const seen: string[] = [];
    const start = (label: string): Progress => ({
      update: (done, total) => seen.push(`${label} ${done}/${total ?? '?'}`),
      stop: () => seen.push(`${label} stopped`),
    });
    const progress = startReplayProgress(start);
    progress.onSnapshotRows(5_000, 12_000);
    progress.onSnapshotRows(12_000, 12_000);
    progress.onProgress(100, 300);
    progress.onProgress(300, 300);
    // A diff replays a second time.
    progress.onSnapshotRows(12_000, 12_000);
    progress.onProgress(50, 50);
    progress.stop();
    expect(seen).toEqual([
      'reading the snapshot 5000/12000',
      'reading the snapshot 12000/12000',
      'reading the snapshot stopped',
      'folding events 100/300',
      'folding events 300/300',
      'folding events stopped',
      'reading the snapshot 12000/12000',
      'reading the snapshot stopped',
      'folding events 50/50',
      'folding events stopped',
    ]);
  });
});
