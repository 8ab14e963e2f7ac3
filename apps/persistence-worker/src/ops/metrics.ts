import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the persistence worker reports on /metrics. */
export interface WorkerMetrics {
  readonly registry: Registry;
  readonly eventsFolded: Counter;
  readonly flushes: Counter<'trigger' | 'outcome'>;
  readonly rowsWritten: Counter<'kind'>;
  readonly flushSeconds: Histogram;
  readonly lagEvents: Gauge<'campaign'>;
  readonly lagSeconds: Gauge<'campaign'>;
  readonly ownedCampaigns: Gauge;
  readonly quarantined: Gauge;
  readonly deadLetters: Counter;
  readonly replaySnapshots: Counter<'holds' | 'outcome'>;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lorekeeper_worker_' });
  const registers = [registry];
  return {
    registry,
    eventsFolded: new Counter({
      name: 'lorekeeper_events_folded_total',
      help: 'Stream entries folded',
      registers,
    }),
    flushes: new Counter({
      name: 'lorekeeper_flushes_total',
      help: 'Checkpoint flushes by trigger and outcome',
      labelNames: ['trigger', 'outcome'],
      registers,
    }),
    rowsWritten: new Counter({
      name: 'lorekeeper_rows_written_total',
      help:
        'Postgres rows written by flushes (entities upserted and deleted, events archived) and by replay ' +
        'snapshots (kind="snapshot", their entity rows)',
      labelNames: ['kind'],
      registers,
    }),
    flushSeconds: new Histogram({
      name: 'lorekeeper_flush_duration_seconds',
      help: 'Time of one flush transaction',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    lagEvents: new Gauge({
      name: 'lorekeeper_campaign_lag_events',
      help: 'Events folded but not yet durable, per campaign',
      labelNames: ['campaign'],
      registers,
    }),
    lagSeconds: new Gauge({
      name: 'lorekeeper_campaign_lag_seconds',
      help: 'Age of the oldest event not yet durable, per campaign',
      labelNames: ['campaign'],
      registers,
    }),
    ownedCampaigns: new Gauge({
      name: 'lorekeeper_owned_campaigns',
      help: 'Campaigns this worker holds the lease of',
      registers,
    }),
    quarantined: new Gauge({
      name: 'lorekeeper_quarantined_campaigns',
      help: 'Campaigns stopped by a poison entry in this worker',
      registers,
    }),
    deadLetters: new Counter({
      name: 'lorekeeper_dead_letters_total',
      help: 'Entries recorded as dead letters',
      registers,
    }),
    replaySnapshots: new Counter({
      name: 'lorekeeper_replay_snapshots_total',
      help: 'Replay snapshots by what they hold (every-entity or changes) and outcome (taken, failed, abandoned)',
      labelNames: ['holds', 'outcome'],
      registers,
    }),
  };
}
