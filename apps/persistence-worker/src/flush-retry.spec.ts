import { FlushRetry } from './flush-retry';

describe('the flush retry backoff', () => {
  it('waits between half and all of a backoff that doubles per failure in a row, up to 25.6 s', () => {
    const retry = new FlushRetry();
    const waits = Array.from({ length: 10 }, () => retry.failed(1_000));
    const bounds = [200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 25_600, 25_600];
    waits.forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual(bounds[i]! / 2);
      expect(wait).toBeLessThanOrEqual(bounds[i]!);
    });
    expect(retry.failures).toBe(10);
    expect(retry.ready(1_000 + 12_000)).toBe(false);
    expect(retry.ready(1_000 + 25_600)).toBe(true);
  });

  it('starts over after a success, and lets a waited-for flush go at once', () => {
    const retry = new FlushRetry();
    for (let i = 0; i < 5; i += 1) retry.failed(0);
    retry.succeeded();
    expect(retry.failures).toBe(0);
    expect(retry.failed(0)).toBeLessThanOrEqual(200);
    expect(retry.ready(0)).toBe(false);
    retry.now();
    expect(retry.ready(0)).toBe(true);
  });
});
