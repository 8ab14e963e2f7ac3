import pino from 'pino';
import { ConfigError, loadConfig, redact } from '@lorekeeper/config';
import { startSessionService } from './service';
import { StartupError } from '@lorekeeper/runtime';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel, base: { service: 'session-service' } });
  const service = await startSessionService(config, logger);
  logger.info(
    {
      natsUrl: redact(config.natsUrl),
      queueGroup: config.sessionService.queueGroup,
      httpPort: service.httpPort,
    },
    'session service ready',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    await service.close();
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
  process.stderr.write(`session-service: ${message}\n`);
  process.exit(1);
});
