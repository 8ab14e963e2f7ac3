import { CommanderError } from 'commander';
import { CommandFailedError, describeError, exitCodeFor } from './errors';
import { buildProgram } from './program';

/** Entry of the `lorekeeper` CLI (bin/lorekeeper.js requires the compiled file). */
async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
    // Commander has already printed its own usage messages and help.
    if (error instanceof CommanderError) return;
    const { code, message } = describeError(error);
    const printed = error instanceof CommandFailedError && error.resultPrinted;
    if (wantsJson(argv) && !printed)
      process.stdout.write(`${JSON.stringify({ ok: false, error: { code, message } }, null, 2)}\n`);
    process.stderr.write(`lorekeeper: ${message}\n`);
  }
}

function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

// `lorekeeper events c1 | head` closes the pipe early: that is the reader being done, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

void main(process.argv);
