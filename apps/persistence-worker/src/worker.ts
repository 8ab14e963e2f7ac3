import { isUnavailable } from '@lorekeeper/config';
import type { SyncTrigger } from '@lorekeeper/pg-store';
import { findCampaign } from '@lorekeeper/pg-store';
import {
  acquireLease,
  activeCampaigns,
  deleteCampaignKeys,
  pendingCount,
  readHeadSeq,
  releaseLease,
} from '@lorekeeper/redis-store';
import { CampaignConsumer } from './campaign-consumer';
import type { WorkerDeps } from './deps';

const IDLE_SLEEP_MS = 10;
/** How often new campaigns are looked for (a set read); leases are renewed at a third of their life. */
const DISCOVERY_MS = 200;

/**
 * The persistence worker's loop: discover campaigns with a session, take the lease of those nobody
 * holds, renew its own, and step each owned campaign's consumer. Several workers share campaigns;
 * one that dies loses its leases and the others take its campaigns over.
 */
export class Worker {
  private readonly consumers = new Map<string, CampaignConsumer>();
  private running = false;
  private loop: Promise<void> | undefined;
  private nextDiscovery = 0;
  private nextRenewal = 0;

  constructor(private readonly deps: WorkerDeps) {}

  get owned(): string[] {
    return [...this.consumers.keys()];
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stop taking work, flush what every owned campaign has folded, and give the leases up. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const consumer of this.consumers.values()) {
      try {
        await consumer.drain();
        await releaseLease(this.deps.redis, consumer.campaignId, this.deps.workerId);
      } catch (error) {
        this.deps.logger.warn(
          { campaignId: consumer.campaignId, err: error },
          'could not finish the campaign at shutdown',
        );
      }
    }
    this.consumers.clear();
  }

  /** A save or session end for `campaignId`; only the owner acts on it. */
  requestFlush(campaignId: string, trigger: SyncTrigger): void {
    this.consumers.get(campaignId)?.requestFlush(trigger);
  }

  private async run(): Promise<void> {
    while (this.running) {
      const now = Date.now();
      let handled = 0;
      try {
        if (now >= this.nextDiscovery) {
          const renew = now >= this.nextRenewal;
          await this.discover(renew);
          this.nextDiscovery = now + DISCOVERY_MS;
          if (renew) this.nextRenewal = now + Math.floor(this.deps.config.worker.leaseMs / 3);
        }
        for (const consumer of this.consumers.values()) handled += await this.stepSafely(consumer, now);
      } catch (error) {
        this.deps.logger.warn(
          { err: error },
          isUnavailable(error) ? 'a store is unreachable; retrying' : 'worker loop error',
        );
        await sleep(500);
      }
      if (handled === 0) await sleep(IDLE_SLEEP_MS);
    }
  }

  private async stepSafely(consumer: CampaignConsumer, now: number): Promise<number> {
    try {
      return await consumer.step(now);
    } catch (error) {
      this.deps.logger.warn(
        { campaignId: consumer.campaignId, err: error },
        'campaign step failed; will retry',
      );
      return 0;
    }
  }

  /** Take free campaigns, renew held leases, and let go of what ended or moved elsewhere. */
  private async discover(renew: boolean): Promise<void> {
    const active = new Set(await activeCampaigns(this.deps.redis));
    for (const [campaignId, consumer] of this.consumers) {
      const keep =
        consumer.status === 'running' &&
        active.has(campaignId) &&
        (!renew ||
          (await acquireLease(
            this.deps.redis,
            campaignId,
            this.deps.workerId,
            this.deps.config.worker.leaseMs,
          )));
      if (!keep) {
        await consumer.drain().catch(() => undefined);
        this.consumers.delete(campaignId);
        if (consumer.status !== 'lost') await releaseLease(this.deps.redis, campaignId, this.deps.workerId);
        this.deps.logger.info({ campaignId, status: consumer.status }, 'released campaign');
        continue;
      }
      this.deps.metrics.pending.set(
        { campaign: campaignId },
        await pendingCount(this.deps.redis, campaignId),
      );
    }
    for (const campaignId of active) {
      if (this.consumers.has(campaignId)) continue;
      await this.adopt(campaignId);
    }
    this.deps.metrics.ownedCampaigns.set(this.consumers.size);
  }

  private async adopt(campaignId: string): Promise<void> {
    const campaign = await findCampaign(this.deps.db, campaignId);
    if (!campaign || campaign.status === 'quarantined') return;
    if (
      !(await acquireLease(this.deps.redis, campaignId, this.deps.workerId, this.deps.config.worker.leaseMs))
    )
      return;
    const head = await readHeadSeq(this.deps.redis, campaignId);
    if (head < campaign.checkpoint.seq) {
      // Redis came back older than Postgres: continuing would overwrite newer durable state. Drop
      // the campaign's Redis copy; the game gets SESSION_NOT_FOUND and starts again from Postgres.
      this.deps.logger.warn(
        { campaignId, redisSeq: head, checkpointSeq: campaign.checkpoint.seq },
        'Redis is behind the Postgres checkpoint; dropping its copy of the campaign',
      );
      await deleteCampaignKeys(this.deps.redis, campaignId);
      return;
    }
    this.consumers.set(campaignId, new CampaignConsumer(this.deps, campaignId, campaign.checkpoint));
    this.deps.logger.info({ campaignId, checkpoint: campaign.checkpoint.seq }, 'took the campaign over');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
