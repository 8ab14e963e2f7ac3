import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the session service reports on /metrics. */
export interface SessionMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'verb' | 'outcome'>;
  readonly appendSeconds: Histogram;
  readonly eventsAppended: Counter;
  readonly casRetries: Counter;
  readonly liveCacheLookups: Counter<'outcome'>;
  readonly storeErrors: Counter<'store'>;
}

export function createSessionMetrics(): SessionMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lorekeeper_session_' });
  return {
    registry,
    requests: new Counter({
      name: 'lorekeeper_requests_total',
      help: 'Requests by verb and outcome (ok, or the error code)',
      labelNames: ['verb', 'outcome'],
      registers: [registry],
    }),
    appendSeconds: new Histogram({
      name: 'lorekeeper_append_duration_seconds',
      help: 'Time from receiving an append to its reply',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    eventsAppended: new Counter({
      name: 'lorekeeper_events_appended_total',
      help: 'Events committed to campaign streams',
      registers: [registry],
    }),
    casRetries: new Counter({
      name: 'lorekeeper_cas_retries_total',
      help: 'Appends re-validated because an entity changed between read and commit',
      registers: [registry],
    }),
    liveCacheLookups: new Counter({
      name: 'lorekeeper_live_cache_lookups_total',
      help: 'Appends validated against the LiveCache (hit), against Redis because an entity was not cached (miss), or against Redis after the cached state refused the batch (stale)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: 'lorekeeper_store_errors_total',
      help: 'Requests that failed because Redis or Postgres was unreachable',
      labelNames: ['store'],
      registers: [registry],
    }),
  };
}
