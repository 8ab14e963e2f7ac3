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

/**
 * Answers "is everything up to `seq` committed in Postgres?", waiting at most `timeoutMs`, or until
 * `signal` aborts (the caller no longer needs the answer): then false, and the wait stops polling.
 */
export interface DurabilityWaiter {
  waitFor(
    campaignId: string,
    seq: number,
    timeoutMs: number,
    what?: Durable,
    signal?: AbortSignal,
  ): Promise<boolean>;
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
 * Answers from the campaign's position, which the persistence worker advances in the same transaction
 * as the data: an archive position (or checkpoint) at or past `seq` means the batch's events are
 * durable, a checkpoint at or past it that the entities are too. A worker announces each flush once it
 * has committed it (`lorekeeper.durable.<id>`, see `listen`): the notice answers the waits it covers
 * at once, without a read. The waits on one campaign also share reads of the position: one when a
 * wait begins (a retried append's batch may be durable already), one every `intervalMs` (a notice is
 * pub/sub, at most once), and one when a notice from a worker older than the `checkpoint` field
 * reaches the seq a save or session end waits for.
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
          if (typeof notice.campaignId === 'string') this.noticed(notice.campaignId, notice);
        } catch {
          // Not a notice: the interval reads the checkpoint anyway.
        }
      },
    });
    return this;
  }

  waitFor(
    campaignId: string,
    seq: number,
    timeoutMs: number,
    what: Durable = 'events',
    signal?: AbortSignal,
  ): Promise<boolean> {
    if (this.closed || signal?.aborted) return Promise.resolve(false);
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
          signal?.removeEventListener('abort', givenUp);
          if (!waits.delete(wait)) return;
          this.forgetIfIdle(campaignId);
          resolve(durable);
        },
      };
      const deadline = setTimeout(() => wait.answer(false), timeoutMs);
      // Given up: the last wait on the campaign gone, its reads of the position stop with it.
      const givenUp = () => wait.answer(false);
      signal?.addEventListener('abort', givenUp, { once: true });
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

  /**
   * A worker committed a flush. Its notice is the worker's word on Postgres, sent only after the commit,
   * and a position only moves forward: it answers the waits it covers as a read would (docs/deploy.md,
   * "Access control", has only Lorekeeper's own services publish on `lorekeeper.>`).
   */
  private noticed(campaignId: string, notice: Partial<DurableNotice>): void {
    const campaign = this.campaigns.get(campaignId);
    if (!campaign) return;
    const events = notice.seq;
    if (typeof events !== 'number') {
      void this.read(campaignId);
      return;
    }
    const checkpoint = typeof notice.checkpoint === 'number' ? notice.checkpoint : undefined;
    this.answer(campaign, { events, checkpoint: checkpoint ?? 0 });
    // A worker older than the checkpoint field names only one seq, which may be the checkpoint a save
    // or session end waits for: read it.
    if (checkpoint === undefined && [...campaign.waits].some((wait) => wait.seq <= events)) {
      void this.read(campaignId);
    }
  }

  /** Answer every wait the position covers. */
  private answer(campaign: CampaignWaits, durable: DurableSeqs): void {
    for (const wait of [...campaign.waits]) if (wait.seq <= durable[wait.what]) wait.answer(true);
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
        this.answer(campaign, durable);
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
