import { Command } from 'commander';
import { registerMigrateCommand } from './commands/migrate';
import { registerWorldCommand } from './commands/world';
import { registerEventsCommand } from './commands/events';
import { registerStreamsCommand } from './commands/streams';
import { registerDeadLettersCommand } from './commands/dead-letters';
import { registerStateCommand } from './commands/state';
import { registerDiffCommand } from './commands/diff';
import { registerVerifyCommand } from './commands/verify';
import { registerSnapshotsCommand } from './commands/snapshots';

/**
 * The `lorekeeper` command tree. Each command lives in its own file under commands/ and registers itself
 * with `program.command(...)`, which makes it inherit the settings below (exit override, output).
 */
export function buildProgram(): Command {
  const program = new Command('lorekeeper')
    .description(
      'Operate and debug Lorekeeper: migrations, the event log, any past state, verification of the ' +
        'stores against the log, live streams, dead letters, snapshots, and world export and import.',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Throw instead of exiting, so main.ts maps every usage error to exit code 2.
    .exitOverride();
  program.addHelpText(
    'after',
    `
Configuration comes from the environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/lorekeeper),
REDIS_URL (redis://127.0.0.1:6379) and NATS_URL (nats://127.0.0.1:4222).
Exit codes: 0 ok, 1 a mismatch, refused or failed, 2 usage or configuration error, 3 a service unreachable.
Every command has --help with examples.

Examples:
  $ npx lorekeeper migrate
  $ npx lorekeeper state c1 --at 1200 --entity player:alice
  $ npx lorekeeper verify c1`,
  );

  registerMigrateCommand(program);
  registerWorldCommand(program);
  registerEventsCommand(program);
  registerStreamsCommand(program);
  registerDeadLettersCommand(program);
  registerStateCommand(program);
  registerDiffCommand(program);
  registerVerifyCommand(program);
  registerSnapshotsCommand(program);
  return program;
}
