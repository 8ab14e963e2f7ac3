import { CampaignGate } from './campaign-gate';
import { controlled, tick } from './test/controlled';

describe('CampaignGate', () => {
  it('runs up to `width` shared tasks of one campaign at once, and queues the rest in order', async () => {
    const gate = new CampaignGate(2);
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => controlled(log, name));
    const results = [a, b, c].map((t) => gate.run('c1', 'shared', t!.task));
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    a!.finish();
    await tick();
    expect(log).toEqual(['start a', 'start b', 'end a', 'start c']);
    b!.finish();
    c!.finish();
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c']);
    expect(gate.size).toBe(0);
  });

  it('runs an exclusive task alone, after the shared ones before it and before the ones after it', async () => {
    const gate = new CampaignGate(4);
    const log: string[] = [];
    const [a, x, b] = ['a', 'x', 'b'].map((name) => controlled(log, name));
    const results = [
      gate.run('c1', 'shared', a!.task),
      gate.run('c1', 'exclusive', x!.task),
      gate.run('c1', 'shared', b!.task),
    ];
    await tick();
    expect(log).toEqual(['start a']);
    a!.finish();
    await tick();
    expect(log).toEqual(['start a', 'end a', 'start x']);
    x!.finish();
    await tick();
    expect(log).toEqual(['start a', 'end a', 'start x', 'end x', 'start b']);
    b!.finish();
    await Promise.all(results);
  });

  it('never makes one campaign wait for another', async () => {
    const gate = new CampaignGate(1);
    const log: string[] = [];
    const [a, b] = ['a', 'b'].map((name) => controlled(log, name));
    const results = [gate.run('c1', 'exclusive', a!.task), gate.run('c2', 'exclusive', b!.task)];
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    a!.finish();
    b!.finish();
    await Promise.all(results);
  });

  it('passes a failure to its caller and goes on with the next task', async () => {
    const gate = new CampaignGate(1);
    const failed = gate.run('c1', 'shared', () => Promise.reject(new Error('boom')));
    const next = gate.run('c1', 'shared', () => Promise.resolve('next'));
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
    expect(gate.size).toBe(0);
  });
});
