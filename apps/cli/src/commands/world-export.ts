import { resolve } from 'node:path';
import { loadConfig } from '@lorekeeper/config';
import { LorekeeperError } from '@lorekeeper/domain';
import type { ArchivedEvent, Campaign, Database, Snapshot } from '@lorekeeper/pg-store';
import {
  CREATED_SNAPSHOT,
  countEntities,
  countEvents,
  findCampaign,
  inReadSnapshot,
  listSnapshots,
  readEvents,
  streamEntities,
  streamSnapshotEntities,
} from '@lorekeeper/pg-store';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Kysely } from 'kysely';
import { campaignId } from '../arguments';
import { CommandFailedError } from '../errors';
import { createOutput } from '../output';
import { startProgress } from '../progress';
import { withStores } from '../stores';
import type { Manifest } from './world-file';
import {
  CREATED_FILE,
  EVENTS_FILE,
  EXPORT_FORMAT,
  MANIFEST_FILE,
  WORLD_FILE,
  eventLine,
  worldDocumentText,
} from './world-file';
import type { ZipWriter } from './zip-writer';
import { createZipWriter } from './zip-writer';

/** Rows read per query: one page of entities or events in memory at a time. */
const PAGE_SIZE = 5_000;

interface ExportOptions {
  readonly output: string;
  readonly json?: boolean;
}

export function registerWorldExportCommand(world: Command): void {
  world
    .command('export')
    .description(
      'Write a campaign at its durable checkpoint, with the world it began as and its events, to a zip.',
    )
    .argument('<campaign>', 'the campaign to export', campaignId)
    .requiredOption('-o, --output <file.zip>', 'where to write the zip (replaced if it exists)', zipPath)
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      `
The zip holds world.json (the world at the checkpoint), created.json (the world the campaign was created
with), events.jsonl (the archived events between them) and manifest.json (counts and sha256 checksums).
Everything is read in one snapshot, so the parts agree even while a worker keeps saving.

Examples:
  $ lorekeeper world export sunken-vale -o sunken-vale.zip
  $ lorekeeper world export sunken-vale -o backups/vale.zip --json`,
    )
    .action(async (campaign: string, options: ExportOptions) => {
      const out = createOutput(options.json === true);
      const manifest = await withStores(loadConfig(), false, ({ db }) =>
        exportWorld(db, campaign, options.output),
      );
      const file = resolve(options.output);
      out.result({ ok: true, file, ...manifest }, () => describeExport(manifest, file));
    });
}

/**
 * Export `campaignId` to `file` from one REPEATABLE READ snapshot, streaming entities and events a page at
 * a time. Returns the manifest written. Throws CAMPAIGN_NOT_FOUND, or refuses a campaign without its
 * 'created' snapshot (nothing to fold its history from).
 */
export async function exportWorld(db: Kysely<Database>, campaignId: string, file: string): Promise<Manifest> {
  return inReadSnapshot(db, async (reader) => {
    const campaign = await findCampaign(reader, campaignId);
    if (!campaign)
      throw new LorekeeperError('CAMPAIGN_NOT_FOUND', `campaign ${campaignId} does not exist`, {
        campaignId,
      });
    const created = (await listSnapshots(reader, campaignId)).find((s) => s.name === CREATED_SNAPSHOT);
    if (!created) {
      throw new CommandFailedError(
        `campaign ${campaignId} has no "${CREATED_SNAPSHOT}" snapshot (it predates replay support), so its ` +
          'history cannot be exported; nothing was written',
      );
    }
    const exportedAt = new Date();
    const zip = createZipWriter(file, exportedAt);
    try {
      const manifest = await writeParts(reader, zip, campaign, created, exportedAt);
      zip.addBuffer(MANIFEST_FILE, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
      await zip.close();
      return manifest;
    } catch (error) {
      await zip.abort();
      throw error;
    }
  });
}

async function writeParts(
  reader: Kysely<Database>,
  zip: ZipWriter,
  campaign: Campaign,
  created: Snapshot,
  exportedAt: Date,
): Promise<Manifest> {
  const { id, name, checkpoint } = campaign;
  const total =
    (await countEntities(reader, id)) +
    created.entityCount +
    (await countEvents(reader, id, { fromSeq: 1, toSeq: checkpoint.seq }));
  const progress = startProgress('exporting', total);
  const counts = { entities: 0, createdEntities: 0, events: 0 };
  let done = 0;
  const counting = (part: keyof typeof counts) => (page: readonly unknown[]) => {
    counts[part] += page.length;
    done += page.length;
    progress.update(done);
  };
  try {
    const entities = streamEntities(reader, id, PAGE_SIZE);
    const world = await zip.add(
      WORLD_FILE,
      worldDocumentText({ campaignId: id, name, seq: checkpoint.seq }, entities, counting('entities')),
    );
    const createdEntities = streamSnapshotEntities(reader, created.id, PAGE_SIZE);
    const createdDigest = await zip.add(
      CREATED_FILE,
      worldDocumentText({ campaignId: id, name, seq: 0 }, createdEntities, counting('createdEntities')),
    );
    const events = await zip.add(
      EVENTS_FILE,
      eventLines(pagesOfEvents(reader, id, checkpoint.seq), counting('events')),
    );
    return {
      format: EXPORT_FORMAT,
      campaignId: id,
      name,
      checkpoint: { seq: checkpoint.seq, streamId: checkpoint.streamId },
      exportedAt: exportedAt.toISOString(),
      counts,
      files: { [WORLD_FILE]: world, [CREATED_FILE]: createdDigest, [EVENTS_FILE]: events },
    };
  } finally {
    progress.stop();
  }
}

/** Archived events 1..toSeq, a page at a time (keyset on seq). */
async function* pagesOfEvents(
  reader: Kysely<Database>,
  campaignId: string,
  toSeq: number,
): AsyncGenerator<ArchivedEvent[]> {
  for (let fromSeq = 1; fromSeq <= toSeq;) {
    const page = await readEvents(reader, campaignId, { fromSeq, toSeq, limit: PAGE_SIZE });
    if (page.length > 0) yield page;
    const last = page[page.length - 1];
    if (page.length < PAGE_SIZE || !last) return;
    fromSeq = last.seq + 1;
  }
}

async function* eventLines(
  pages: AsyncIterable<readonly ArchivedEvent[]>,
  onPage: (page: readonly ArchivedEvent[]) => void,
): AsyncGenerator<string> {
  for await (const page of pages) {
    yield page.map(eventLine).join('');
    onPage(page);
  }
}

function zipPath(value: string): string {
  // A usage error (exit 2): import tells the formats apart by their extension.
  if (!value.toLowerCase().endsWith('.zip'))
    throw new InvalidArgumentError('expected a file ending in .zip.');
  return value;
}

function describeExport(manifest: Manifest, file: string): string {
  const { campaignId, checkpoint, counts } = manifest;
  return (
    `Exported ${campaignId} at seq ${checkpoint.seq} to ${file}: ${counts.entities} entities, ` +
    `${counts.createdEntities} in the created world, ${counts.events} events.`
  );
}
