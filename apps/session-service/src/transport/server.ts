import { ServerNats } from '@nestjs/microservices';
import type { NatsOptions } from '@nestjs/microservices';
import type { NatsConnection, Subscription } from 'nats';
import { PlainJsonDeserializer, PlainJsonSerializer } from './codec';

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

  override async handleMessage(
    channel: string,
    natsMsg: Parameters<ServerNats['handleMessage']>[1],
  ): Promise<void> {
    this.inFlight += 1;
    try {
      await super.handleMessage(channel, natsMsg);
    } finally {
      // The reply is published on the next tick; count the request done only after that.
      setImmediate(() => {
        this.inFlight -= 1;
        if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
      });
    }
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
