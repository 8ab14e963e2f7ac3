import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '@lorekeeper/pg-store';
import { countEvents, findSnapshotAtOrBefore, readCheckpoint, snapshotChain } from '@lorekeeper/pg-store';

/** `lorekeeper state --at` on the capacity campaign once the worker part has played it. */
export interface ReplayTiming {
  /** The seq replayed to: the campaign's checkpoint, the whole history the worker part made. */
  readonly seq: number;
  /** The snapshot chain the fold starts from: how many snapshots, their rows, and the last one's seq. */
  readonly chain: { readonly snapshots: number; readonly rows: number; readonly seq: number };
  /** Archived events folded past the chain's last snapshot. */
  readonly folded: number;
  /** Entities printed (lines of its jsonl output). */
  readonly entities: number;
  readonly seconds: number[];
}

/**
 * Time `lorekeeper state <campaign> --at <checkpoint> --format jsonl --no-redis` (the session has
 * ended) on the capacity world after the worker part, as a user runs it: its own process, its output
 * counted and dropped. It reads the replay snapshots' chain, folds the archive on from the last of
 * them and prints every entity. bench:replay times the same command on a small world's 1,000,000-event
 * history; this is a 1,000,000-entity world's.
 */
export async function timeReplay(
  db: Kysely<Database>,
  databaseUrl: string,
  root: string,
  campaignId: string,
  rounds: number,
): Promise<ReplayTiming> {
  const { seq } = await readCheckpoint(db, campaignId);
  const base = await findSnapshotAtOrBefore(db, campaignId, seq);
  const chain = base ? await snapshotChain(db, base.id) : [];
  const folded = await countEvents(db, campaignId, { fromSeq: (base?.seq ?? 0) + 1, toSeq: seq });
  const seconds: number[] = [];
  let entities = 0;
  for (let round = 0; round < rounds; round += 1) {
    const started = performance.now();
    entities = await runState(root, databaseUrl, campaignId, seq);
    seconds.push((performance.now() - started) / 1_000);
  }
  return {
    seq,
    chain: {
      snapshots: chain.length,
      rows: chain.reduce((sum, link) => sum + link.rows, 0),
      seq: base?.seq ?? 0,
    },
    folded,
    entities,
    seconds,
  };
}

/** Run the CLI's state command; resolves with the lines it printed. */
function runState(root: string, databaseUrl: string, campaignId: string, seq: number): Promise<number> {
  const args = ['state', campaignId, '--at', String(seq), '--format', 'jsonl', '--no-redis'];
  const child = spawn(process.execPath, [join(root, 'apps/cli/bin/lorekeeper.js'), ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lines = 0;
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines += 1;
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4_000)));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(lines) : reject(new Error(`lorekeeper state exited with ${code}: ${stderr}`)),
    );
  });
}
