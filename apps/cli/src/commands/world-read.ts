import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { WorldDocument } from '@lorekeeper/domain';
import { isLorekeeperError, parseWorldDocument } from '@lorekeeper/domain';
import { CommandFailedError } from '../errors';
import { ImportRefusedError, damaged, invalid } from './import-refusal';
import type { ContentFile, Manifest } from './world-file';
import { CREATED_FILE, WORLD_FILE } from './world-file';
import { verifiedContent, verifyWorldZip } from './world-zip-verify';
import type { ZipReader } from './zip-reader';
import { openZip, textOf } from './zip-reader';

// Reading an export or a world document for import: every check that comes before a write.

/** Open an export; a file that is not a readable zip is damaged (a truncated one, say). */
export async function openExport(file: string): Promise<ZipReader> {
  await readable(file);
  try {
    return await openZip(file);
  } catch (error) {
    throw damaged(`not a readable zip (${messageOf(error)})`);
  }
}

/**
 * Check every file against the manifest (see verifyWorldZip) before anything else is read; any failure to
 * read the zip on the way means it is damaged. `onBytes` follows the bytes checked.
 */
export async function verifyExport(
  zip: ZipReader,
  onBytes: (checked: number) => void = () => {},
): Promise<Manifest> {
  try {
    return await verifyWorldZip(zip, onBytes);
  } catch (error) {
    if (error instanceof ImportRefusedError) throw error;
    throw damaged(messageOf(error));
  }
}

/** One of the export's world documents, read (checked against the manifest again) and validated. */
export async function readWorld(
  zip: ZipReader,
  name: ContentFile,
  manifest: Manifest,
): Promise<WorldDocument> {
  return parseWorld(parseJson(await textOf(verifiedContent(zip, name, manifest)), name), name);
}

/** The two documents agree with the manifest: campaign, seqs and entity counts. */
export function checkAgainstManifest(manifest: Manifest, created: WorldDocument, world: WorldDocument): void {
  const { campaignId, checkpoint, counts } = manifest;
  const problems = [
    created.campaignId !== campaignId &&
      `${CREATED_FILE} is for campaign ${created.campaignId}, the manifest for ${campaignId}`,
    world.campaignId !== campaignId &&
      `${WORLD_FILE} is for campaign ${world.campaignId}, the manifest for ${campaignId}`,
    created.seq !== 0 && `${CREATED_FILE} is at seq ${created.seq}, expected 0`,
    world.seq !== checkpoint.seq &&
      `${WORLD_FILE} is at seq ${world.seq}, the manifest's checkpoint is ${checkpoint.seq}`,
    world.entities.length !== counts.entities &&
      `${WORLD_FILE} holds ${world.entities.length} entities, the manifest says ${counts.entities}`,
    created.entities.length !== counts.createdEntities &&
      `${CREATED_FILE} holds ${created.entities.length} entities, the manifest says ${counts.createdEntities}`,
  ].filter((problem): problem is string => typeof problem === 'string');
  if (problems.length > 0) throw invalid(problems.join('; '), problems);
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(`${name} is not JSON (${messageOf(error)})`);
  }
}

/** The domain's own validation; a BAD_REQUEST lists every problem found. */
function parseWorld(raw: unknown, name: string): WorldDocument {
  try {
    return parseWorldDocument(raw);
  } catch (error) {
    if (!isLorekeeperError(error) || error.code !== 'BAD_REQUEST') throw error;
    const problems = error.details?.['problems'];
    throw invalid(`${name}: ${error.message}`, Array.isArray(problems) ? problems.map(String) : []);
  }
}

/** A world document from a plain .json file, validated by the domain's rules. */
export async function readWorldFile(file: string): Promise<WorldDocument> {
  await readable(file);
  const name = basename(file);
  return parseWorld(parseJson(await readFile(file, 'utf8'), name), name);
}

async function readable(file: string): Promise<void> {
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
  } catch (error) {
    throw new CommandFailedError(`cannot read ${file}: ${messageOf(error)}`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
