import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summariseProfile } from './profile';

/** A profile of 1 ms samples: idle for 10, busy in `work` for 5, idle for 10 again. */
function writeProfile(dir: string): void {
  const frame = (id: number, functionName: string) => ({
    id,
    callFrame: { functionName, url: id === 3 ? 'file:///repo/apps/worker/dist/fold.js' : '', lineNumber: 9 },
  });
  const samples = [...Array<number>(10).fill(2), ...Array<number>(5).fill(3), ...Array<number>(10).fill(2)];
  const profile = {
    startTime: 1_000_000,
    nodes: [frame(1, '(root)'), frame(2, '(idle)'), frame(3, 'work')],
    samples,
    timeDeltas: samples.map(() => 1_000),
  };
  writeFileSync(join(dir, 'CPU.1.cpuprofile'), JSON.stringify(profile));
}

describe('the worker profile summary', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lk-profile-spec-'));
    writeProfile(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts the whole profile without a window', () => {
    const summary = summariseProfile(dir, '/repo');
    expect(summary.totalMs).toBe(25);
    expect(summary.idleShare).toBeCloseTo(20 / 25);
    expect(summary.top[0]).toMatchObject({ name: 'work', where: 'apps/worker/dist/fold.js:10', selfMs: 5 });
  });

  it('counts only the samples inside a window, on the profile clock', () => {
    // Samples end at 1,001,000 µs, 1,002,000 ... ; the busy ones at 1,011,000 to 1,015,000.
    const summary = summariseProfile(dir, '/repo', 15, { fromUs: 1_009_500, toUs: 1_016_500 });
    expect(summary.totalMs).toBe(7);
    expect(summary.idleShare).toBeCloseTo(2 / 7);
    expect(summary.top[0]?.share).toBeCloseTo(5 / 7);
  });
});
