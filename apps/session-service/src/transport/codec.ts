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
  /** NestJS pairs a reply with its request by this id; unique per process is enough. */
  private received = 0;

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
    this.received += 1;
    return { id: String(this.received), pattern: options?.channel ?? '', data };
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

/**
 * What to send instead of a reply that NATS refused as larger than its max_payload (an export of a
 * big world, or an error that quotes a huge request back). An error keeps its code with a shortened
 * message and no details; a success becomes PAYLOAD_TOO_LARGE.
 */
export function shrunkReply(reply: unknown, replyBytes: number, maxPayload: number | undefined): ErrorReply {
  const limit = maxPayload === undefined ? "NATS's max_payload" : `NATS's max_payload of ${maxPayload} bytes`;
  if (isErrorReply(reply)) {
    return errorReply(
      new LorekeeperError(
        reply.error.code,
        `${reply.error.message.slice(0, 1_000)} [shortened: the full reply of ${replyBytes} bytes is over ${limit}]`,
      ),
    );
  }
  return errorReply(
    new LorekeeperError('PAYLOAD_TOO_LARGE', `the reply is ${replyBytes} bytes, over ${limit}`, {
      replyBytes,
      ...(maxPayload === undefined ? {} : { limit: maxPayload }),
    }),
  );
}
