import { readFileSync, readdirSync } from 'node:fs';
import type { ServiceProcess } from '@lorekeeper/testing';
import { createTestDatabase, spawnService, type TestDatabase } from '@lorekeeper/testing';

/** The niceness of every thread of a process (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNiceness(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces, start at field 3 (state).
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

const linux = process.platform === 'linux' ? describe : describe.skip;

linux('the worker process and WORKER_NICE', () => {
  let test: TestDatabase;
  const started: ServiceProcess[] = [];

  beforeAll(async () => {
    test = await createTestDatabase('nice');
  });
  afterAll(async () => {
    for (const worker of started) await worker.stop();
    await test.destroy();
  });

  async function worker(nice?: string): Promise<ServiceProcess> {
    const env: Record<string, string> = { DATABASE_URL: test.url };
    if (nice !== undefined) env['WORKER_NICE'] = nice;
    const spawned = await spawnService('persistence-worker', env);
    started.push(spawned);
    return spawned;
  }

  it('runs every thread at niceness 10 by default, and says so', async () => {
    const spawned = await worker();
    const niceness = threadNiceness(spawned.process.pid!);
    expect(niceness.length).toBeGreaterThan(4);
    expect(new Set(niceness)).toEqual(new Set([10]));
    expect(spawned.output()).toContain('running at a lower CPU priority (WORKER_NICE)');
  }, 30_000);

  it('takes another niceness, and with 0 leaves the priority it was started with', async () => {
    const seven = await worker('7');
    expect(new Set(threadNiceness(seven.process.pid!))).toEqual(new Set([7]));
    const zero = await worker('0');
    expect(threadNiceness(zero.process.pid!)[0]).toBe(threadNiceness(process.pid)[0]);
    expect(zero.output()).not.toContain('WORKER_NICE');
  }, 30_000);

  it('exits non-zero naming WORKER_NICE when it is out of range', async () => {
    await expect(worker('25')).rejects.toThrow(/WORKER_NICE="25"/);
  }, 30_000);
});
