import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Entity } from '@lorekeeper/domain';
import { generateWorld } from '@lorekeeper/domain';
import {
  createInitialSnapshot,
  insertCampaign,
  insertEntities,
  readCheckpoint,
  readEvents,
} from '@lorekeeper/pg-store';
import { verifyCampaign } from '@lorekeeper/replay';
import { sql } from 'kysely';
import type { TestDatabase } from '@lorekeeper/testing';
import { createTestDatabase, tinyWorld, uniqueCampaignId } from '@lorekeeper/testing';
import {
  ROOT,
  byId,
  campaignIds,
  campaignWithHistory,
  entitiesOf,
  flush,
  lorekeeper,
  resealed,
  writeZip,
  zipFiles,
} from '../test/world-fixtures';
describe('lorekeeper world export and import', () => {
  let test: TestDatabase;
  let dir: string;
  let exported: string;
  const original = uniqueCampaignId('world-original');

  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'apps/cli/dist/main.js')))
      throw new Error('the CLI is not built: run `npx tsc -b apps/cli/tsconfig.json` before these tests');
    test = await createTestDatabase('cli_world');
    dir = await mkdtemp(path.join(tmpdir(), 'lorekeeper-world-'));
    exported = path.join(dir, 'world.zip');
    await campaignWithHistory(test.db, original);
  });
  afterAll(async () => {
    await test.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('exports the checkpoint, the created world and the archived events, with a manifest', async () => {
    const run = await lorekeeper(['world', 'export', original, '-o', exported, '--json'], test.url);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      ok: true,
      file: exported,
      format: 'lorekeeper.export/1',
      campaignId: original,
      checkpoint: { seq: 8, streamId: '8-0' },
      counts: { entities: tinyWorld.entities.length, createdEntities: tinyWorld.entities.length, events: 7 },
    });

    const files = await zipFiles(exported);
    expect([...files.keys()]).toEqual(['world.json', 'created.json', 'events.jsonl', 'manifest.json']);
    expect(JSON.parse(files.get('manifest.json')!)).toEqual({ ...result, ok: undefined, file: undefined });
    const world = JSON.parse(files.get('world.json')!);
    expect(world).toMatchObject({ format: 'lorekeeper.world/1', campaignId: original, seq: 8 });
    expect(world.entities).toEqual(await entitiesOf(test.db, original));
    const created = JSON.parse(files.get('created.json')!);
    expect(created.seq).toBe(0);
    expect(byId(created.entities)).toEqual(byId(tinyWorld.entities));
    const lines = files
      .get('events.jsonl')!
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((e) => e.seq)).toEqual([1, 2, 4, 5, 6, 7, 8]);
    expect(lines[0]).toEqual({
      seq: 1,
      streamId: '1-0',
      type: 'player.gold.changed',
      entityId: 'player:alice',
      version: 1,
      data: { delta: 5 },
      meta: { sessionId: 's1', batchId: 'b1', at: '2026-01-01T00:00:01.000Z' },
    });
    for (const [name, content] of files) {
      if (name === 'manifest.json') continue;
      const digest = createHash('sha256').update(content).digest('hex');
      expect(result.files[name]).toEqual({ bytes: Buffer.byteLength(content), sha256: digest });
    }
  });

  it('imports an export under a new id: same entities, events and checkpoint, and verify passes', async () => {
    const copy = uniqueCampaignId('world-copy');
    const run = await lorekeeper(['world', 'import', exported, '--as', copy, '--json'], test.url);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({
      ok: true,
      campaignId: copy,
      name: tinyWorld.name,
      source: 'zip',
      checkpointSeq: 8,
      entities: tinyWorld.entities.length,
      createdEntities: tinyWorld.entities.length,
      events: 7,
    });

    expect(await entitiesOf(test.db, copy)).toEqual(await entitiesOf(test.db, original));
    expect(await readCheckpoint(test.db, copy)).toEqual(await readCheckpoint(test.db, original));
    expect(await readEvents(test.db, copy)).toEqual(await readEvents(test.db, original));
    const report = await verifyCampaign(test.db, copy);
    expect(report.ok).toBe(true);
    expect(report.postgres).toMatchObject({ seq: 8, eventsFolded: 7, mismatches: [] });
  });

  it('exports and imports a campaign of many pages of entities and events', async () => {
    const big = uniqueCampaignId('world-big');
    const world = generateWorld({
      campaignId: big,
      regions: 200,
      players: 500,
      npcs: 1_000,
      items: 10_000,
      quests: 300,
      seed: 7,
    });
    await test.db.transaction().execute(async (trx) => {
      await insertCampaign(trx, { id: big, name: world.name });
      await insertEntities(trx, big, world.entities);
      await createInitialSnapshot(trx, big);
    });
    const players = world.entities.filter((e) => e.kind === 'player');
    const events = Array.from({ length: 12_000 }, (_, i) => ({
      seq: i + 1,
      type: 'player.gold.changed',
      entityId: players[i % players.length]!.id,
      data: { delta: 1 + (i % 7) },
    }));
    await flush(test.db, big, new Map(world.entities.map((e) => [e.id, e])), events);
    const file = path.join(dir, 'big.zip');
    const copy = uniqueCampaignId('world-big-copy');
    // As on a database Postgres has not analyzed yet: the import leaves statistics behind it.
    const filled = sql`('entities'::regclass, 'snapshot_entities'::regclass, 'event_chunks'::regclass)`;
    const statistics = async () =>
      (
        await sql<{
          n: number;
        }>`select count(distinct starelid)::int as n from pg_statistic where starelid in ${filled}`.execute(
          test.db,
        )
      ).rows[0]?.n;
    await sql`delete from pg_statistic where starelid in ${filled}`.execute(test.db);
    expect(await statistics()).toBe(0);

    expect(await lorekeeper(['world', 'export', big, '-o', file], test.url)).toMatchObject({
      code: 0,
      stderr: '',
    });
    const run = await lorekeeper(['world', 'import', file, '--as', copy], test.url);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      `Imported ${copy} (${world.name}) at seq 12000: ${world.entities.length} entities, 12000 events, with its created world.\n`,
    );
    expect(await statistics()).toBe(3);
    expect(await entitiesOf(test.db, copy)).toEqual(await entitiesOf(test.db, big));
    const report = await verifyCampaign(test.db, copy);
    expect(report).toMatchObject({ ok: true, postgres: { seq: 12_000, eventsFolded: 12_000 } });
  });

  it('refuses a truncated zip, writing nothing', async () => {
    const truncated = path.join(dir, 'truncated.zip');
    await writeFile(truncated, await readFile(exported));
    await truncate(truncated, Math.floor((await stat(truncated)).size / 2));
    const before = await campaignIds(test.db);

    const run = await lorekeeper(['world', 'import', truncated, '--as', uniqueCampaignId('cut')], test.url);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^lorekeeper: truncated\.zip is damaged: not a readable zip \(.+\); nothing was imported\n$/,
    );
    expect(await campaignIds(test.db)).toEqual(before);
  });

  it('refuses a zip whose file no longer matches its checksum, writing nothing', async () => {
    const files = await zipFiles(exported);
    // Same length, other content: only the checksum can tell.
    files.set('events.jsonl', files.get('events.jsonl')!.replace('"delta":5', '"delta":6'));
    const tampered = path.join(dir, 'tampered.zip');
    await writeZip(tampered, files);
    const before = await campaignIds(test.db);

    const run = await lorekeeper(
      ['world', 'import', tampered, '--as', uniqueCampaignId('tampered')],
      test.url,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /tampered\.zip is damaged: events\.jsonl checksum mismatch \(expected [0-9a-f]{12}…, got [0-9a-f]{12}…\); nothing was imported/,
    );
    expect(await campaignIds(test.db)).toEqual(before);
  });

  it('refuses a world with a dangling reference, in a .json or a sealed zip, listing the problem', async () => {
    const before = await campaignIds(test.db);
    const dangling = (document: { entities: Entity[] }) => ({
      ...document,
      entities: document.entities.map((e) =>
        e.id === 'player:bob' ? { ...e, state: { ...(e.state as object), regionId: 'region:nowhere' } } : e,
      ),
    });
    const json = path.join(dir, 'dangling.json');
    await writeFile(json, JSON.stringify(dangling({ ...tinyWorld, entities: [...tinyWorld.entities] })));
    const fromJson = await lorekeeper(['world', 'import', json, '--as', uniqueCampaignId('dj')], test.url);
    expect(fromJson.code).toBe(1);
    expect(fromJson.stderr).toContain(
      'dangling.json was refused: dangling.json: world document has 1 problem(s)',
    );
    expect(fromJson.stderr).toContain('(player:bob).state.regionId: dangling reference to region:nowhere');

    const files = await zipFiles(exported);
    for (const name of ['world.json', 'created.json'])
      files.set(name, JSON.stringify(dangling(JSON.parse(files.get(name)!))));
    const zip = path.join(dir, 'dangling.zip');
    await writeZip(zip, resealed(files));
    const fromZip = await lorekeeper(
      ['world', 'import', zip, '--as', uniqueCampaignId('dz'), '--json'],
      test.url,
    );
    expect(fromZip.code).toBe(1);
    const result = JSON.parse(fromZip.stdout);
    expect(result).toMatchObject({ ok: false, error: { code: 'REFUSED' } });
    expect(result.error.problems).toEqual([
      expect.stringMatching(/\(player:bob\)\.state\.regionId: dangling reference to region:nowhere$/),
    ]);
    expect(await campaignIds(test.db)).toEqual(before);
  });

  it('refuses a sealed zip whose events do not lead to its world, writing nothing', async () => {
    const files = await zipFiles(exported);
    const world = JSON.parse(files.get('world.json')!);
    world.entities = world.entities.map((e: Entity) =>
      e.id === 'player:alice' ? { ...e, state: { ...(e.state as object), gold: 1000 } } : e,
    );
    files.set('world.json', JSON.stringify(world));
    const zip = path.join(dir, 'rich.zip');
    await writeZip(zip, resealed(files));
    const before = await campaignIds(test.db);

    const run = await lorekeeper(['world', 'import', zip, '--as', uniqueCampaignId('rich')], test.url);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'rich.zip was refused: folding events.jsonl over created.json does not give world.json: 1 entities differ ' +
        '(player:alice: state.gold 1000 in world.json, 12 by the fold); nothing was imported',
    );
    expect(await campaignIds(test.db)).toEqual(before);
  });

  it('refuses to import onto an existing campaign id, changing nothing', async () => {
    const before = await entitiesOf(test.db, original);
    const run = await lorekeeper(['world', 'import', exported], test.url);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `lorekeeper: campaign ${original} already exists; nothing was imported (choose another id with --as)\n`,
    );
    expect(await entitiesOf(test.db, original)).toEqual(before);
    expect((await readEvents(test.db, original)).map((e) => e.seq)).toEqual([1, 2, 4, 5, 6, 7, 8]);
  });

  it('imports a world document with seq 0 as a new campaign with its created snapshot', async () => {
    const json = path.join(dir, 'tiny.json');
    await writeFile(json, JSON.stringify(tinyWorld));
    const id = uniqueCampaignId('from-json');
    const run = await lorekeeper(['world', 'import', json, '--as', id], test.url);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      `Created ${id} (${tinyWorld.name}) with ${tinyWorld.entities.length} entities.\n`,
    );
    expect(await entitiesOf(test.db, id)).toHaveLength(tinyWorld.entities.length);
    expect((await verifyCampaign(test.db, id)).ok).toBe(true);

    await writeFile(json, JSON.stringify({ ...tinyWorld, seq: 3 }));
    const later = await lorekeeper(['world', 'import', json, '--as', uniqueCampaignId('seq3')], test.url);
    expect(later.code).toBe(1);
    expect(later.stderr).toContain('tiny.json was refused: it is a world document at seq 3');
  });

  it('exits 2 on usage errors and 3 when PostgreSQL is unreachable', async () => {
    const usages = [
      ['world', 'export', original],
      ['world', 'export', original, '-o', 'out.tar'],
      ['world', 'export', 'not a campaign id', '-o', 'x.zip'],
      ['world', 'import', 'world.txt'],
      ['world', 'import', exported, '--as', 'bad id!'],
      ['world'],
    ];
    const runs = await Promise.all(usages.map((args) => lorekeeper(args, test.url)));
    expect(runs.map((run) => run.code)).toEqual(usages.map(() => 2));

    const unreachable = 'postgres://postgres@127.0.0.1:1/lorekeeper';
    const exporting = await lorekeeper(
      ['world', 'export', original, '-o', path.join(dir, 'x.zip')],
      unreachable,
    );
    expect(exporting.code).toBe(3);
    const importing = await lorekeeper(
      ['world', 'import', exported, '--as', uniqueCampaignId('x')],
      unreachable,
    );
    expect(importing.code).toBe(3);
    expect(existsSync(path.join(dir, 'x.zip'))).toBe(false);
  });

  it('refuses to export a campaign that does not exist, leaving no file', async () => {
    const file = path.join(dir, 'missing.zip');
    const run = await lorekeeper(['world', 'export', 'no-such-campaign', '-o', file], test.url);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('CAMPAIGN_NOT_FOUND: campaign no-such-campaign does not exist');
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.partial`)).toBe(false);
  });

  it('shows help with examples for export and import', async () => {
    const [exportHelp, importHelp] = await Promise.all([
      lorekeeper(['world', 'export', '--help'], test.url),
      lorekeeper(['world', 'import', '--help'], test.url),
    ]);
    expect(exportHelp.code).toBe(0);
    expect(exportHelp.stdout).toMatch(/Examples:\n\s+\$ lorekeeper world export \S+ -o \S+\.zip/);
    expect(importHelp.code).toBe(0);
    expect(importHelp.stdout).toMatch(/Examples:\n\s+\$ lorekeeper world import \S+\.zip/);
  });
});
