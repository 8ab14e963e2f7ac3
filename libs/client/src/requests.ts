import type { Msg, MsgHdrs, NatsConnection, Subscription } from 'nats';
import { createInbox } from 'nats';

/** Why a request ended without a reply. */
export type RequestFailureReason = 'timeout' | 'no-responders' | 'refused' | 'closed';

export class RequestFailure extends Error {
  constructor(
    readonly reason: RequestFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'RequestFailure';
  }
}

interface Pending {
  readonly subject: string;
  readonly resolve: (message: Msg) => void;
  readonly reject: (error: RequestFailure) => void;
  readonly timer: NodeJS.Timeout;
}

/** One per connection, as nats.js keeps one inbox subscription per connection for its requests. */
const byConnection = new WeakMap<NatsConnection, Requests>();

/**
 * Request/reply on a NATS connection, as nats.js's `request` does it (one wildcard subscription to an
 * inbox, a token per request) without its cost: nats.js 2.29 builds up to three Errors per request,
 * each capturing a stack, and always one after the reply (to cancel the request it has just answered).
 * In the benchmark's client that was a quarter of its CPU (bench/results/NOTES.md). Otherwise it
 * behaves as nats.js does: replies come to the connection's own inbox prefix (a tenant's, with
 * `inboxPrefix`: docs/deploy.md), a subject nobody serves fails at once ("no responders"), so does a
 * publish the server's permissions refuse, and a closed connection fails every request waiting.
 */
export class Requests {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  /** Why requests fail at once: the connection or the reply subscription is closed. */
  private closed: string | undefined;

  /** The connection's shared instance, made (and subscribed) on first use. */
  static of(nats: NatsConnection): Requests {
    let requests = byConnection.get(nats);
    if (!requests) {
      requests = new Requests(nats);
      if (requests.closed === undefined) byConnection.set(nats, requests);
    }
    return requests;
  }

  private constructor(private readonly nats: NatsConnection) {
    const options = (nats as { options?: { inboxPrefix?: string } }).options;
    this.prefix = createInbox(options?.inboxPrefix);
    let subscription: Subscription;
    try {
      subscription = nats.subscribe(`${this.prefix}.*`, {
        callback: (error, message) => {
          if (!error) this.settle(message);
        },
      });
    } catch (error) {
      // The connection is closed already.
      this.closed = error instanceof Error ? error.message : String(error);
      return;
    }
    // Closed: with the connection, or refused by the server's permissions. Fail what waits; the next
    // request on the connection subscribes afresh.
    void subscription.closed.then(() => {
      this.closed = 'the connection or its reply subscription is closed';
      if (byConnection.get(nats) === this) byConnection.delete(nats);
      this.failAll(this.closed);
    });
    void this.watchRefusals();
  }

  /** Publish `data` to `subject` and resolve with the first reply, or fail with a RequestFailure. */
  request(subject: string, data: string | Uint8Array, timeoutMs: number, headers?: MsgHdrs): Promise<Msg> {
    if (this.closed !== undefined) return Promise.reject(new RequestFailure('closed', this.closed));
    const token = (this.next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new RequestFailure('timeout', `no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, { subject, resolve, reject, timer });
      try {
        const reply = `${this.prefix}.${token}`;
        this.nats.publish(subject, data, headers ? { reply, headers } : { reply });
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(token);
        reject(new RequestFailure('closed', error instanceof Error ? error.message : String(error)));
      }
    });
  }

  private settle(message: Msg): void {
    const token = message.subject.slice(this.prefix.length + 1);
    const pending = this.pending.get(token);
    if (!pending) return; // timed out already
    this.pending.delete(token);
    clearTimeout(pending.timer);
    // The server's answer when nobody subscribes to the subject: a status 503 with no payload.
    if (message.data.length === 0 && message.headers?.code === 503) {
      pending.reject(new RequestFailure('no-responders', `no one is listening on ${pending.subject}`));
    } else {
      pending.resolve(message);
    }
  }

  /**
   * A publish the server's permissions refuse comes back as an error naming the subject: fail the
   * oldest request waiting on it (nats.js does the same), rather than let it time out.
   */
  private async watchRefusals(): Promise<void> {
    for await (const status of this.nats.status()) {
      // A closed reply subscription ends this instance (the next request makes another): stop too.
      if (this.closed !== undefined) return;
      const context = (status as { permissionContext?: { operation: string; subject: string } })
        .permissionContext;
      if (context?.operation !== 'publish') continue;
      for (const [token, pending] of this.pending) {
        if (pending.subject !== context.subject) continue;
        this.pending.delete(token);
        clearTimeout(pending.timer);
        pending.reject(
          new RequestFailure('refused', `Permissions Violation for Publish to "${context.subject}"`),
        );
        break;
      }
    }
  }

  private failAll(message: string): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new RequestFailure('closed', message));
    }
    this.pending.clear();
  }
}
