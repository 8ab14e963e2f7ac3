import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { LorekeeperError } from '@lorekeeper/domain';
import type { ErrorReply } from '@lorekeeper/protocol';
import { errorReply } from '@lorekeeper/protocol';
import { isUnavailable } from '@lorekeeper/config';

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
