/**
 * Every failure the product can report carries one of these codes (PROTOCOL.md, "Error codes").
 * The domain raises the ones it can know about; the edges map them to wire replies and exit codes.
 */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNKNOWN_EVENT_TYPE',
  'VALIDATION_FAILED',
  'UNKNOWN_ENTITY',
  'VERSION_CONFLICT',
  'CAMPAIGN_NOT_FOUND',
  'CAMPAIGN_EXISTS',
  'SESSION_NOT_FOUND',
  'SESSION_CLOSING',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export type ErrorDetails = Readonly<Record<string, unknown>>;

/** An error with a protocol code and a message that says what was expected and what was found. */
export class LorekeeperError extends Error {
  override readonly name = 'LorekeeperError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
  ) {
    super(message);
  }
}

export function isLorekeeperError(error: unknown): error is LorekeeperError {
  return error instanceof LorekeeperError;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

export const badRequest = (message: string, details?: ErrorDetails): LorekeeperError =>
  new LorekeeperError('BAD_REQUEST', message, details);

export const validationFailed = (message: string, details?: ErrorDetails): LorekeeperError =>
  new LorekeeperError('VALIDATION_FAILED', message, details);

export const unknownEntity = (entityId: string, role: string): LorekeeperError =>
  new LorekeeperError('UNKNOWN_ENTITY', `${role} ${entityId} does not exist`, { entityId, role });
