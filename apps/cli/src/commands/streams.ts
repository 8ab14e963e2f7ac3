import { loadConfig } from '@lorekeeper/config';
import { activeCampaigns } from '@lorekeeper/redis-store';
import type { Command } from 'commander';
import { createOutput } from '../output';
import { startProgress } from '../progress';
import { withStores } from '../stores';
import { describeStreams } from './streams/format';
import type { StreamStatus } from './streams/stream-status';
import { readStreamStatus } from './streams/stream-status';

export function registerStreamsCommand(program: Command): void {
  program
    .command('streams')
    .description(
      'Show every live campaign: stream length, consumer-group lag and pending entries, head and ' +
        'checkpoint, last flush, lease holder and quarantine.',
    )
    .option('--json', 'print one JSON document instead of a table')
    .addHelpText(
      'after',
      `
HEAD is the last seq appended (Redis), CHECKPOINT the seq the entities in Postgres are at, ARCHIVED
the last seq durable in Postgres (past CHECKPOINT after a major event, whose flush only archives),
BEHIND the events not durable yet (HEAD - ARCHIVED). LAG counts entries not yet delivered to a worker, PENDING those delivered and not yet
acknowledged. LEASE is the id of the worker consuming the campaign; (none) with status quarantined
means no worker will touch it until \`lorekeeper dead-letters retry\` or \`skip\`.

Examples:
  $ lorekeeper streams
  $ lorekeeper streams --json | jq '.campaigns[] | select(.behind > 1000)'`,
    )
    .action(async (options: { readonly json?: boolean }) => {
      const out = createOutput(options.json === true);
      const rows = await withStores(loadConfig(), true, async ({ db, redis }) => {
        if (!redis) throw new Error('withStores did not connect Redis');
        const ids = (await activeCampaigns(redis)).sort();
        const progress = startProgress('reading streams', ids.length);
        const statuses: StreamStatus[] = [];
        const now = new Date();
        try {
          for (const id of ids) {
            statuses.push(await readStreamStatus(db, redis, id, now));
            progress.update(statuses.length);
          }
        } finally {
          progress.stop();
        }
        return statuses;
      });
      out.result({ ok: true, campaigns: rows }, () => describeStreams(rows));
    });
}
