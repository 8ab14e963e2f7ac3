import { isUnavailable } from '@lorekeeper/config';
import type { SyncTrigger } from '@lorekeeper/pg-store';
import { campaignsWithStatus, findCampaign, pruneSyncLog } from '@lorekeeper/pg-store';
import {
  acquireLease,
  activeCampaigns,
  campaignsWithSession,
  deleteCampaignKeys,
  heartbeatWorker,
  readHeadSeq,
  releaseLease,
  removeWorker,
} from '@lorekeeper/redis-store';
import { CampaignConsumer } from './campaign-consumer';
import type { WorkerDeps } from './deps';
import { CopySlots, ReplaySnapshots } from './replay-snapshots';

const IDLE_SLEEP_MS = 10;
/** How often new campaigns are looked for (one set read). */
const DISCOVERY_MS = 200;
/** At most one warning this often about campaigns that could not be taken over (Postgres down). */
const ADOPT_WARNING_MS = 5_000;
/**
 * How often the campaigns this worker found quarantined are looked up again (one query): an operator's
 * `lorekeeper dead-letters retry` or `skip` sets them active, and then they are adopted like any other.
 */
const QUARANTINE_RECHECK_MS = 5_000;
/** How often the sync log loses its rows older than SYNC_LOG_KEEP_DAYS (the first time at start). */
const SYNC_LOG_PRUNE_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The persistence worker's loop: discover campaigns with a session, take the lease of those nobody
 * holds (up to a fair share of them), and step each owned campaign's consumer. Leases are renewed on
 * a timer of their own, so a slow step never costs a lease; a worker that dies or is paused loses
 * them and the others take its campaigns over.
 */
export class Worker {
  private readonly consumers = new Map<string, CampaignConsumer>();
  /** Per campaign, kept while its consumer runs or a snapshot of it is being copied. */
  private readonly snapshots = new Map<string, ReplaySnapshots>();
  private readonly copySlots = new CopySlots();
  private running = false;
  /**
   * Settles the current iteration's `woken` promise (see requestFlush): a request during the loop's
   * reads skips its idle sleep, one during the sleep ends it.
   */
  private wakeUp: () => void = () => undefined;
  private loop: Promise<void> | undefined;
  private renewal: NodeJS.Timeout | undefined;
  private renewing = false;
  private nextDiscovery = 0;
  private liveWorkers = 1;
  private readonly quarantined = new Set<string>();
  /** Campaigns in the active set that this worker's database does not have (another deployment's). */
  private readonly unknown = new Set<string>();
  private adoptWarnedAt = 0;
  private nextQuarantineCheck = 0;
  private nextSyncLogPrune = 0;
  private pruning: Promise<void> | undefined;

  constructor(private readonly deps: WorkerDeps) {}

  get owned(): string[] {
    return [...this.consumers.keys()];
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.renewal = setInterval(
      () => void this.renew(),
      Math.max(50, Math.floor(this.deps.config.worker.leaseMs / 3)),
    );
    this.loop = this.run();
  }

  /** Stop taking work, flush what every owned campaign has folded, and give the leases up. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.pruning;
    // Snapshots being copied are abandoned (they roll back) rather than waited for.
    await Promise.all([...this.snapshots.values()].map((snapshots) => snapshots.settled()));
    this.snapshots.clear();
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
    clearInterval(this.renewal);
    this.consumers.clear();
    await removeWorker(this.deps.redis, this.deps.workerId).catch(() => undefined);
  }

  /**
   * A save or session end for `campaignId`, or an append of a major event waiting to be durable; only
   * the owner acts on it. Either way the loop reads at once instead of after its idle sleep; a major
   * event then makes its own flush, so it asks for nothing more.
   */
  requestFlush(campaignId: string, trigger: SyncTrigger): void {
    const consumer = this.consumers.get(campaignId);
    if (!consumer) return;
    if (trigger !== 'major') consumer.requestFlush(trigger);
    this.wakeUp();
  }

  private async run(): Promise<void> {
    await this.renew();
    while (this.running) {
      const now = Date.now();
      let handled = 0;
      const woken = new Promise<void>((resolve) => (this.wakeUp = resolve));
      try {
        if (now >= this.nextDiscovery) {
          await this.discover();
          this.nextDiscovery = now + DISCOVERY_MS;
        }
        if (now >= this.nextSyncLogPrune) {
          this.nextSyncLogPrune = now + SYNC_LOG_PRUNE_MS;
          this.pruning ??= this.pruneSyncLog(now).finally(() => (this.pruning = undefined));
        }
        for (const consumer of this.consumers.values()) handled += await this.stepSafely(consumer, now);
      } catch (error) {
        this.deps.logger.warn(
          { err: error },
          isUnavailable(error) ? 'a store is unreachable; retrying' : 'worker loop error',
        );
        await sleep(500);
      }
      if (handled === 0) {
        // Nothing read: wait a little, or less when a consumer waits only for its flush to finish
        // (catching up, it has folded as far as the backlog bound allows), so the next flush starts
        // as soon as Postgres is free instead of up to IDLE_SLEEP_MS later; a request ends it too.
        const flushes = [...this.consumers.values()].flatMap((consumer) => consumer.waitingFor ?? []);
        await sleepUnless(IDLE_SLEEP_MS, [...flushes, woken]);
      }
    }
  }

  /**
   * Drop flushes older than SYNC_LOG_KEEP_DAYS from the sync log, beside the loop (every worker does;
   * a row two of them reach is deleted once). A failure waits for the next hour: nothing depends on it.
   */
  private async pruneSyncLog(now: number): Promise<void> {
    const { syncLogKeepDays } = this.deps.config.worker;
    if (syncLogKeepDays === 0) return;
    try {
      const deleted = await pruneSyncLog(this.deps.db, new Date(now - syncLogKeepDays * DAY_MS));
      if (deleted > 0) {
        this.deps.logger.info({ deleted, keepDays: syncLogKeepDays }, 'pruned the sync log');
      }
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'could not prune the sync log; trying again in an hour');
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

  /** Heartbeat, and renew every held lease; a lease found taken marks its consumer lost. */
  private async renew(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      const { leaseMs } = this.deps.config.worker;
      this.liveWorkers = await heartbeatWorker(this.deps.redis, this.deps.workerId, leaseMs);
      for (const consumer of this.consumers.values()) {
        if (consumer.status !== 'running') continue;
        if (!(await acquireLease(this.deps.redis, consumer.campaignId, this.deps.workerId, leaseMs))) {
          consumer.markLost();
          continue;
        }
      }
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'could not renew the leases; retrying');
    } finally {
      this.renewing = false;
    }
  }

  /** Take free campaigns up to a fair share, hand extra ones over, let go of what ended or moved. */
  private async discover(): Promise<void> {
    const active = new Set(await activeCampaigns(this.deps.redis));
    for (const [campaignId, consumer] of this.consumers) {
      if (consumer.status === 'running' && active.has(campaignId)) continue;
      await consumer.drain().catch(() => undefined);
      this.consumers.delete(campaignId);
      // The session ended (its keys, the lease among them, are gone): a snapshot being copied
      // finishes. A campaign still active is another worker's now, or quarantined: abandon it.
      await this.releaseSnapshots(campaignId, !active.has(campaignId));
      if (consumer.status === 'quarantined') this.quarantined.add(campaignId);
      if (consumer.status !== 'lost') await releaseLease(this.deps.redis, campaignId, this.deps.workerId);
      this.forgetMetrics(campaignId);
      this.deps.logger.info({ campaignId, status: consumer.status }, 'released campaign');
    }
    await this.recheckQuarantined();
    // Each worker takes its fair share, so several workers split the campaigns between them.
    const eligible = await campaignsWithSession(
      this.deps.redis,
      [...active].filter((id) => !this.quarantined.has(id) && !this.unknown.has(id)),
    );
    const fairShare = Math.ceil(eligible.length / this.liveWorkers);
    if (this.consumers.size > fairShare) await this.handOver(this.consumers.size - fairShare);
    for (const campaignId of eligible) {
      if (this.consumers.size >= fairShare) break;
      if (this.consumers.has(campaignId)) continue;
      try {
        await this.adopt(campaignId);
      } catch (error) {
        // Taking a campaign over reads Postgres. While it is unreachable the campaigns this worker
        // owns must keep folding, reporting their lag and retrying their flushes: a throw here
        // would skip stepping them on every loop until Postgres is back.
        if (Date.now() - this.adoptWarnedAt >= ADOPT_WARNING_MS) {
          this.adoptWarnedAt = Date.now();
          this.deps.logger.warn({ campaignId, err: error }, 'could not take a campaign over; will retry');
        }
      }
    }
    this.deps.metrics.ownedCampaigns.set(this.consumers.size);
    this.deps.metrics.quarantined.set(this.quarantined.size);
  }

  /** Forget the quarantine of campaigns an operator set active again, so they are adopted anew. */
  private async recheckQuarantined(): Promise<void> {
    if (this.quarantined.size === 0 || Date.now() < this.nextQuarantineCheck) return;
    this.nextQuarantineCheck = Date.now() + QUARANTINE_RECHECK_MS;
    try {
      for (const campaignId of await campaignsWithStatus(this.deps.db, [...this.quarantined], 'active')) {
        this.quarantined.delete(campaignId);
        this.deps.logger.info(
          { campaignId },
          'quarantine lifted by an operator; adopting the campaign again',
        );
      }
    } catch (error) {
      // Postgres away: the campaigns stay quarantined here until the next check succeeds.
      this.deps.logger.warn({ err: error }, 'could not re-check quarantined campaigns; will retry');
    }
  }

  /** Give campaigns up for other workers (one joined): flush them first, then free their leases. */
  private async handOver(count: number): Promise<void> {
    for (const consumer of [...this.consumers.values()].slice(0, count)) {
      await consumer.drain();
      this.consumers.delete(consumer.campaignId);
      await this.releaseSnapshots(consumer.campaignId, false);
      await releaseLease(this.deps.redis, consumer.campaignId, this.deps.workerId);
      this.deps.logger.info(
        { campaignId: consumer.campaignId },
        'handed the campaign over to share the load',
      );
    }
  }

  /**
   * The campaign's consumer is gone. `finish`: let a snapshot being copied complete in the background,
   * then forget the campaign's snapshots unless a new consumer took them up; otherwise abandon it now.
   */
  private async releaseSnapshots(campaignId: string, finish: boolean): Promise<void> {
    const snapshots = this.snapshots.get(campaignId);
    if (!snapshots) return;
    if (!finish) {
      this.snapshots.delete(campaignId);
      await snapshots.settled();
      return;
    }
    void snapshots.idle().then(() => {
      if (!this.consumers.has(campaignId) && this.snapshots.get(campaignId) === snapshots) {
        this.snapshots.delete(campaignId);
      }
    });
  }

  /** A campaign this worker no longer holds must not keep reporting its last lag. */
  private forgetMetrics(campaignId: string): void {
    const labels = { campaign: campaignId };
    this.deps.metrics.lagEvents.remove(labels);
    this.deps.metrics.lagSeconds.remove(labels);
  }

  private async adopt(campaignId: string): Promise<void> {
    const { leaseMs } = this.deps.config.worker;
    // The lease first: a campaign another worker holds costs one Redis call, not a Postgres query.
    if (!(await acquireLease(this.deps.redis, campaignId, this.deps.workerId, leaseMs))) return;
    const campaign = await findCampaign(this.deps.db, campaignId).catch(async (error: unknown) => {
      await releaseLease(this.deps.redis, campaignId, this.deps.workerId);
      throw error;
    });
    if (!campaign || campaign.status === 'quarantined') {
      (campaign ? this.quarantined : this.unknown).add(campaignId);
      await releaseLease(this.deps.redis, campaignId, this.deps.workerId);
      return;
    }
    const head = await readHeadSeq(this.deps.redis, campaignId);
    if (head < campaign.archived.seq) {
      // Redis came back older than Postgres (its checkpoint, or the archive a major event's flush
      // took past it): continuing would overwrite newer durable state. Drop the campaign's Redis
      // copy; the game gets SESSION_NOT_FOUND and starts again from Postgres.
      this.deps.logger.warn(
        {
          campaignId,
          redisSeq: head,
          checkpointSeq: campaign.checkpoint.seq,
          archivedSeq: campaign.archived.seq,
        },
        'Redis is behind what Postgres holds; dropping its copy of the campaign',
      );
      await deleteCampaignKeys(this.deps.redis, campaignId);
      return;
    }
    let snapshots = this.snapshots.get(campaignId);
    if (!snapshots) {
      snapshots = new ReplaySnapshots(this.deps, campaignId, this.copySlots);
      this.snapshots.set(campaignId, snapshots);
    }
    this.consumers.set(
      campaignId,
      new CampaignConsumer(this.deps, campaignId, campaign.checkpoint, snapshots, campaign.archived),
    );
    this.deps.logger.info({ campaignId, checkpoint: campaign.checkpoint.seq }, 'took the campaign over');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sleep `ms`, or until one of `wake` settles if that is sooner. */
async function sleepUnless(ms: number, wake: readonly Promise<unknown>[]): Promise<void> {
  if (wake.length === 0) return sleep(ms);
  let timer: NodeJS.Timeout | undefined;
  try {
    const woken = wake.map((promise) => promise.catch(() => undefined));
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), ...woken]);
  } finally {
    clearTimeout(timer);
  }
}
