import { loadConfig } from '@lorekeeper/config';
import { referenceRegistry } from '@lorekeeper/domain';
import type { Redis } from '@lorekeeper/redis-store';
import type { StateAt, StateEntity } from '@lorekeeper/replay';
import { resolvePoint, stateAt } from '@lorekeeper/replay';
import type { Database } from '@lorekeeper/pg-store';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { campaignId } from '../arguments';
import { UsageError } from '../errors';
import type { Format } from '../formats';
import { chooseFormat, format, table, writeJsonLines, writeJsonWithList, writeLine } from '../formats';
import { startReplayProgress } from '../progress';
import { withStores } from '../stores';

interface StateOptions {
  readonly at?: string;
  readonly entity?: string;
  readonly kind?: string;
  readonly region?: string;
  readonly format?: Format;
  readonly json?: boolean;
  readonly redis: boolean;
}

export function registerStateCommand(program: Command): void {
  program
    .command('state')
    .description(
      'Show a campaign as it was right after one event (or now), folded from snapshots and the log.',
    )
    .argument('<campaign>', 'campaign id', campaignId)
    .option('--at <point>', 'a seq (120), a stream id (120-0), an ISO time, or "latest" (default)')
    .option('--entity <id>', 'only this entity (fast: reads only its own events)')
    .option('--kind <kind>', 'only entities of this kind (player, item, ...)')
    .option('--region <id>', 'only entities standing in this region')
    .option('--format <format>', 'table, json or jsonl (default: table on a terminal, else json)', format)
    .option('--json', 'same as --format json')
    .option('--no-redis', 'durable history only: ignore the live stream and transient events')
    .addHelpText(
      'after',
      `
The state is folded with the services' own domain code from the latest snapshot at or before the point
(the created world is the first; the worker takes one every SNAPSHOT_EVERY_EVENTS events), plus the
archived events after it. Past the durable checkpoint it carries on through the live Redis stream.
Transient entities (combat, dialogue) are never archived: they are rebuilt only from the events still in
the stream's window and are marked "transient"; one that began before the window is listed as incomplete.

Examples:
  $ lorekeeper state c1 --at 1200 --entity player:alice
  $ lorekeeper state c1 --at 2026-11-25T12:00:00Z --kind item --format jsonl | jq .state.ownerId
  $ lorekeeper state c1 --region region:vale`,
    )
    .action(async (id: string, options: StateOptions) => {
      const config = loadConfig();
      const out = chooseFormat(options);
      await withStores(config, options.redis, async ({ db, redis }) => {
        const seq = await pointOrFail(db, redis, id, options.at ?? 'latest', '--at');
        const progress = startReplayProgress();
        const result = await stateAt(db, id, seq, {
          ...(redis && { redis }),
          ...(options.entity !== undefined && { entityId: options.entity }),
          onSnapshotRows: progress.onSnapshotRows,
          onProgress: progress.onProgress,
        }).finally(() => progress.stop());
        printState(result, result.entities.filter(matches(options)), out);
      });
    });
}

/** Resolve a point option or fail with a usage message naming it. */
export async function pointOrFail(
  db: Kysely<Database>,
  redis: Redis | undefined,
  id: string,
  text: string,
  option: string,
): Promise<number> {
  const seq = await resolvePoint(db, redis, id, text);
  if (seq === undefined) {
    throw new UsageError(
      `${option} ${text}: expected a seq (120), a stream id (120-0), an ISO time (2026-11-25T12:00:00Z) or "latest"`,
    );
  }
  return seq;
}

function matches(options: StateOptions): (e: StateEntity) => boolean {
  return ({ entity }) => {
    if (options.entity !== undefined && entity.id !== options.entity) return false;
    if (options.kind !== undefined && entity.kind !== options.kind) return false;
    if (options.region !== undefined) {
      const kind = referenceRegistry.kind(entity.kind);
      if (!kind || kind.regionOf(entity.state) !== options.region) return false;
    }
    return true;
  };
}

function printState(result: StateAt, entities: readonly StateEntity[], out: Format): void {
  const rows = entities.map(({ entity, transient }) => ({ ...entity, ...(transient && { transient }) }));
  if (out === 'jsonl') {
    writeJsonLines(rows);
    return;
  }
  const { entities: _all, ...header } = result;
  if (out === 'json') {
    writeJsonWithList(header, 'entities', rows);
    return;
  }
  if (rows.length > 0)
    writeLine(
      table(
        ['ID', 'KIND', 'VERSION', 'STATE'],
        rows.map((e) => [
          e.id,
          'transient' in e ? `${e.kind} (transient)` : e.kind,
          String(e.version),
          JSON.stringify(e.state),
        ]),
      ),
    );
  const notes = [
    `${rows.length} entities after seq ${result.seq}` +
      (result.seq < result.requestedSeq ? ` (the log ends there; ${result.requestedSeq} was asked for)` : ''),
    `folded from snapshot "${result.base.name}" (seq ${result.base.seq}) + ${result.archivedFolded} archived` +
      ` + ${result.streamFolded} live stream events; durable checkpoint at ${result.checkpointSeq}`,
  ];
  if (result.transientIncomplete.length > 0)
    notes.push(`transient, begun before the stream window: ${result.transientIncomplete.join(', ')}`);
  process.stderr.write(`${notes.join('\n')}\n`);
}
