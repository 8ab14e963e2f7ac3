import { loadConfig } from '@lorekeeper/config';
import { retryCampaign } from '@lorekeeper/pg-store';
import type { Command } from 'commander';
import { campaignId } from '../../arguments';
import { CommandFailedError } from '../../errors';
import { createOutput } from '../../output';
import { withStores } from '../../stores';
import { letterJson } from './format';
import { operatorName } from './operator';

interface RetryOptions {
  readonly reason?: string;
  readonly json?: boolean;
}

export function registerRetryCommand(deadLetters: Command): void {
  deadLetters
    .command('retry')
    .description(
      "Mark the campaign's open dead letters retried and set it active again, so a worker folds the entry anew.",
    )
    .argument('<campaign>', 'the quarantined campaign', campaignId)
    .option('--reason <text>', 'why (recorded in the dead letters)')
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      `
Use it once the cause is fixed (a worker deployed with the missing event type, Postgres repaired). A
worker adopts the campaign again within a few seconds; if the entry still fails it is recorded as a
new dead letter and the campaign is quarantined again. Nothing is skipped.

Example:
  $ lorekeeper dead-letters retry c1 --reason "deployed worker 1.4.2 with world.event.ended"`,
    )
    .action(async (campaign: string, options: RetryOptions) => {
      const out = createOutput(options.json === true);
      const by = operatorName();
      const outcome = await withStores(loadConfig(), false, ({ db }) =>
        retryCampaign(db, campaign, by, options.reason ?? null),
      );
      switch (outcome.kind) {
        case 'campaign-not-found':
          throw new CommandFailedError(`campaign ${campaign} does not exist`);
        case 'nothing-to-retry':
          throw new CommandFailedError(
            `campaign ${campaign} is not quarantined and has no open dead letters`,
          );
        case 'retried':
          out.result(
            {
              ok: true,
              campaignId: campaign,
              status: 'active',
              wasQuarantined: outcome.wasQuarantined,
              retried: outcome.letters.map(letterJson),
            },
            () =>
              `campaign ${campaign} is active again; ${outcome.letters.length} dead letter(s) marked retried by ${by}. ` +
              'A worker will fold the entry again within seconds; if it still fails, the campaign is quarantined again.',
          );
      }
    });
}
