import type { Kysely } from 'kysely';
import type { NatsConnection, Subscription } from 'nats';
import type { Database } from '@lorekeeper/pg-store';
import { readCheckpoint } from '@lorekeeper/pg-store';
import type { DurableNotice } from '@lorekeeper/protocol';
import { DURABLE_SUBSCRIPTION } from '@lorekeeper/protocol';

/** Answers "is everything up to `seq` committed in Postgres?", waiting at most `timeoutMs`. */
export interface DurabilityWaiter {
  waitFor(campaignId: string, seq: number, timeoutMs: number): Promise<boolean>;
  close(): void;
}

/**
 * Reads the campaign's checkpoint, which the persistence worker advances in the same transaction as
 * the data, so a checkpoint at or past `seq` means the batch is durable. It reads again when a worker
 * announces a flush of the campaign (`lorekeeper.durable.<id>`, see `listen`), and every `intervalMs`
 * in any case: a notice is pub/sub, at most once, and a worker of an older version sends none.
 */
export class CheckpointPollingWaiter implements DurabilityWaiter {
  private closed = false;
  /** Per campaign with an append waiting: notices heard, and how to wake the waits. */
  private readonly waiting = new Map<string, { notices: number; readonly wakes: Set<() => void> }>();
  private subscription: Subscription | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly intervalMs = 20,
  ) {}

  /** Hear the workers' flush notices on `nats` (until close). */
  listen(nats: NatsConnection): this {
    this.subscription = nats.subscribe(DURABLE_SUBSCRIPTION, {
      callback: (error, message) => {
        if (error) return;
        try {
          this.noticed((JSON.parse(message.string()) as DurableNotice).campaignId);
        } catch {
          // Not a notice: the interval reads the checkpoint anyway.
        }
      },
    });
    return this;
  }

  async waitFor(campaignId: string, seq: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const campaign = this.waiting.get(campaignId) ?? { notices: 0, wakes: new Set() };
    this.waiting.set(campaignId, campaign);
    // Cuts this wait's sleep short when a notice for the campaign arrives.
    let cutSleep: (() => void) | undefined;
    const wake = () => cutSleep?.();
    campaign.wakes.add(wake);
    try {
      while (!this.closed) {
        // Counted before the read: a notice that arrives during it means read again at once.
        const notices = campaign.notices;
        try {
          if ((await readCheckpoint(this.db, campaignId)).seq >= seq) return true;
        } catch {
          // Postgres unreachable: keep waiting until the deadline; the reply will say durable: false.
        }
        const left = deadline - Date.now();
        if (left <= 0) return false;
        if (campaign.notices !== notices) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(this.intervalMs, left));
          cutSleep = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        cutSleep = undefined;
      }
      return false;
    } finally {
      campaign.wakes.delete(wake);
      if (campaign.wakes.size === 0 && this.waiting.get(campaignId) === campaign) {
        this.waiting.delete(campaignId);
      }
    }
  }

  close(): void {
    this.closed = true;
    this.subscription?.unsubscribe();
  }

  private noticed(campaignId: string): void {
    const campaign = this.waiting.get(campaignId);
    if (!campaign) return;
    campaign.notices += 1;
    for (const wake of campaign.wakes) wake();
  }
}
