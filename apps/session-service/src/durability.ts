import type { Kysely } from 'kysely';
import type { Database } from '@lorekeeper/pg-store';
import { readCheckpoint } from '@lorekeeper/pg-store';

/** Answers "is everything up to `seq` committed in Postgres?", waiting at most `timeoutMs`. */
export interface DurabilityWaiter {
  waitFor(campaignId: string, seq: number, timeoutMs: number): Promise<boolean>;
  close(): void;
}

/**
 * Polls the campaign's checkpoint, which the persistence worker advances in the same transaction as
 * the data, so a checkpoint at or past `seq` means the batch is durable.
 */
export class CheckpointPollingWaiter implements DurabilityWaiter {
  private closed = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly intervalMs = 20,
  ) {}

  async waitFor(campaignId: string, seq: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      try {
        if ((await readCheckpoint(this.db, campaignId)).seq >= seq) return true;
      } catch {
        // Postgres unreachable: keep waiting until the deadline; the reply will say durable: false.
      }
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.intervalMs, left)));
    }
    return false;
  }

  close(): void {
    this.closed = true;
  }
}
