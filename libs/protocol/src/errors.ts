import type { ErrorCode, ErrorDetails } from '@lorekeeper/domain';
import { LorekeeperError, isErrorCode } from '@lorekeeper/domain';

/** A failure reply, exactly as PROTOCOL.md specifies it. */
export interface ErrorReply {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly details?: ErrorDetails };
}

/** The HTTP-like number carried in the `Nats-Service-Error-Code` header. */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNKNOWN_EVENT_TYPE: 400,
  VALIDATION_FAILED: 422,
  UNKNOWN_ENTITY: 404,
  VERSION_CONFLICT: 409,
  CAMPAIGN_NOT_FOUND: 404,
  CAMPAIGN_EXISTS: 409,
  SESSION_NOT_FOUND: 404,
  SESSION_CLOSING: 409,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export const ERROR_CODE_HEADER = 'Nats-Service-Error-Code';
export const ERROR_MESSAGE_HEADER = 'Nats-Service-Error';

export function errorReply(error: LorekeeperError): ErrorReply {
  return {
    error:
      error.details === undefined
        ? { code: error.code, message: error.message }
        : { code: error.code, message: error.message, details: error.details },
  };
}

export function isErrorReply(value: unknown): value is ErrorReply {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = value.error;
  return typeof error === 'object' && error !== null && 'code' in error && isErrorCode(error.code);
}

/** Turn a reply back into the error it carries (for clients). */
export function errorFromReply(reply: ErrorReply): LorekeeperError {
  return new LorekeeperError(reply.error.code, reply.error.message, reply.error.details);
}
