import 'reflect-metadata';
import type { Server } from 'node:http';
import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import type { Config } from '@lorekeeper/config';
import { withoutCredentials } from '@lorekeeper/config';
import { referenceRegistry } from '@lorekeeper/domain';
import { PinoNestLogger, portOf, startOpsServer } from '@lorekeeper/ops';
import type { SessionDeps } from './deps';
import type { DurabilityWaiter } from './durability';
import { CheckpointPollingWaiter } from './durability';
import { CampaignGate } from './campaign-gate';
import { EntityOrder } from './entity-order';
import { LiveCache } from './live-cache';
import { LoadedRegions } from './loaded-regions';
import { SeqFloors } from './seq-floors';
import { createSessionMetrics } from './ops/metrics';
import { SessionModule } from './session.module';
import { closeAll, connectAll, storeReadiness } from '@lorekeeper/runtime';
import { LorekeeperNatsServer } from './transport/server';

export interface RunningSessionService {
  readonly deps: SessionDeps;
  readonly httpPort: number;
  /** Graceful: stop taking requests, answer those in flight, then close every connection. */
  close(): Promise<void>;
}

export interface SessionServiceOptions {
  /** Replace how durability is awaited (tests of the timeout path). */
  readonly durability?: DurabilityWaiter;
}

/** Connect, serve the NATS subjects and the ops endpoints; everything main.ts runs, callable in a test. */
export async function startSessionService(
  config: Config,
  logger: Logger,
  options: SessionServiceOptions = {},
): Promise<RunningSessionService> {
  // Many requests in flight, each a few Redis commands: let them share writes.
  const connections = await connectAll(config, 'lorekeeper-session-service', { autoPipelining: true });
  const metrics = createSessionMetrics();
  const durability =
    options.durability ?? new CheckpointPollingWaiter(connections.db).listen(connections.nats);
  const deps: SessionDeps = {
    config,
    registry: referenceRegistry,
    ...connections,
    durability,
    metrics,
    logger,
    appendGate: new CampaignGate(config.sessionService.appendConcurrency),
    entityOrder: new EntityOrder(),
    seqFloors: new SeqFloors(),
    loadedRegions: new LoadedRegions(),
    liveCache: new LiveCache(config.sessionService.liveCacheBytes),
    now: () => new Date(),
  };
  let app: INestMicroservice | undefined;
  let ops: Server | undefined;
  try {
    app = await NestFactory.createMicroservice(SessionModule.forDeps(deps), {
      strategy: new LorekeeperNatsServer({
        servers: withoutCredentials(config.natsUrl),
        ...(config.natsAuth ? { user: config.natsAuth.user, pass: config.natsAuth.pass } : {}),
        name: 'lorekeeper-session-service',
        queue: config.sessionService.queueGroup,
        maxReconnectAttempts: -1,
      }),
      logger: new PinoNestLogger(logger),
    });
    await app.listen();
    ops = await startOpsServer(config.sessionService.httpPort, metrics.registry, () =>
      storeReadiness(connections),
    );
  } catch (error) {
    await app?.close();
    await closeAll(connections);
    throw error;
  }
  const started = { app, ops };
  return {
    deps,
    httpPort: portOf(ops),
    close: async () => {
      await started.app.close();
      durability.close();
      started.ops.close();
      await closeAll(connections);
    },
  };
}
