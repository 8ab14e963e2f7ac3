import pino from 'pino';
import { LorekeeperError } from '@lorekeeper/domain';
import { failureReply } from '../handlers/failure';
import { PlainJsonDeserializer, PlainJsonSerializer, UndecodableBody } from './codec';

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;

describe('the plain JSON codec', () => {
  it('gives every message an id and never throws on a body that is not JSON', () => {
    const request = new PlainJsonDeserializer().deserialize(encode('{nope'), {
      channel: 'campaign.*.append',
    });
    expect(request.id).toEqual(expect.any(String));
    expect(request.data).toBeInstanceOf(UndecodableBody);
    expect((request.data as UndecodableBody).error.code).toBe('BAD_REQUEST');
  });

  it('passes a JSON object through as the request itself, with no envelope', () => {
    const request = new PlainJsonDeserializer().deserialize(encode('{"entityId":"player:a"}'), {
      channel: 'c',
    });
    expect(request.data).toEqual({ entityId: 'player:a' });
  });

  it('writes a success reply as plain JSON without error headers', () => {
    const out = new PlainJsonSerializer().serialize({ response: { seq: 3 } });
    expect(decode(out.data)).toEqual({ seq: 3 });
    expect(out.headers).toBeUndefined();
  });

  it('writes a coded failure with the service-error headers', () => {
    const reply = { error: { code: 'VERSION_CONFLICT', message: 'player:a expected version 1,\nfound 2' } };
    const out = new PlainJsonSerializer().serialize({ response: reply });
    expect(decode(out.data)).toEqual(reply);
    expect(out.headers?.get('Nats-Service-Error-Code')).toBe('409');
    expect(out.headers?.get('Nats-Service-Error')).toBe('player:a expected version 1, found 2');
  });

  it('turns an exception that escaped a handler into INTERNAL with status 500', () => {
    const out = new PlainJsonSerializer().serialize({ err: new Error('boom') });
    expect(decode(out.data)).toEqual({ error: { code: 'INTERNAL', message: expect.any(String) } });
    expect(out.headers?.get('Nats-Service-Error-Code')).toBe('500');
  });
});

describe('failureReply', () => {
  const logger = pino({ level: 'silent' });

  it('keeps a coded error as it is', () => {
    expect(failureReply(new LorekeeperError('UNKNOWN_ENTITY', 'npc:x does not exist'), logger)).toEqual({
      error: { code: 'UNKNOWN_ENTITY', message: 'npc:x does not exist' },
    });
  });

  it('answers UNAVAILABLE when a store refuses the connection', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    expect(failureReply(refused, logger).error.code).toBe('UNAVAILABLE');
  });

  it('answers a bug with INTERNAL and a correlation id the log line also carries', () => {
    const lines: string[] = [];
    const capturing = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const reply = failureReply(new TypeError('x is undefined'), capturing);
    expect(reply.error.code).toBe('INTERNAL');
    const correlationId = reply.error.details?.['correlationId'] as string;
    expect(reply.error.message).toContain(correlationId);
    expect(lines.join('')).toContain(correlationId);
  });
});
