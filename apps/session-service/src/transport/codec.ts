import { randomUUID } from 'node:crypto';
import type { ConsumerDeserializer, ConsumerSerializer, IncomingRequest } from '@nestjs/microservices';
import { headers as natsHeaders } from 'nats';
import type { MsgHdrs } from 'nats';
import type { ErrorReply } from '@lorekeeper/protocol';
import {
  ERROR_CODE_HEADER,
  ERROR_MESSAGE_HEADER,
  STATUS_BY_CODE,
  decodeBody,
  errorReply,
  isErrorReply,
} from '@lorekeeper/protocol';
import { LorekeeperError } from '@lorekeeper/domain';

/** A request body that could not be decoded; the handler answers it with this error. */
export class UndecodableBody {
  constructor(readonly error: LorekeeperError) {}
}

/**
 * Plain JSON in: the body is the request itself, no NestJS envelope. It never throws (a throw here
 * would crash the process from inside the NATS subscription) and gives every message an id, so
 * every request is answered, even a malformed one.
 */
export class PlainJsonDeserializer implements ConsumerDeserializer {
  deserialize(value: Uint8Array, options?: { channel?: string }): IncomingRequest {
    let data: unknown;
    try {
      data = decodeBody(value);
    } catch (error) {
      data = new UndecodableBody(
        error instanceof LorekeeperError
          ? error
          : new LorekeeperError('BAD_REQUEST', 'request body is unreadable'),
      );
    }
    return { id: randomUUID(), pattern: options?.channel ?? '', data };
  }
}

interface OutgoingPacket {
  readonly response?: unknown;
  readonly err?: unknown;
}

/**
 * Plain JSON out: the reply object itself. Failure replies also carry the NATS service-error
 * headers; an exception that escaped a handler becomes INTERNAL (it is a bug: handlers map every
 * error they know).
 */
export class PlainJsonSerializer implements ConsumerSerializer {
  serialize(packet: OutgoingPacket): { data: Uint8Array; headers?: MsgHdrs } {
    const reply: unknown =
      packet.err !== undefined
        ? errorReply(new LorekeeperError('INTERNAL', 'internal error while handling the request'))
        : packet.response;
    const data = new TextEncoder().encode(JSON.stringify(reply ?? {}));
    if (!isErrorReply(reply)) return { data };
    return { data, headers: errorHeaders(reply) };
  }
}

export function errorHeaders(reply: ErrorReply): MsgHdrs {
  const headers = natsHeaders();
  headers.set(ERROR_CODE_HEADER, String(STATUS_BY_CODE[reply.error.code]));
  // Header values cannot hold line breaks.
  headers.set(ERROR_MESSAGE_HEADER, reply.error.message.replace(/[\r\n]+/g, ' ').slice(0, 1_000));
  return headers;
}
