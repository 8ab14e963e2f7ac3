import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import type { Msg, NatsConnection } from 'nats';
import { serviceUrls } from '@lorekeeper/testing';
import { RequestFailure, Requests } from './requests';

/** A subject of this test's own, so runs beside each other never share responders. */
const subject = (name: string) => `test.requests.${randomUUID()}.${name}`;

async function failure(promise: Promise<Msg>): Promise<RequestFailure> {
  const outcome = await promise.then(
    () => new Error('expected the request to fail'),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(RequestFailure);
  return outcome as RequestFailure;
}

describe('Requests', () => {
  let nats: NatsConnection;

  beforeEach(async () => {
    nats = await connect({ servers: serviceUrls().natsUrl, inboxPrefix: '_INBOX.tenant' });
  });
  afterEach(async () => {
    if (!nats.isClosed()) await nats.close();
  });

  it('gives each of many requests in flight its own reply, on the connection’s inbox prefix', async () => {
    const echo = subject('echo');
    const replySubjects: string[] = [];
    // Answers out of order: later requests first, after a delay that varies.
    nats.subscribe(echo, {
      callback: (_error, message) => {
        replySubjects.push(message.reply ?? '');
        const n = Number(message.string());
        setTimeout(() => message.respond(`reply to ${n}`), (200 - n) % 17);
      },
    });
    await nats.flush();
    const requests = Requests.of(nats);
    expect(Requests.of(nats)).toBe(requests);

    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, n) => requests.request(echo, String(n), 5_000)),
    );
    expect(replies.map((reply) => reply.string())).toEqual(
      Array.from({ length: 200 }, (_, n) => `reply to ${n}`),
    );
    expect(new Set(replySubjects).size).toBe(200);
    expect(replySubjects.every((reply) => reply.startsWith('_INBOX.tenant.'))).toBe(true);
  });

  it('fails with "timeout" when no reply comes in time, and ignores a reply that comes later', async () => {
    const slow = subject('slow');
    nats.subscribe(slow, {
      callback: (_error, message) => setTimeout(() => message.respond('too late'), 300),
    });
    await nats.flush();
    const started = performance.now();
    const error = await failure(Requests.of(nats).request(slow, 'x', 100));
    expect(error.reason).toBe('timeout');
    expect(error.message).toBe('no reply within 100 ms');
    expect(performance.now() - started).toBeLessThan(290);

    // The late reply lands on no request; the next request still gets its own.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const next = await Requests.of(nats).request(slow, 'y', 2_000);
    expect(next.string()).toBe('too late');
  });

  it('fails at once with "no-responders" when nobody subscribes to the subject', async () => {
    const started = performance.now();
    const error = await failure(Requests.of(nats).request(subject('nobody'), 'x', 5_000));
    expect(error.reason).toBe('no-responders');
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('fails what waits when the connection closes, and every request after it', async () => {
    const silent = subject('silent');
    nats.subscribe(silent, { callback: () => undefined });
    await nats.flush();
    const waiting = Requests.of(nats).request(silent, 'x', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await nats.close();
    expect((await failure(waiting)).reason).toBe('closed');
    expect(performance.now() - started).toBeLessThan(2_000);
    expect((await failure(Requests.of(nats).request(silent, 'y', 1_000))).reason).toBe('closed');
  });
});
