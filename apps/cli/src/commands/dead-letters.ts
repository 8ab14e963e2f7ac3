import type { Command } from 'commander';
import { registerListCommand } from './dead-letters/list';
import { registerRetryCommand } from './dead-letters/retry';
import { registerSkipCommand } from './dead-letters/skip';

export function registerDeadLettersCommand(program: Command): void {
  const deadLetters = program
    .command('dead-letters')
    .description('Stream entries that quarantined their campaign: list them, retry them, or skip one.')
    .addHelpText(
      'after',
      `
A poison entry (one that cannot be decoded or applied after POISON_RETRIES attempts) is recorded as a
dead letter and its campaign is quarantined: no worker checkpoints it until an operator retries or
skips the entry. Nothing is ever skipped silently: a skip records who, when and why.

Examples:
  $ lorekeeper dead-letters list
  $ lorekeeper dead-letters retry c1
  $ lorekeeper dead-letters skip c1 --seq 1842 --reason "corrupt entry, see INC-231"`,
    );
  registerListCommand(deadLetters);
  registerRetryCommand(deadLetters);
  registerSkipCommand(deadLetters);
}
