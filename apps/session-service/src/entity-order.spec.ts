import { EntityOrder } from './entity-order';
import { controlled, tick } from './test/controlled';

describe('EntityOrder', () => {
  it('runs appends on one entity one after another, in the order they came', async () => {
    const order = new EntityOrder();
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => controlled(log, name));
    const results = [a, b, c].map((t) => order.run('c1', ['player:alice'], [], t!.task));
    await tick();
    expect(log).toEqual(['start a']);
    a!.finish();
    await tick();
    expect(log).toEqual(['start a', 'end a', 'start b']);
    b!.finish();
    c!.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(order.size).toBe(0);
  });

  it('starts the next append on an entity once the one before it has sent its commit', async () => {
    const order = new EntityOrder();
    const log: string[] = [];
    const [a, b] = ['a', 'b'].map((name) => controlled(log, name));
    const first = order.run('c1', ['player:alice'], [], async (sent) => {
      log.push('a sends');
      sent();
      return a!.task();
    });
    const second = order.run('c1', [], ['player:alice'], b!.task);
    await tick();
    // a has not ended, but its commit is on its way: b validates against its prediction.
    expect(log).toEqual(['a sends', 'start a', 'start b']);
    b!.finish();
    a!.finish();
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
    expect(order.size).toBe(0);
  });

  it('runs appends on different entities, or of different campaigns, side by side', async () => {
    const order = new EntityOrder();
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => controlled(log, name));
    const results = [
      order.run('c1', ['player:alice'], [], a!.task),
      order.run('c1', ['player:bob'], [], b!.task),
      order.run('c2', ['player:alice'], [], c!.task),
    ];
    await tick();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    [a, b, c].forEach((t) => t!.finish());
    await Promise.all(results);
  });

  it('makes a reader wait for the writer before it, but not readers for each other', async () => {
    const order = new EntityOrder();
    const log: string[] = [];
    const [write, read1, read2] = ['write', 'read1', 'read2'].map((name) => controlled(log, name));
    const results = [
      order.run('c1', ['npc:wolf'], [], write!.task),
      order.run('c1', ['combat:1'], ['npc:wolf'], read1!.task),
      order.run('c1', ['combat:2'], ['npc:wolf'], read2!.task),
    ];
    await tick();
    expect(log).toEqual(['start write']);
    write!.finish();
    await tick();
    expect(log).toEqual(['start write', 'end write', 'start read1', 'start read2']);
    read1!.finish();
    read2!.finish();
    await Promise.all(results);
  });

  it('waits on every entity of a batch, and lets the next go after a failure', async () => {
    const order = new EntityOrder();
    const log: string[] = [];
    const [a, b, both] = ['a', 'b', 'both'].map((name) => controlled(log, name));
    const first = order.run('c1', ['player:alice'], [], a!.task);
    const second = order.run('c1', ['player:bob'], [], b!.task);
    const third = order.run('c1', ['player:alice', 'player:bob'], [], both!.task);
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    a!.finish(new Error('refused'));
    await expect(first).rejects.toThrow('refused');
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    b!.finish();
    await tick();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start both']);
    both!.finish();
    await Promise.all([second, third]);
    expect(order.size).toBe(0);
  });
});
