import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitUntil } from './processes';

/** Is a process with this pid still running? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('dieWithParent', () => {
  it('stops the children of a process that is sent SIGTERM alone, so none is left running orphaned', async () => {
    // A parent that starts a long sleeper through dieWithParent (the built lib), prints its pid and waits.
    const built = join(__dirname, '..', 'dist', 'processes.js');
    const script = `
      const { spawn } = require('node:child_process');
      const { dieWithParent } = require(${JSON.stringify(built)});
      const child = dieWithParent(spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']));
      console.log(child.pid);
      setTimeout(() => {}, 60000);`;
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    parent.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(async () => /\d+\n/.test(output), 10_000, 'the child pid');
    const childPid = Number(output.trim());
    expect(alive(childPid)).toBe(true);

    const exited = new Promise<number | null>((resolve) => parent.once('exit', (code) => resolve(code)));
    parent.kill('SIGTERM');

    expect(await exited).toBe(143);
    await waitUntil(async () => !alive(childPid), 5_000, 'the child to stop');
    expect(alive(childPid)).toBe(false);
  });
});
