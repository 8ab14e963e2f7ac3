import {
  advanceCheckpoint,
  beginSnapshotCopy,
  completeSnapshotCopy,
  copyEntitiesPaced,
  createCampaignFromWorld,
  findSnapshotAtOrBefore,
  upsertEntities,
} from '@lorekeeper/pg-store';
import type { Entity } from '@lorekeeper/domain';
import type { TestDatabase } from '@lorekeeper/testing';
import { createTestDatabase, tinyWorld, uniqueCampaignId } from '@lorekeeper/testing';
import { assertCliBuilt, runCli } from '../test/run-cli';

interface Listed {
  readonly name: string;
  readonly seq: number;
  readonly rows: number;
  readonly base: string | null;
}

describe('lorekeeper snapshots', () => {
  const campaignId = uniqueCampaignId('cli-snapshots');
  let test: TestDatabase;
  const lorekeeper = (...args: string[]) => runCli(args, { DATABASE_URL: test.url });
  const listed = async () => {
    const run = await lorekeeper('snapshots', 'list', campaignId, '--json');
    expect(run.code).toBe(0);
    return (JSON.parse(run.stdout) as { snapshots: Listed[] }).snapshots.map(({ name, seq, rows, base }) => ({
      name,
      seq,
      rows,
      base,
    }));
  };

  beforeAll(async () => {
    assertCliBuilt();
    test = await createTestDatabase('cli-snapshots');
    await test.db.transaction().execute(async (trx) => {
      await createCampaignFromWorld(trx, { id: campaignId, name: 'Snapshots' }, tinyWorld.entities);
    });
  });
  afterAll(() => test.destroy());

  it('saves the durable state under a name of your own, at the checkpoint', async () => {
    // The worker's flush of one event: the checkpoint moves to 1 and Alice's gold with it.
    const alice = tinyWorld.entities.find((e) => e.id === 'player:alice') as Entity<{ gold: number }>;
    await test.db.transaction().execute(async (trx) => {
      await advanceCheckpoint(trx, campaignId, { seq: 0, streamId: '0-0' }, { seq: 1, streamId: '1-0' });
      await upsertEntities(trx, campaignId, [
        { ...alice, version: alice.version + 1, state: { ...alice.state, gold: 7 } },
      ]);
    });
    const run = await lorekeeper('snapshots', 'create', campaignId, 'before the dragon');
    expect(run).toMatchObject({
      code: 0,
      stdout: `Saved snapshot "before the dragon" of ${campaignId} at seq 1: ${tinyWorld.entities.length} entities.\n`,
    });
    expect(await listed()).toEqual([
      { name: 'created', seq: 0, rows: tinyWorld.entities.length, base: null },
      { name: 'before the dragon', seq: 1, rows: tinyWorld.entities.length, base: null },
    ]);
  });

  it("lists a worker's snapshot of what changed with the one it is laid over", async () => {
    const base = await findSnapshotAtOrBefore(test.db, campaignId, 1);
    const id = await beginSnapshotCopy(test.db, campaignId, base?.id ?? null);
    const copied = await copyEntitiesPaced(test.db, campaignId, id, { chunkRows: 10, restRatio: 0 }, [
      'player:alice',
    ]);
    await completeSnapshotCopy(
      test.db,
      campaignId,
      id,
      copied,
      { ids: [], throughSeq: 1 },
      (seq) => `auto-${seq}`,
    );
    expect((await listed())[2]).toEqual({ name: 'auto-1', seq: 1, rows: 1, base: 'before the dragon' });
    const text = await lorekeeper('snapshots', 'list', campaignId);
    expect(text.stdout).toMatch(/auto-1\s+1\s+1\s+changes since before the dragon\s/);
    expect(text.stdout).toMatch(/created\s+0\s+\d+\s+every entity\s/);
  });

  it('refuses a taken name and a missing campaign (exit 1), and names of its own (exit 2)', async () => {
    const taken = await lorekeeper('snapshots', 'create', campaignId, 'before the dragon', '--json');
    expect(taken.code).toBe(1);
    expect(JSON.parse(taken.stdout)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(taken.stderr).toContain(`campaign ${campaignId} already has a snapshot named "before the dragon"`);
    for (const args of [
      ['create', 'no-such-campaign', 'x'],
      ['list', 'no-such-campaign'],
    ]) {
      const missing = await lorekeeper('snapshots', ...args);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('CAMPAIGN_NOT_FOUND: campaign no-such-campaign does not exist');
    }
    for (const name of ['created', 'auto-9', 'copying-1', ' ']) {
      const reserved = await lorekeeper('snapshots', 'create', campaignId, name);
      expect(reserved.code).toBe(2);
    }
    expect((await listed()).map((s) => s.name)).toEqual(['created', 'before the dragon', 'auto-1']);
  });
});
