import { Inject, Module } from '@nestjs/common';
import type { BeforeApplicationShutdown, DynamicModule, OnApplicationBootstrap } from '@nestjs/common';
import type { Config } from '@lorekeeper/config';
import type { Logger } from 'pino';
import type { RunningWorker } from './service';
import { startPersistenceWorker } from './service';

const WORKER_SETTINGS = Symbol('WORKER_SETTINGS');

interface WorkerSettings {
  readonly config: Config;
  readonly logger: Logger;
}

/**
 * NestJS owns the lifecycle only: start the worker when the application context boots, stop it
 * gracefully before shutdown. The worker itself is plain code (service.ts, worker.ts).
 */
@Module({})
export class WorkerModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running: RunningWorker | undefined;

  constructor(@Inject(WORKER_SETTINGS) private readonly settings: WorkerSettings) {}

  static forSettings(settings: WorkerSettings): DynamicModule {
    return { module: WorkerModule, providers: [{ provide: WORKER_SETTINGS, useValue: settings }] };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.running = await startPersistenceWorker(this.settings.config, this.settings.logger);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.running?.close();
  }
}
