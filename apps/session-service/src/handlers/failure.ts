import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { LorekeeperError } from '@lorekeeper/domain';
import type { ErrorReply } from '@lorekeeper/protocol';
import { errorReply } from '@lorekeeper/protocol';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
]);

/** True for errors that mean Redis or Postgres cannot be reached right now (the caller may retry). */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return /connection is closed|connection terminated|stream isn't writeable|timeout exceeded when trying to connect|connect ECONNREFUSED|LOADING/i.test(
    error.message,
  );
}

/**
 * The reply for a failed request. Coded errors pass through; an unreachable store is UNAVAILABLE;
 * anything else is a bug, logged with a correlation id that the reply repeats.
 */
export function failureReply(error: unknown, logger: Logger): ErrorReply {
  if (error instanceof LorekeeperError) return errorReply(error);
  if (isUnavailable(error)) {
    logger.warn({ err: error }, 'a store is unavailable');
    return errorReply(
      new LorekeeperError(
        'UNAVAILABLE',
        'Redis or Postgres is unreachable; nothing was applied, retry later',
      ),
    );
  }
  const correlationId = randomUUID();
  logger.error({ err: error, correlationId }, 'internal error');
  return errorReply(
    new LorekeeperError('INTERNAL', `internal error (correlation id ${correlationId})`, { correlationId }),
  );
}
