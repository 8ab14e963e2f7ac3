import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('lowers the worker to niceness 10 unless told otherwise, and 0 leaves it as started', () => {
    expect(loadConfig({}).worker.nice).toBe(10);
    expect(loadConfig({ WORKER_NICE: '0' }).worker.nice).toBe(0);
    expect(loadConfig({ WORKER_NICE: '19' }).worker.nice).toBe(19);
  });

  it('refuses a niceness outside 0..19, naming the key and the value', () => {
    for (const value of ['20', '-5', '2.5', 'low']) {
      expect(() => loadConfig({ WORKER_NICE: value })).toThrow(ConfigError);
      expect(() => loadConfig({ WORKER_NICE: value })).toThrow(`WORKER_NICE=${JSON.stringify(value)}`);
    }
  });

  it('keeps a week of the sync log unless told otherwise; 0 keeps it all, a negative or non-number is refused', () => {
    expect(loadConfig({}).worker.syncLogKeepDays).toBe(7);
    expect(loadConfig({ SYNC_LOG_KEEP_DAYS: '0' }).worker.syncLogKeepDays).toBe(0);
    expect(loadConfig({ SYNC_LOG_KEEP_DAYS: '0.5' }).worker.syncLogKeepDays).toBe(0.5);
    for (const value of ['-1', 'week']) {
      expect(() => loadConfig({ SYNC_LOG_KEEP_DAYS: value })).toThrow(
        `SYNC_LOG_KEEP_DAYS=${JSON.stringify(value)}`,
      );
    }
  });

  it('accepts AUTOSAVE_INTERVAL_MS=0, continuous mode', () => {
    expect(loadConfig({ AUTOSAVE_INTERVAL_MS: '0' }).worker.autosaveIntervalMs).toBe(0);
    expect(loadConfig({}).worker.autosaveIntervalMs).toBe(300_000);
  });
});
