import { loadConfig } from '@lorekeeper/config';
import type { StateDiff } from '@lorekeeper/replay';
import { diffStates } from '@lorekeeper/replay';
import type { Command } from 'commander';
import { campaignId } from '../arguments';
import { CommandFailedError } from '../errors';
import type { Format } from '../formats';
import { chooseFormat, format, writeJsonLines, writeJsonWithList, writeLine } from '../formats';
import { startReplayProgress } from '../progress';
import { withStores } from '../stores';
import { pointOrFail } from './state';

interface DiffOptions {
  readonly from: string;
  readonly to?: string;
  readonly entity?: string;
  readonly format?: Format;
  readonly json?: boolean;
  readonly redis: boolean;
}

export function registerDiffCommand(program: Command): void {
  program
    .command('diff')
    .description(
      'Show which entities changed between two points of the log, field by field, and which events did it.',
    )
    .argument('<campaign>', 'campaign id', campaignId)
    .requiredOption('--from <point>', 'the earlier point: a seq, a stream id or an ISO time')
    .option('--to <point>', 'the later point (default: latest)')
    .option('--entity <id>', 'only this entity')
    .option('--format <format>', 'table, json or jsonl (default: table on a terminal, else json)', format)
    .option('--json', 'same as --format json')
    .option('--no-redis', 'durable history only: ignore the live stream and transient events')
    .addHelpText(
      'after',
      `
Both states are folded as \`lorekeeper state\` folds them; "before" is the state right after --from,
"after" right after --to.

Examples:
  $ lorekeeper diff c1 --from 100 --to 250
  $ lorekeeper diff c1 --from 2026-11-25T12:00:00Z --entity player:alice --json`,
    )
    .action(async (id: string, options: DiffOptions) => {
      const out = chooseFormat(options);
      await withStores(loadConfig(), options.redis, async ({ db, redis }) => {
        const from = await pointOrFail(db, redis, id, options.from, '--from');
        const to = await pointOrFail(db, redis, id, options.to ?? 'latest', '--to');
        if (to < from) throw new CommandFailedError(`--to (${to}) is before --from (${from})`);
        const progress = startReplayProgress();
        const diff = await diffStates(db, id, from, to, {
          ...(redis && { redis }),
          ...(options.entity !== undefined && { entityId: options.entity }),
          onSnapshotRows: progress.onSnapshotRows,
          onProgress: progress.onProgress,
        }).finally(() => progress.stop());
        printDiff(diff, out);
      });
    });
}

function printDiff(diff: StateDiff, out: Format): void {
  if (out === 'jsonl') {
    writeJsonLines(diff.changes);
    return;
  }
  if (out === 'json') {
    const head = { campaignId: diff.campaignId, from: diff.from.seq, to: diff.to.seq };
    writeJsonWithList(head, 'changes', diff.changes);
    return;
  }
  const lines: string[] = [];
  for (const change of diff.changes) {
    lines.push(
      `${change.entityId} (${change.kind}${change.transient ? ', transient' : ''}) ${change.change}`,
    );
    for (const field of change.fields)
      lines.push(
        `    ${field.field}: ${JSON.stringify(field.before) ?? '-'} -> ${JSON.stringify(field.after) ?? '-'}`,
      );
    if (change.events.length > 0)
      lines.push(`    by ${change.events.map((e) => `#${e.seq} ${e.type}`).join(', ')}`);
  }
  lines.push(`${diff.changes.length} entities changed between seq ${diff.from.seq} and seq ${diff.to.seq}`);
  writeLine(lines.join('\n'));
}
