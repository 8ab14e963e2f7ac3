import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import type { Config } from '@lorekeeper/config';
import { referenceRegistry } from '@lorekeeper/domain';
import { closeAll, connectAll, storeReadiness } from '@lorekeeper/runtime';
import { portOf, startOpsServer } from '@lorekeeper/ops';
import type { DurableNotice, FlushRequest } from '@lorekeeper/protocol';
import { FLUSH_REQUEST_SUBSCRIPTION, durableSubject } from '@lorekeeper/protocol';
import type { WorkerDeps } from './deps';
import { createWorkerMetrics } from './ops/metrics';
import { Worker } from './worker';

export interface RunningWorker {
  readonly worker: Worker;
  readonly deps: WorkerDeps;
  readonly httpPort: number;
  /** Graceful: stop reading, flush every owned campaign, release the leases, close connections. */
  close(): Promise<void>;
}

/** Connect, start the consumer loop, listen for flush requests and serve the ops endpoints. */
export async function startPersistenceWorker(config: Config, logger: Logger): Promise<RunningWorker> {
  const connections = await connectAll(config, 'lorekeeper-persistence-worker');

  const metrics = createWorkerMetrics();
  const workerId = `worker-${randomUUID()}`;
  const deps: WorkerDeps = {
    config,
    registry: referenceRegistry,
    ...connections,
    metrics,
    logger,
    workerId,
    announceDurable: (notice) => announceDurable(connections.nats, notice, logger),
  };
  const worker = new Worker(deps);
  const flushRequests = listenForFlushRequests(connections.nats, worker, logger);
  worker.start();
  let ops: Server;
  try {
    ops = await startOpsServer(config.worker.httpPort, metrics.registry, () => storeReadiness(connections));
  } catch (error) {
    await worker.stop();
    await closeAll(connections);
    throw error;
  }
  logger.info({ workerId, httpPort: portOf(ops) }, 'persistence worker ready');
  return {
    worker,
    deps,
    httpPort: portOf(ops),
    close: async () => {
      flushRequests.unsubscribe();
      await worker.stop();
      ops.close();
      await closeAll(connections);
    },
  };
}

/** Best effort: a session service that misses the notice reads the checkpoint on its own soon after. */
function announceDurable(nats: NatsConnection, notice: DurableNotice, logger: Logger): void {
  try {
    nats.publish(durableSubject(notice.campaignId), JSON.stringify(notice));
  } catch (error) {
    logger.debug({ err: error, campaignId: notice.campaignId }, 'could not announce a flush');
  }
}

function listenForFlushRequests(nats: NatsConnection, worker: Worker, logger: Logger): Subscription {
  return nats.subscribe(FLUSH_REQUEST_SUBSCRIPTION, {
    callback: (error, message) => {
      if (error) return logger.warn({ err: error }, 'flush request subscription error');
      try {
        const request = JSON.parse(new TextDecoder().decode(message.data)) as FlushRequest;
        worker.requestFlush(request.campaignId, request.trigger);
      } catch {
        logger.warn({ subject: message.subject }, 'ignored a malformed flush request');
      }
    },
  });
}
