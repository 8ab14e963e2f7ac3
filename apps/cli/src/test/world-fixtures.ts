/** The world export/import specs' fixtures: the built CLI, a campaign with history, zip surgery. */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { Entity, RecordedEvent } from '@lorekeeper/domain';
import { evolve, nextVersion } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import {
  advanceCheckpoint,
  archiveEvents,
  createCampaignFromWorld,
  deleteEntities,
  readCheckpoint,
  streamEntities,
  upsertEntities,
} from '@lorekeeper/pg-store';
import { tinyWorld } from '@lorekeeper/testing';
import type { Kysely } from 'kysely';
import { ZipFile } from 'yazl';
import { openZip, textOf } from '../commands/zip-reader';
import type { Run } from './run-cli';
import { runCli } from './run-cli';

export { ROOT, type Run } from './run-cli';

/** The built CLI against one database. */
export const lorekeeper = (args: readonly string[], databaseUrl: string): Promise<Run> =>
  runCli(args, { DATABASE_URL: databaseUrl });

type Archivable = RecordedEvent & { readonly streamId: string };

/**
 * Commit `events` as the persistence worker would: fold them over the durable state with the domain's
 * evolve, then write the changed entities, the archived events and the checkpoint in one transaction.
 * Seqs may skip (a transient event is never archived).
 */
export async function flush(
  db: Kysely<Database>,
  campaignId: string,
  state: Map<string, Entity>,
  events: readonly Omit<RecordedEvent, 'version' | 'meta'>[],
): Promise<void> {
  const archived: Archivable[] = [];
  const changed = new Set<string>();
  for (const event of events) {
    const before = state.get(event.entityId);
    const next = evolve(before, event);
    if (next) state.set(event.entityId, next);
    else state.delete(event.entityId);
    changed.add(event.entityId);
    archived.push({
      ...event,
      version: nextVersion(before),
      streamId: `${event.seq}-0`,
      meta: {
        sessionId: 's1',
        batchId: `b${event.seq}`,
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, event.seq)).toISOString(),
      },
    });
  }
  await db.transaction().execute(async (trx) => {
    const from = await readCheckpoint(trx, campaignId);
    const upTo = archived[archived.length - 1]!;
    await upsertEntities(
      trx,
      campaignId,
      [...changed].flatMap((id) => state.get(id) ?? []),
    );
    await deleteEntities(
      trx,
      campaignId,
      [...changed].filter((id) => !state.has(id)),
    );
    await archiveEvents(trx, campaignId, archived);
    expect(await advanceCheckpoint(trx, campaignId, from, { seq: upTo.seq, streamId: upTo.streamId })).toBe(
      true,
    );
  });
}

/** A campaign made from the tiny world, then played for two flushes (seq 3 was a transient event). */
export async function campaignWithHistory(db: Kysely<Database>, campaignId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await createCampaignFromWorld(trx, { id: campaignId, name: tinyWorld.name }, tinyWorld.entities);
  });
  const state = new Map(tinyWorld.entities.map((e) => [e.id, e]));
  await flush(db, campaignId, state, [
    { seq: 1, type: 'player.gold.changed', entityId: 'player:alice', data: { delta: 5 } },
    { seq: 2, type: 'player.moved', entityId: 'player:alice', data: { regionId: 'region:hills' } },
    {
      seq: 4,
      type: 'item.moved',
      entityId: 'item:sword',
      data: { fromId: 'player:alice', toId: 'region:hills' },
    },
  ]);
  await flush(db, campaignId, state, [
    {
      seq: 5,
      type: 'item.created',
      entityId: 'item:potion',
      data: { name: 'Potion', ownerId: 'player:bob', qty: 2 },
    },
    { seq: 6, type: 'item.destroyed', entityId: 'item:coin', data: {} },
    { seq: 7, type: 'world.flag.set', entityId: 'world', data: { key: 'gate', value: { open: true } } },
    { seq: 8, type: 'player.gold.changed', entityId: 'player:alice', data: { delta: -3 } },
  ]);
}

export async function entitiesOf(db: Kysely<Database>, campaignId: string): Promise<Entity[]> {
  const entities: Entity[] = [];
  for await (const page of streamEntities(db, campaignId)) entities.push(...page);
  return entities;
}

export function byId(entities: readonly Entity[]): Entity[] {
  return [...entities].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export async function campaignIds(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('campaigns').select('id').orderBy('id').execute();
  return rows.map((row) => row.id);
}

/** Every file of a zip, by name. */
export async function zipFiles(file: string): Promise<Map<string, string>> {
  const zip = await openZip(file);
  try {
    const files = new Map<string, string>();
    for (const name of zip.entries.keys()) files.set(name, await textOf(await zip.open(name)));
    return files;
  } finally {
    zip.close();
  }
}

/** Write a zip of `files`, as someone tampering with an export would. */
export async function writeZip(file: string, files: ReadonlyMap<string, string>): Promise<void> {
  const zip = new ZipFile();
  for (const [name, content] of files) zip.addBuffer(Buffer.from(content), name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  await writeFile(file, Buffer.concat(chunks));
}

/** The manifest rewritten to vouch for `files` as they now are (a consistent but wrong export). */
export function resealed(files: Map<string, string>): Map<string, string> {
  const manifest = JSON.parse(files.get('manifest.json')!);
  for (const name of ['world.json', 'created.json', 'events.jsonl']) {
    const content = Buffer.from(files.get(name)!);
    manifest.files[name] = {
      bytes: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
    };
  }
  return new Map(files).set('manifest.json', JSON.stringify(manifest));
}
