import { ConfigError, ServiceUnreachableError } from '@lorekeeper/config';
import { isLorekeeperError } from '@lorekeeper/domain';
import { CommanderError } from 'commander';
import type { ExitCode } from './exit-codes';
import { EXIT } from './exit-codes';

/**
 * Raised by a command for a refused or failed operation; the message is user-facing. `resultPrinted`
 * says the command already wrote its (failed) result to stdout, so `--json` gets exactly one document.
 */
export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';

  constructor(
    message: string,
    readonly resultPrinted = false,
  ) {
    super(message);
  }
}

/** A bad argument found only once the command ran (e.g. a point of the log that names nothing): exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The one place errors become exit codes and messages (STYLE.md: map codes only at the edge). */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof ConfigError || error instanceof UsageError) return EXIT.usage;
  if (error instanceof ServiceUnreachableError) return EXIT.unreachable;
  return EXIT.failed;
}

/** A message for stderr; JSON consumers also get `{ok: false, error: {...}}` on stdout. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof ServiceUnreachableError) return { code: 'UNAVAILABLE', message: error.message };
  if (error instanceof ConfigError) return { code: 'BAD_CONFIGURATION', message: error.message };
  if (isLorekeeperError(error)) return { code: error.code, message: `${error.code}: ${error.message}` };
  if (error instanceof CommandFailedError) return { code: 'FAILED', message: error.message };
  if (error instanceof UsageError) return { code: 'BAD_REQUEST', message: error.message };
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { code: 'INTERNAL', message: `unexpected error: ${message}` };
}
