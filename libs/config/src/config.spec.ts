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
});
