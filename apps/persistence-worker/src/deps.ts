import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '@lorekeeper/config';
import type { DomainRegistry } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import type { DurableNotice } from '@lorekeeper/protocol';
import type { Redis } from '@lorekeeper/redis-store';
import type { WorkerMetrics } from './ops/metrics';

/** What the worker's plain code uses; built once in main.ts (or a test). */
export interface WorkerDeps {
  readonly config: Config;
  readonly registry: DomainRegistry;
  readonly redis: Redis;
  readonly db: Kysely<Database>;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  /** This process's consumer name in every campaign's group, and its lease value. */
  readonly workerId: string;
  /**
   * Told of each flush committed, once it is; the service publishes the notice on
   * `lorekeeper.durable.<id>`, where a session service waiting for a major event, a save or a session
   * end hears it.
   */
  readonly announceDurable?: (notice: DurableNotice) => void;
}
