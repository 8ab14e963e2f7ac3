import type { Config } from '@lorekeeper/config';
import { loadConfig } from '@lorekeeper/config';
import type { DeadLetter, SkipOutcome } from '@lorekeeper/pg-store';
import { listDeadLetters, skipDeadLetter } from '@lorekeeper/pg-store';
import { acknowledge, connectRedis } from '@lorekeeper/redis-store';
import type { Command } from 'commander';
import { campaignId, positiveInteger } from '../../arguments';
import { CommandFailedError } from '../../errors';
import type { Output } from '../../output';
import { createOutput } from '../../output';
import { withStores } from '../../stores';
import { describeLetter, letterJson } from './format';
import { confirmByTyping, operatorName } from './operator';

interface SkipOptions {
  readonly seq: number;
  readonly reason: string;
  readonly yes?: boolean;
  readonly json?: boolean;
}

export function registerSkipCommand(deadLetters: Command): void {
  deadLetters
    .command('skip')
    .description('Move a quarantined campaign past one entry that will never apply, and set it active again.')
    .argument('<campaign>', 'the quarantined campaign', campaignId)
    .requiredOption('--seq <n>', 'the seq of the open dead letter to skip', positiveInteger)
    .requiredOption('--reason <text>', 'why it is safe to skip (recorded in the dead letter)')
    .option('--yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      `
The entry's effect never reaches Postgres. In one transaction the checkpoint moves from seq-1 to seq
(compare-and-set, the fence the workers use), the dead letter is marked skipped with your OS user, the
time and the reason, and the campaign becomes active; then the entry is acknowledged in Redis. Only the
entry right after the checkpoint can be skipped. A later event that builds on the skipped one (the same
entity's next version) will not apply either and quarantines the campaign again, as a new dead letter.

Example:
  $ lorekeeper dead-letters skip c1 --seq 1842 --reason "corrupt entry written by hand, see INC-231"`,
    )
    .action(async (campaign: string, options: SkipOptions, command: Command) => {
      const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
      if (!options.yes && !interactive) {
        command.error('error: skipping changes the durable log: pass --yes when stdin is not a terminal', {
          exitCode: 2,
          code: 'lorekeeper.usage',
        });
      }
      const config = loadConfig();
      const out = createOutput(options.json === true);
      const by = operatorName();
      const outcome = await withStores(config, false, async ({ db }) => {
        const letter = await openLetter(db, campaign, options.seq);
        if (!options.yes) await confirm(letter);
        return skipDeadLetter(db, {
          campaignId: campaign,
          seq: options.seq,
          resolvedBy: by,
          reason: options.reason,
        });
      });
      const skipped = expectSkipped(outcome, campaign, options.seq);
      await acknowledgeSkipped(config, skipped.letter, out);
      out.result(
        {
          ok: true,
          campaignId: campaign,
          status: 'active',
          checkpoint: skipped.checkpoint,
          skipped: letterJson(skipped.letter),
        },
        () =>
          `skipped seq ${options.seq} of campaign ${campaign} (recorded by ${by}: ${options.reason}); ` +
          `the checkpoint is at ${skipped.checkpoint.seq} and the campaign is active again.`,
      );
    });
}

async function openLetter(
  db: Parameters<typeof listDeadLetters>[0],
  campaign: string,
  seq: number,
): Promise<DeadLetter> {
  const open = await listDeadLetters(db, { campaignId: campaign, status: 'open' });
  const letter = open.find((l) => l.seq === seq || l.streamId === `${seq}-0`);
  if (letter) return letter;
  const seqs = open.map((l) => l.seq ?? l.streamId);
  throw new CommandFailedError(
    `campaign ${campaign} has no open dead letter at seq ${seq}` +
      (seqs.length > 0 ? ` (open: ${seqs.join(', ')})` : ' (it has none open)'),
  );
}

async function confirm(letter: DeadLetter): Promise<void> {
  process.stderr.write(`${describeLetter(letter)}\nSkipping it means its effect never reaches Postgres.\n`);
  const confirmed = await confirmByTyping('Type the campaign id to confirm: ', letter.campaignId);
  if (!confirmed) throw new CommandFailedError('not confirmed; nothing changed');
}

function expectSkipped(outcome: SkipOutcome, campaign: string, seq: number) {
  switch (outcome.kind) {
    case 'skipped':
      return outcome;
    case 'campaign-not-found':
      throw new CommandFailedError(`campaign ${campaign} does not exist`);
    case 'not-quarantined':
      throw new CommandFailedError(`campaign ${campaign} is not quarantined; a worker may be folding it`);
    case 'no-open-letter':
      throw new CommandFailedError(`campaign ${campaign} has no open dead letter at seq ${seq}`);
    case 'not-next':
      throw new CommandFailedError(
        `seq ${seq} is not the entry right after the checkpoint (${outcome.checkpointSeq}): skipping it would ` +
          'skip the entries in between too. Run `lorekeeper dead-letters retry` so a worker makes them durable first.',
      );
  }
}

/**
 * The checkpoint already covers the entry. Only a worker of an earlier version, which read with
 * acknowledgement, leaves it pending, and a worker that adopts the campaign clears what is pending
 * anyway; doing it here clears it at once. Redis being away is therefore only a warning.
 */
async function acknowledgeSkipped(config: Config, letter: DeadLetter, out: Output): Promise<void> {
  try {
    const redis = await connectRedis(config.redisUrl);
    try {
      await acknowledge(redis, letter.campaignId, [letter.streamId]);
    } finally {
      redis.disconnect();
    }
  } catch (error) {
    out.warn(
      `lorekeeper: warning: could not acknowledge ${letter.streamId} in Redis (${error instanceof Error ? error.message : String(error)}); ` +
        'the worker will acknowledge it when it adopts the campaign.',
    );
  }
}
