import { randomUUID } from 'node:crypto';
import { headers } from 'nats';
import type { MsgHdrs, NatsConnection, Subscription } from 'nats';
import type { Entity, ReferenceEvent, WorldDocument } from '@lorekeeper/domain';
import { LorekeeperError } from '@lorekeeper/domain';
import type {
  AppendReply,
  CreateReply,
  EntitiesListReply,
  EntityGetReply,
  EventsNotification,
  SaveReply,
  SessionEndReply,
  SessionStartReply,
  Verb,
} from '@lorekeeper/protocol';
import {
  TIMEOUT_HEADER,
  errorFromReply,
  eventsSubject,
  isErrorReply,
  subjectFor,
} from '@lorekeeper/protocol';
import { RequestFailure, Requests } from './requests';

/** An event of the reference catalogue as an append takes it; a game's own types fit `CustomEvent`. */
export type CatalogueEvent = ReferenceEvent & { readonly expectedVersion?: number };
export interface CustomEvent {
  readonly type: string;
  readonly entityId: string;
  readonly data: Record<string, unknown>;
  readonly expectedVersion?: number;
}

/** The longest an append's attempt waits, however many attempts came before it (unless `timeoutMs` is longer). */
const MAX_APPEND_ATTEMPT_MS = 60_000;

export interface ClientOptions {
  /**
   * Time allowed for one request before it counts as timed out (default 5 s). Each request tells the
   * service (TIMEOUT_HEADER): an append waiting for its major event to be durable answers `durable:
   * false` within it rather than after the client gave up.
   */
  readonly timeoutMs?: number;
  /** Attempts for an append that times out or answers UNAVAILABLE (default 5); each waits longer. */
  readonly appendAttempts?: number;
}

export interface AppendOptions {
  /** Defaults to a fresh key per call, so the client's own retries can never double a batch. */
  readonly idempotencyKey?: string;
}

/**
 * A typed client for game servers over plain nats.js (no NestJS). Every failure is a LorekeeperError
 * carrying the protocol's code; an append that times out or meets UNAVAILABLE is retried with the same
 * idempotency key, so it applies exactly once.
 */
export class LorekeeperClient {
  private readonly timeoutMs: number;
  private readonly appendAttempts: number;

  constructor(
    private readonly nats: NatsConnection,
    options: ClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.appendAttempts = options.appendAttempts ?? 5;
  }

  createCampaign(world: WorldDocument): Promise<CreateReply> {
    return this.request(world.campaignId, 'create', world);
  }

  startSession(campaignId: string, playerIds: readonly string[]): Promise<SessionStartReply> {
    return this.request(campaignId, 'session.start', { playerIds });
  }

  async append(
    campaignId: string,
    sessionId: string,
    events: readonly (CatalogueEvent | CustomEvent)[],
    options: AppendOptions = {},
  ): Promise<AppendReply> {
    const body = { sessionId, events, idempotencyKey: options.idempotencyKey ?? randomUUID() };
    for (let attempt = 1; ; attempt += 1) {
      try {
        // Each attempt may wait twice as long: a slow service gets the time to answer the retry.
        return await this.request<AppendReply>(
          campaignId,
          'append',
          body,
          Math.min(this.timeoutMs * 2 ** (attempt - 1), Math.max(this.timeoutMs, MAX_APPEND_ATTEMPT_MS)),
        );
      } catch (error) {
        if (attempt >= this.appendAttempts || !isRetryable(error)) throw error;
        await sleep(Math.min(1_000, 25 * 2 ** attempt));
      }
    }
  }

  async getEntity(campaignId: string, entityId: string): Promise<Entity> {
    return (await this.request<EntityGetReply>(campaignId, 'entity.get', { entityId })).entity;
  }

  async listEntities(
    campaignId: string,
    filter: { kind?: string; regionId?: string; ownerId?: string } = {},
  ): Promise<readonly Entity[]> {
    return (await this.request<EntitiesListReply>(campaignId, 'entities.list', filter)).entities;
  }

  save(campaignId: string, sessionId: string): Promise<SaveReply> {
    return this.request(campaignId, 'save', { sessionId }, Math.max(this.timeoutMs, 35_000));
  }

  endSession(campaignId: string, sessionId: string): Promise<SessionEndReply> {
    return this.request(campaignId, 'session.end', { sessionId }, Math.max(this.timeoutMs, 35_000));
  }

  export(campaignId: string): Promise<WorldDocument> {
    return this.request(campaignId, 'export', {});
  }

  /**
   * Every batch committed to the campaign from now on, in order, as published on
   * `campaign.<id>.events`. Break out of the loop (or call `return()`) to stop following.
   */
  follow(campaignId: string): AsyncIterableIterator<EventsNotification> {
    const subscription: Subscription = this.nats.subscribe(eventsSubject(campaignId));
    const messages = subscription[Symbol.asyncIterator]();
    const iterator: AsyncIterableIterator<EventsNotification> = {
      async next() {
        const result = await messages.next();
        if (result.done) return { done: true, value: undefined };
        return {
          done: false,
          value: JSON.parse(new TextDecoder().decode(result.value.data)) as EventsNotification,
        };
      },
      async return() {
        subscription.unsubscribe();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  private async request<T>(
    campaignId: string,
    verb: Verb,
    body: unknown,
    timeoutMs = this.timeoutMs,
  ): Promise<T> {
    let reply: unknown;
    try {
      // Only an append's wait depends on the caller's timeout (TIMEOUT_HEADER); the rest go without.
      const sent = verb === 'append' ? timeoutHeaders(timeoutMs) : undefined;
      const message = await Requests.of(this.nats).request(
        subjectFor(campaignId, verb),
        JSON.stringify(body),
        timeoutMs,
        sent,
      );
      reply = JSON.parse(message.string()) as unknown;
    } catch (error) {
      throw transportError(error, verb, campaignId);
    }
    if (isErrorReply(reply)) throw errorFromReply(reply);
    return reply as T;
  }
}

/** The TIMEOUT_HEADER of each timeout sent so far: an append's attempts use a few values, over and over. */
const sentTimeouts = new Map<number, MsgHdrs>();

/** nats.js only reads a message's headers when it sends them, so one object serves every request. */
function timeoutHeaders(timeoutMs: number): MsgHdrs {
  let sent = sentTimeouts.get(timeoutMs);
  if (!sent) {
    sent = headers();
    sent.set(TIMEOUT_HEADER, String(timeoutMs));
    if (sentTimeouts.size < 64) sentTimeouts.set(timeoutMs, sent);
  }
  return sent;
}

/**
 * No reply (a timeout, "no responders", a publish the server refused, a closed connection) becomes
 * UNAVAILABLE: the caller may retry (appends do, by themselves).
 */
function transportError(error: unknown, verb: string, campaignId: string): LorekeeperError {
  const reason =
    error instanceof RequestFailure && error.reason === 'no-responders'
      ? 'no session service is listening'
      : error instanceof Error
        ? error.message
        : String(error);
  return new LorekeeperError('UNAVAILABLE', `${verb} for campaign ${campaignId}: ${reason}`, {
    transport: true,
  });
}

function isRetryable(error: unknown): boolean {
  return error instanceof LorekeeperError && error.code === 'UNAVAILABLE';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
