import { basename } from 'node:path';
import type { Config } from '@lorekeeper/config';
import { loadConfig } from '@lorekeeper/config';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { campaignId } from '../arguments';
import { CommandFailedError } from '../errors';
import type { Output } from '../output';
import { createOutput } from '../output';
import { startProgress } from '../progress';
import { withStores } from '../stores';
import { ImportRefusedError, invalid, refusalMessage } from './import-refusal';
import { CONTENT_FILES, CREATED_FILE, EVENTS_FILE, WORLD_FILE } from './world-file';
import { checkHistory, eventsIn } from './world-history';
import { writeExport, writeWorldDocument } from './world-import-write';
import { checkAgainstManifest, openExport, readWorld, readWorldFile, verifyExport } from './world-read';
import { verifiedContent } from './world-zip-verify';
import { linesOf } from './zip-reader';

interface ImportOptions {
  readonly as?: string;
  readonly json?: boolean;
}

export interface ImportSummary {
  readonly campaignId: string;
  readonly name: string;
  readonly source: 'zip' | 'json';
  readonly checkpointSeq: number;
  readonly entities: number;
  readonly createdEntities: number;
  readonly events: number;
}

export function registerWorldImportCommand(world: Command): void {
  world
    .command('import')
    .description('Create a campaign from a world document (.json) or from a `world export` zip.')
    .argument('<file>', 'a world document with seq 0 (.json), or an export (.zip)', worldFilePath)
    .option('--as <id>', 'the id of the new campaign (default: the id in the file)', campaignId)
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      `
A zip is checked whole before anything is written: every file against the manifest's size and sha256, both
world documents against the domain's rules, and the events folded over created.json must give world.json.
Then the campaign, its created snapshot, its entities, its events and its checkpoint are written in one
transaction. A refused file, or an id that is taken, changes nothing (exit 1).

Examples:
  $ lorekeeper world import sunken-vale.zip
  $ lorekeeper world import sunken-vale.zip --as sunken-vale-copy --json
  $ lorekeeper world import new-world.json --as sunken-vale`,
    )
    .action(async (file: string, options: ImportOptions) => {
      const out = createOutput(options.json === true);
      const config = loadConfig();
      const summary = await refusing(out, basename(file), () =>
        file.toLowerCase().endsWith('.zip')
          ? importZip(config, file, options.as)
          : importJson(config, file, options.as),
      );
      out.result({ ok: true, ...summary }, () => describeImport(summary));
    });
}

async function importZip(config: Config, file: string, as: string | undefined): Promise<ImportSummary> {
  const zip = await openExport(file);
  try {
    const total = CONTENT_FILES.reduce(
      (sum, name) => sum + (zip.entries.get(name)?.uncompressedSize ?? 0),
      0,
    );
    const manifest = await withProgress('verifying', total, (update) => verifyExport(zip, update));
    const created = await readWorld(zip, CREATED_FILE, manifest);
    const world = await readWorld(zip, WORLD_FILE, manifest);
    checkAgainstManifest(manifest, created, world);
    const events = () =>
      eventsIn(linesOf(verifiedContent(zip, EVENTS_FILE, manifest)), manifest.checkpoint.seq);
    const folded = await withProgress('checking history', manifest.counts.events, (update) =>
      checkHistory(created, world, events(), update),
    );
    if (folded !== manifest.counts.events)
      throw invalid(`${EVENTS_FILE} holds ${folded} events, the manifest says ${manifest.counts.events}`);

    const target = as ?? manifest.campaignId;
    await withStores(config, false, ({ db }) =>
      withProgress('importing', folded, (update) =>
        writeExport(
          db,
          { campaignId: target, created, world, checkpoint: manifest.checkpoint, events },
          update,
        ),
      ),
    );
    return {
      campaignId: target,
      name: world.name,
      source: 'zip',
      checkpointSeq: manifest.checkpoint.seq,
      entities: world.entities.length,
      createdEntities: created.entities.length,
      events: folded,
    };
  } finally {
    zip.close();
  }
}

async function importJson(config: Config, file: string, as: string | undefined): Promise<ImportSummary> {
  const world = await readWorldFile(file);
  if (world.seq !== 0) {
    throw invalid(
      `it is a world document at seq ${world.seq}; import takes one with seq 0 (a new world), or a .zip export`,
    );
  }
  const target = as ?? world.campaignId;
  await withStores(config, false, ({ db }) => writeWorldDocument(db, target, world));
  const entities = world.entities.length;
  return {
    campaignId: target,
    name: world.name,
    source: 'json',
    checkpointSeq: 0,
    entities,
    createdEntities: entities,
    events: 0,
  };
}

async function withProgress<T>(
  label: string,
  total: number,
  work: (update: (done: number) => void) => Promise<T>,
): Promise<T> {
  const progress = startProgress(label, total);
  try {
    return await work((done) => progress.update(done));
  } finally {
    progress.stop();
  }
}

/**
 * Turn a refusal into the one-line message (exit 1). With several problems, each is listed on stderr
 * first; with --json they are in the result document too.
 */
async function refusing<T>(out: Output, file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ImportRefusedError)) throw error;
    const message = refusalMessage(file, error);
    if (error.problems.length > 1) for (const problem of error.problems) out.warn(`  ${problem}`);
    if (!out.json) throw new CommandFailedError(message);
    const code = error.kind === 'damaged' ? 'DAMAGED' : 'REFUSED';
    out.result({ ok: false, error: { code, message, problems: error.problems } }, () => message);
    throw new CommandFailedError(message, true);
  }
}

function describeImport(summary: ImportSummary): string {
  const { campaignId, name, source, checkpointSeq, entities, events } = summary;
  return source === 'zip'
    ? `Imported ${campaignId} (${name}) at seq ${checkpointSeq}: ${entities} entities, ${events} events, with its created world.`
    : `Created ${campaignId} (${name}) with ${entities} entities.`;
}

function worldFilePath(value: string): string {
  if (!/\.(json|zip)$/i.test(value)) throw new InvalidArgumentError('expected a .json or .zip file.');
  return value;
}
