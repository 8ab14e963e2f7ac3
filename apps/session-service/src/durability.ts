import type { Kysely } from 'kysely';
import type { NatsConnection, Subscription } from 'nats';
import type { Database } from '@lorekeeper/pg-store';
import { readPosition } from '@lorekeeper/pg-store';
import type { DurableNotice } from '@lorekeeper/protocol';
import { DURABLE_SUBSCRIPTION } from '@lorekeeper/protocol';

/**
 * What a wait needs durable up to its seq: the events (archived, or in the entities at the checkpoint:
 * what an append with a major event waits for), or the entities themselves (the checkpoint: what a
 * save and a session end wait for).
 */
export type Durable = 'events' | 'checkpoint';

/** Answers "is everything up to `seq` committed in Postgres?", waiting at most `timeoutMs`. */
export interface DurabilityWaiter {
  waitFor(campaignId: string, seq: number, timeoutMs: number, what?: Durable): Promise<boolean>;
  close(): void;
}

/** How far a campaign is durable in Postgres: the checkpoint, and the events (never behind it). */
export interface DurableSeqs {
  readonly checkpoint: number;
  readonly events: number;
}

/** Reads a campaign's DurableSeqs. */
export type CheckpointReader = (campaignId: string) => Promise<DurableSeqs>;

interface Wait {
  readonly seq: number;
  readonly what: Durable;
  readonly answer: (durable: boolean) => void;
}

/** The appends waiting on one campaign, and the one read of its checkpoint they share. */
interface CampaignWaits {
  readonly waits: Set<Wait>;
  reading: boolean;
  /** A notice or a tick came during the read: its answer may predate the flush, so read once more. */
  again: boolean;
  readonly ticker: NodeJS.Timeout;
}

/**
 * Reads the campaign's position, which the persistence worker advances in the same transaction as the
 * data: an archive position (or checkpoint) at or past `seq` means the batch's events are durable, a
 * checkpoint at or past it that the entities are too. The appends waiting on one
 * campaign share each read: one when a wait begins (a retried append's batch may be durable already),
 * one when a worker announces a flush that reaches a seq one of them waits for
 * (`lorekeeper.durable.<id>`, see `listen`), and one every `intervalMs` in any case: a notice is
 * pub/sub, at most once, and a worker of an older version sends none. A notice only prompts a read;
 * the answer is always the checkpoint's.
 */
export class CheckpointPollingWaiter implements DurabilityWaiter {
  private closed = false;
  private readonly campaigns = new Map<string, CampaignWaits>();
  private subscription: Subscription | undefined;

  constructor(
    db: Kysely<Database>,
    private readonly intervalMs = 20,
    private readonly readSeq: CheckpointReader = async (campaignId) => {
      const position = await readPosition(db, campaignId);
      return { checkpoint: position.checkpoint.seq, events: position.archived.seq };
    },
  ) {}

  /** Hear the workers' flush notices on `nats` (until close). */
  listen(nats: NatsConnection): this {
    this.subscription = nats.subscribe(DURABLE_SUBSCRIPTION, {
      callback: (error, message) => {
        if (error) return;
        try {
          const notice = JSON.parse(message.string()) as Partial<DurableNotice>;
          if (typeof notice.campaignId === 'string') this.noticed(notice.campaignId, notice.seq);
        } catch {
          // Not a notice: the interval reads the checkpoint anyway.
        }
      },
    });
    return this;
  }

  waitFor(campaignId: string, seq: number, timeoutMs: number, what: Durable = 'events'): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    let campaign = this.campaigns.get(campaignId);
    if (!campaign) {
      campaign = {
        waits: new Set(),
        reading: false,
        again: false,
        ticker: setInterval(() => void this.read(campaignId), this.intervalMs),
      };
      this.campaigns.set(campaignId, campaign);
    }
    const waits = campaign.waits;
    const answered = new Promise<boolean>((resolve) => {
      const wait: Wait = {
        seq,
        what,
        answer: (durable) => {
          clearTimeout(deadline);
          if (!waits.delete(wait)) return;
          this.forgetIfIdle(campaignId);
          resolve(durable);
        },
      };
      const deadline = setTimeout(() => wait.answer(false), timeoutMs);
      waits.add(wait);
    });
    // A read already under way answers this wait too, if it finds the checkpoint far enough.
    if (!campaign.reading) void this.read(campaignId);
    return answered;
  }

  close(): void {
    this.closed = true;
    this.subscription?.unsubscribe();
    for (const campaign of [...this.campaigns.values()]) {
      for (const wait of [...campaign.waits]) wait.answer(false);
    }
  }

  private noticed(campaignId: string, seq: number | undefined): void {
    const campaign = this.campaigns.get(campaignId);
    if (!campaign) return;
    // A flush that stops short of every wait cannot answer one: no read for it.
    if (typeof seq === 'number' && ![...campaign.waits].some((wait) => wait.seq <= seq)) return;
    void this.read(campaignId);
  }

  /** One read at a time per campaign; a call during it asks for one more after it. */
  private async read(campaignId: string): Promise<void> {
    const campaign = this.campaigns.get(campaignId);
    if (!campaign) return;
    if (campaign.reading) {
      campaign.again = true;
      return;
    }
    campaign.reading = true;
    try {
      do {
        campaign.again = false;
        let durable: DurableSeqs;
        try {
          durable = await this.readSeq(campaignId);
        } catch {
          // Postgres unreachable: the waits go on until their deadlines; the replies say durable: false.
          return;
        }
        for (const wait of [...campaign.waits]) if (wait.seq <= durable[wait.what]) wait.answer(true);
      } while (campaign.again && campaign.waits.size > 0);
    } finally {
      campaign.reading = false;
    }
  }

  private forgetIfIdle(campaignId: string): void {
    const campaign = this.campaigns.get(campaignId);
    if (!campaign || campaign.waits.size > 0) return;
    clearInterval(campaign.ticker);
    this.campaigns.delete(campaignId);
  }
}
