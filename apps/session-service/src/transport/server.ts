import { NatsContext, ServerNats } from '@nestjs/microservices';
import type { NatsOptions } from '@nestjs/microservices';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { isObservable, lastValueFrom } from 'rxjs';
import { PlainJsonDeserializer, PlainJsonSerializer, shrunkReply } from './codec';

type ServerNatsOptions = NonNullable<NatsOptions['options']>;

/**
 * NestJS's NATS server with plain JSON on the wire and a graceful close: stop taking requests,
 * let those in flight finish and be answered, then close the connection.
 */
export class LorekeeperNatsServer extends ServerNats {
  private readonly ownSubscriptions: Subscription[] = [];
  private inFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly natsOptions: ServerNatsOptions & { queue: string },
    private readonly drainTimeoutMs = 10_000,
  ) {
    super({
      ...natsOptions,
      serializer: new PlainJsonSerializer(),
      deserializer: new PlainJsonDeserializer(),
    });
  }

  /** Subscribe every pattern in the queue group, keeping the subscriptions so close can stop them. */
  override bindEvents(client: NatsConnection): void {
    for (const channel of this.messageHandlers.keys()) {
      const handle = this.getMessageHandler(channel).bind(this) as (error: unknown, message: unknown) => void;
      this.ownSubscriptions.push(
        client.subscribe(channel, { queue: this.natsOptions.queue, callback: handle }),
      );
    }
  }

  /**
   * Every subject is a request (PROTOCOL.md), answered with one reply. NestJS's own path looks the
   * handler up by JSON-parsing the subscription pattern (a thrown SyntaxError per message) and sends
   * the reply through an observable on the next tick; this one finds the handler by its subscription
   * and replies as soon as the handler resolves. The handler is still NestJS's (pipes, filters).
   */
  override async handleMessage(channel: string, natsMsg: Msg): Promise<void> {
    this.inFlight += 1;
    try {
      const context = new NatsContext([natsMsg.subject, natsMsg.headers]);
      const message = await this.deserializer.deserialize(natsMsg.data, { channel });
      const handler = this.messageHandlers.get(channel);
      const publish = this.getPublisher(natsMsg, 'id' in message ? message.id : '', context);
      if (!handler) {
        publish({ err: `no handler for ${channel}` });
        return;
      }
      try {
        const result: unknown = await handler(message.data, context);
        publish({ response: isObservable(result) ? await lastValueFrom(result) : result });
      } catch (error) {
        publish({ err: error });
      }
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
    }
  }

  /**
   * nats.js throws from `respond` when a reply is over the server's max_payload (a request just
   * under the limit can produce one, e.g. an error quoting it back, or an export of a big world).
   * Thrown there, it would end the process; answer with a reply that fits instead.
   */
  override getPublisher(
    natsMsg: Msg,
    id: string,
    ctx: NatsContext,
  ): (packet: { response?: unknown; err?: unknown }) => unknown {
    const publish = super.getPublisher(natsMsg, id, ctx) as (packet: {
      response?: unknown;
      err?: unknown;
    }) => unknown;
    return (packet) => {
      try {
        return publish(packet);
      } catch (error) {
        const replyBytes = Buffer.byteLength(JSON.stringify(packet.response ?? {}));
        const maxPayload = this.unwrap<NatsConnection>().info?.max_payload;
        this.logger.warn(
          `could not send a reply of ${replyBytes} bytes to ${natsMsg.subject}: ${String(error)}`,
        );
        try {
          return publish({ response: shrunkReply(packet.response, replyBytes, maxPayload) });
        } catch (again) {
          this.logger.error(`could not send a reply to ${natsMsg.subject}: ${String(again)}`);
          return undefined;
        }
      }
    };
  }

  override async close(): Promise<void> {
    for (const subscription of this.ownSubscriptions.splice(0)) subscription.unsubscribe();
    await this.whenIdle();
    try {
      await this.unwrap<NatsConnection>().flush();
    } catch {
      // Not connected (never listened, or NATS is gone): nothing left to flush.
    }
    await super.close();
  }

  private whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.drainTimeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
