import { loadConfig } from '@lorekeeper/config';
import { listDeadLetters } from '@lorekeeper/pg-store';
import type { Command } from 'commander';
import { campaignId } from '../../arguments';
import { createOutput } from '../../output';
import { withStores } from '../../stores';
import { describeLetters, letterJson } from './format';

interface ListOptions {
  readonly campaign?: string;
  readonly all?: boolean;
  readonly json?: boolean;
}

export function registerListCommand(deadLetters: Command): void {
  deadLetters
    .command('list')
    .description('List open dead letters (entries that quarantined their campaign), oldest first.')
    .option('--campaign <id>', "only this campaign's", campaignId)
    .option('--all', 'also the retried and skipped ones, with who resolved them and why')
    .option('--json', 'print one JSON document instead of a table')
    .addHelpText(
      'after',
      `
Examples:
  $ lorekeeper dead-letters list
  $ lorekeeper dead-letters list --campaign c1 --all --json`,
    )
    .action(async (options: ListOptions) => {
      const out = createOutput(options.json === true);
      const letters = await withStores(loadConfig(), false, ({ db }) =>
        listDeadLetters(db, {
          ...(options.campaign === undefined ? {} : { campaignId: options.campaign }),
          ...(options.all ? {} : { status: 'open' as const }),
        }),
      );
      out.result({ ok: true, deadLetters: letters.map(letterJson) }, () =>
        describeLetters(letters, options.all === true),
      );
    });
}
