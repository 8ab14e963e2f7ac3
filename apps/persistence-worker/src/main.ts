import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import pino from 'pino';
import { ConfigError, loadConfig } from '@lorekeeper/config';
import { PinoNestLogger } from '@lorekeeper/ops';
import { StartupError } from '@lorekeeper/runtime';
import { lowerPriority } from './priority';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel, base: { service: 'persistence-worker' } });
  if (config.worker.nice > 0) {
    const outcome = lowerPriority(config.worker.nice);
    if (outcome.error === undefined) logger.info(outcome, 'running at a lower CPU priority (WORKER_NICE)');
    else logger.warn(outcome, 'could not lower the CPU priority of every thread (WORKER_NICE)');
  }
  const app = await NestFactory.createApplicationContext(WorkerModule.forSettings({ config, logger }), {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: flushing owned campaigns');
    await app.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

main().catch((error: unknown) => {
  const known = error instanceof StartupError || error instanceof ConfigError;
  const message = known
    ? error.message
    : `failed to start: ${error instanceof Error ? error.stack : String(error)}`;
  process.stderr.write(`persistence-worker: ${message}\n`);
  process.exit(1);
});
