import { loadConfig } from '@lorekeeper/config';
import type { Snapshot } from '@lorekeeper/pg-store';
import { createSnapshot, listSnapshots, readCheckpoint } from '@lorekeeper/pg-store';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { campaignId } from '../arguments';
import { table } from '../formats';
import { createOutput } from '../output';
import { withStores } from '../stores';

/** `lorekeeper snapshots list|create`: a campaign's replay snapshots, and named save slots. */
export function registerSnapshotsCommand(program: Command): void {
  const snapshots = program
    .command('snapshots')
    .description("List a campaign's snapshots, or save its durable state under a name.")
    .addHelpText(
      'after',
      `
A snapshot is the campaign's durable state at one seq. Every campaign has "created" (seq 0, the world it
was created with); the persistence worker takes "auto-<seq>" ones every SNAPSHOT_EVERY_EVENTS events,
most of them holding only what changed since the snapshot before; "create" saves one of your own.
\`lorekeeper state --at\` folds from the nearest one, so a replay never folds the whole history.

Examples:
  $ lorekeeper snapshots list c1
  $ lorekeeper snapshots create c1 before-the-dragon`,
    );
  registerListCommand(snapshots);
  registerCreateCommand(snapshots);
}

function registerListCommand(snapshots: Command): void {
  snapshots
    .command('list')
    .description("List a campaign's snapshots, oldest first: seq, rows, and what each holds.")
    .argument('<campaign>', 'campaign id', campaignId)
    .option('--json', 'print one JSON document instead of a table')
    .addHelpText(
      'after',
      `
HOLDS says "every entity", or "changes since <name>": such a snapshot holds only the entities changed
since that one, and is read laid over it (docs/replay.md).

Examples:
  $ lorekeeper snapshots list c1
  $ lorekeeper snapshots list c1 --json | jq '.snapshots[] | select(.base == null) | .seq'`,
    )
    .action(async (id: string, options: { readonly json?: boolean }) => {
      const out = createOutput(options.json === true);
      const found = await withStores(loadConfig(), false, async ({ db }) => {
        await readCheckpoint(db, id); // throws CAMPAIGN_NOT_FOUND
        return listSnapshots(db, id);
      });
      const names = new Map(found.map((snapshot) => [snapshot.id, snapshot.name]));
      const rows = found.map((snapshot) => snapshotJson(snapshot, names));
      out.result({ ok: true, campaignId: id, snapshots: rows }, () =>
        table(
          ['NAME', 'SEQ', 'ROWS', 'HOLDS', 'TAKEN'],
          rows.map((row) => [
            row.name,
            String(row.seq),
            String(row.rows),
            row.base === null ? 'every entity' : `changes since ${row.base}`,
            row.createdAt,
          ]),
        ),
      );
    });
}

function registerCreateCommand(snapshots: Command): void {
  snapshots
    .command('create')
    .description("Save the campaign's durable state (at its checkpoint) as a snapshot named <name>.")
    .argument('<campaign>', 'campaign id', campaignId)
    .argument('<name>', 'a name of your own, unique in the campaign', snapshotName)
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      `
The snapshot holds every entity as of the campaign's durable checkpoint (what the persistence worker has
written; events still only in Redis are not in it), copied inside Postgres in one transaction. On a
large world that transaction is long, and while it lasts Postgres keeps every older version of the rows
the worker updates, so its flushes slow down: save when the campaign is quiet. Names starting "auto-" or
"copying-" are the worker's, and "created" is every campaign's first.

Examples:
  $ lorekeeper snapshots create c1 before-the-dragon
  $ lorekeeper snapshots create c1 "release 1.4" --json`,
    )
    .action(async (id: string, name: string, options: { readonly json?: boolean }) => {
      const out = createOutput(options.json === true);
      const snapshot = await withStores(loadConfig(), false, async ({ db }) => createSnapshot(db, id, name));
      const row = snapshotJson(snapshot, new Map());
      out.result(
        { ok: true, campaignId: id, snapshot: row },
        () => `Saved snapshot "${row.name}" of ${id} at seq ${row.seq}: ${row.rows} entities.`,
      );
    });
}

/** A snapshot name of the user's own: not one of the names Lorekeeper gives (a usage error, exit 2). */
function snapshotName(value: string): string {
  if (value.trim() === '' || value.length > 200)
    throw new InvalidArgumentError('expected 1 to 200 characters.');
  if (value === 'created' || value.startsWith('auto-') || value.startsWith('copying-'))
    throw new InvalidArgumentError(
      `"${value}" is a name Lorekeeper gives its own snapshots ("created", "auto-…", "copying-…"); choose another.`,
    );
  return value;
}

function snapshotJson(snapshot: Snapshot, names: ReadonlyMap<number, string>) {
  return {
    name: snapshot.name,
    seq: snapshot.seq,
    rows: snapshot.entityCount,
    /** The snapshot it holds the changes since, or null when it holds every entity. */
    base: snapshot.baseId === null ? null : (names.get(snapshot.baseId) ?? `#${snapshot.baseId}`),
    createdAt: snapshot.createdAt.toISOString(),
  };
}
