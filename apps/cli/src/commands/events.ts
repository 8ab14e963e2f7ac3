import type { Config } from '@lorekeeper/config';
import { loadConfig, ServiceUnreachableError } from '@lorekeeper/config';
import { referenceRegistry } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import { countEvents, findCampaign } from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import { connectRedis, readHeadSeq } from '@lorekeeper/redis-store';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Kysely } from 'kysely';
import { campaignId, positiveInteger } from '../arguments';
import { CommandFailedError } from '../errors';
import { startProgress } from '../progress';
import { withStores } from '../stores';
import type { Bound, EventFilter } from './events/event-filter';
import { collectTypes, filterOf, parseBound } from './events/event-filter';
import { followStream } from './events/follow';
import type { HistoryRequest } from './events/history';
import { readHistory } from './events/history';
import type { ListedEvent } from './events/listed-event';
import type { EventFormat, EventPrinter } from './events/printer';
import { createPrinter } from './events/printer';

interface EventsOptions {
  readonly from?: Bound;
  readonly to?: Bound;
  readonly type?: string[];
  readonly entity?: string;
  readonly limit?: number;
  readonly format?: EventFormat;
  readonly json?: boolean;
  readonly follow?: boolean;
}

/** Tables are for reading: without --limit they stop here. JSON output has no default limit. */
const TABLE_LIMIT = 1_000;

export function registerEventsCommand(program: Command): void {
  program
    .command('events')
    .description("List a campaign's events: the Postgres archive, then the live Redis stream after it.")
    .argument('<campaign>', 'the campaign id', campaignId)
    .option(
      '--from <seq|stream-id|time>',
      'first event: a seq (120), a stream id (120-0) or an ISO time',
      parseBound,
    )
    .option('--to <seq|stream-id|time>', 'last event, as --from', parseBound)
    .option('--type <type>', 'only these event types (repeat it, or separate with commas)', collectTypes)
    .option('--entity <id>', "only this entity's events (player:alice)")
    .option(
      '--limit <n>',
      `at most <n> events (default ${TABLE_LIMIT} for a table, all for JSON)`,
      positiveInteger,
    )
    .addOption(
      new Option('--format <format>', 'table, json (one array) or jsonl (one event a line)').choices([
        'table',
        'json',
        'jsonl',
      ]),
    )
    .option('--json', 'the same as --format json')
    .option('--follow', 'after the history, print new events as they are appended, until Ctrl-C')
    .addHelpText(
      'after',
      `
The format defaults to a table on a terminal and to JSON lines otherwise; logs go to stderr. Each event
says where it was read ("source": "archive" or "stream"); transient events (combat, dialogue) are never
archived, carry "transient": true and show with a ~ in the table. Without Redis the archive is still
listed (with a warning); --follow needs Redis.

Examples:
  $ lorekeeper events c1 --from 120 --to 180
  $ lorekeeper events c1 --from 2026-11-25T12:00:00Z --type player.moved,player.gold.changed
  $ lorekeeper events c1 --entity player:alice --format jsonl | jq .data
  $ lorekeeper events c1 --follow`,
    )
    .action(async (campaign: string, options: EventsOptions, command: Command) => {
      checkCombination(options, command);
      const format: EventFormat =
        options.json === true ? 'json' : (options.format ?? (process.stdout.isTTY ? 'table' : 'jsonl'));
      const limit = options.limit ?? (format === 'table' ? TABLE_LIMIT : undefined);
      ignoreClosedPipe();
      const config = loadConfig();
      await withStores(config, false, async ({ db }) => {
        const found = await findCampaign(db, campaign);
        if (!found) throw new CommandFailedError(`campaign ${campaign} does not exist`);
        const redis = await optionalRedis(config, options.follow === true);
        try {
          const filter = filterOf(options);
          const printer = createPrinter(format, process.stdout);
          const headSeq = redis ? await readHeadSeq(redis, campaign) : 0;
          const stream = redis ? { redis, headSeq } : undefined;
          const request = {
            campaignId: campaign,
            filter,
            limit,
            registry: referenceRegistry,
            ...(stream && { stream }),
          };
          const printed = await printHistory(db, request, printer);
          if (limit !== undefined && printed >= limit)
            process.stderr.write(
              `lorekeeper: stopped at --limit ${limit}; ask for more with --limit or --from.\n`,
            );
          if (options.follow && redis) {
            await follow(db, redis, campaign, Math.max(headSeq, found.checkpoint.seq), filter, printer);
          }
          await printer.end();
        } finally {
          redis?.disconnect();
        }
      });
    });
}

function checkCombination(options: EventsOptions, command: Command): void {
  const usage = (message: string): never =>
    command.error(`error: ${message}`, { exitCode: 2, code: 'lorekeeper.usage' });
  if (options.json && options.format !== undefined && options.format !== 'json')
    usage('--json and --format cannot disagree');
  if (!options.follow) return;
  if (options.to !== undefined) usage('--follow cannot be combined with --to');
  if (options.json || options.format === 'json')
    usage('--follow never ends, so it cannot print one JSON document: use --format jsonl');
}

/** Redis for the live part. Unreachable: a warning when only listing, exit 3 when following. */
async function optionalRedis(config: Config, required: boolean): Promise<Redis | undefined> {
  try {
    return await connectRedis(config.redisUrl);
  } catch (error) {
    if (required || !(error instanceof ServiceUnreachableError)) throw error;
    process.stderr.write(
      `lorekeeper: warning: ${error.message}\nlorekeeper: listing the Postgres archive only; events not flushed yet and transient ones are missing.\n`,
    );
    return undefined;
  }
}

/**
 * On a terminal, gather the pages behind a progress bar and print them after (a bar and a table on one
 * screen garble each other); into a pipe, stream them page by page. Returns how many were printed.
 */
async function printHistory(
  db: Kysely<Database>,
  request: HistoryRequest,
  printer: EventPrinter,
): Promise<number> {
  const interactive = process.stdout.isTTY === true;
  const total = interactive ? await expectedCount(db, request) : 0;
  const progress = startProgress('reading events', total, { enabled: interactive });
  const gathered: ListedEvent[] = [];
  let printed = 0;
  try {
    for await (const page of readHistory(db, request)) {
      printed += page.length;
      if (interactive) {
        gathered.push(...page);
        progress.update(printed, Math.max(total, printed));
      } else await printer.print(page);
    }
  } finally {
    progress.stop();
  }
  if (interactive) await printer.print(gathered);
  return printed;
}

async function expectedCount(db: Kysely<Database>, request: HistoryRequest): Promise<number> {
  const archived = await countEvents(db, request.campaignId, request.filter);
  return Math.min(archived, request.limit ?? archived);
}

async function follow(
  db: Kysely<Database>,
  redis: Redis,
  campaign: string,
  afterSeq: number,
  filter: EventFilter,
  printer: EventPrinter,
): Promise<void> {
  const stop = { stopped: false };
  const onSignal = () => {
    stop.stopped = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stderr.write(`lorekeeper: following ${campaign} after seq ${afterSeq}; Ctrl-C to stop.\n`);
  try {
    await followStream(
      db,
      redis,
      {
        campaignId: campaign,
        afterSeq,
        filter,
        registry: referenceRegistry,
        stop,
        warn: (m) => process.stderr.write(`${m}\n`),
      },
      (events) => printer.print(events),
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `lorekeeper events c1 | head` closes our stdout early: that is the reader's choice, not a failure. */
function ignoreClosedPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
