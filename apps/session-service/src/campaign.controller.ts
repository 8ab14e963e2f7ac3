import { randomUUID } from 'node:crypto';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import type { MsgHdrs } from 'nats';
import type { Logger } from 'pino';
import { LorekeeperError } from '@lorekeeper/domain';
import type { ErrorReply, Verb } from '@lorekeeper/protocol';
import {
  TIMEOUT_HEADER,
  campaignIdOf,
  isErrorReply,
  parseRequest,
  parseTimeoutHeader,
  subscriptionFor,
} from '@lorekeeper/protocol';
import type { SessionDeps } from './deps';
import { SESSION_DEPS } from './deps';
import { appendEvents } from './handlers/append';
import { createCampaign } from './handlers/create';
import { getEntity, listEntities } from './handlers/entity-read';
import { failureReply } from './handlers/failure';
import { exportCampaign } from './handlers/export';
import { endSession, saveCampaign } from './handlers/save';
import { startSession } from './handlers/session-start';
import { UndecodableBody } from './transport/codec';

interface RequestScope {
  readonly campaignId: string;
  readonly correlationId: string;
  readonly headers: MsgHdrs | undefined;
  readonly logger: Logger;
}

/**
 * The share of the caller's timeout (TIMEOUT_HEADER) an append may spend before replying, counted from
 * when the service took the request: the rest is for the request's way here and the reply's way back.
 */
const REPLY_WITHIN_SHARE = 0.8;

/**
 * The NATS edge: one method per subject, each handing a decoded body to a plain handler function.
 * Every outcome is a reply: a success object or PROTOCOL.md's error object.
 */
@Controller()
export class CampaignController {
  constructor(@Inject(SESSION_DEPS) private readonly deps: SessionDeps) {}

  @MessagePattern(subscriptionFor('create'))
  create(@Payload() body: unknown, @Ctx() context: NatsContext) {
    return this.serve('create', body, context, (scope) => createCampaign(this.deps, scope.campaignId, body));
  }

  @MessagePattern(subscriptionFor('session.start'))
  sessionStart(@Payload() body: unknown, @Ctx() context: NatsContext) {
    return this.serve('session.start', body, context, (scope) =>
      startSession(
        { ...this.deps, logger: scope.logger },
        scope.campaignId,
        parseRequest('session.start', body),
      ),
    );
  }

  @MessagePattern(subscriptionFor('append'))
  append(@Payload() body: unknown, @Ctx() context: NatsContext) {
    const started = performance.now();
    return this.serve('append', body, context, (scope) =>
      appendEvents(
        { ...this.deps, logger: scope.logger },
        scope.campaignId,
        parseRequest('append', body),
        scope.correlationId,
        replyBy(scope.headers, started),
      ),
    ).finally(() => this.deps.metrics.appendSeconds.observe((performance.now() - started) / 1_000));
  }

  @MessagePattern(subscriptionFor('entity.get'))
  entityGet(@Payload() body: unknown, @Ctx() context: NatsContext) {
    return this.serve('entity.get', body, context, (scope) =>
      getEntity(this.deps, scope.campaignId, parseRequest('entity.get', body)),
    );
  }

  @MessagePattern(subscriptionFor('entities.list'))
  entitiesList(@Payload() body: unknown, @Ctx() context: NatsContext) {
    return this.serve('entities.list', body, context, (scope) =>
      listEntities(this.deps, scope.campaignId, parseRequest('entities.list', body)),
    );
  }

  @MessagePattern(subscriptionFor('save'))
  save(@Payload() body: unknown, @Ctx() context: NatsContext) {
    return this.serve('save', body, context, (scope) =>
      saveCampaign({ ...this.deps, logger: scope.logger }, scope.campaignId, parseRequest('save', body)),
    );
  }

  @MessagePattern(subscriptionFor('session.end'))
  sessionEnd(@Payload() body: unknown, @Ctx() context: NatsContext) {
    return this.serve('session.end', body, context, (scope) =>
      endSession({ ...this.deps, logger: scope.logger }, scope.campaignId, parseRequest('session.end', body)),
    );
  }

  @MessagePattern(subscriptionFor('export'))
  export(@Payload() body: unknown, @Ctx() context: NatsContext) {
    return this.serve('export', body, context, (scope) => {
      parseRequest('export', body);
      return exportCampaign(this.deps, scope.campaignId);
    });
  }

  private async serve<T>(
    verb: Verb,
    body: unknown,
    context: NatsContext,
    handle: (scope: RequestScope) => Promise<T>,
  ): Promise<T | ErrorReply> {
    const headers = context.getHeaders() as MsgHdrs | undefined;
    const correlationId = headers?.get('Correlation-Id') || randomUUID();
    const subject: string = context.getSubject();
    const campaignId = campaignIdOf(subject);
    const logger = requestLogger(this.deps.logger, { campaignId, correlationId, verb });
    let reply: T | ErrorReply;
    try {
      if (campaignId === undefined) {
        throw new LorekeeperError('BAD_REQUEST', `subject ${subject} does not name a valid campaign id`);
      }
      if (body instanceof UndecodableBody) throw body.error;
      reply = await handle({ campaignId, correlationId, headers, logger });
    } catch (error) {
      reply = failureReply(error, logger);
    }
    const outcome = isErrorReply(reply) ? reply.error.code : 'ok';
    this.deps.metrics.requests.inc({ verb, outcome });
    if (outcome === 'UNAVAILABLE') this.deps.metrics.storeErrors.inc({ store: 'redis-or-postgres' });
    if (outcome !== 'ok') logger.debug({ outcome }, 'request refused');
    return reply;
  }
}

/**
 * When an append must have replied (a `performance.now()` time) for its caller, who named its timeout
 * in TIMEOUT_HEADER, still to be waiting: undefined when the request names none.
 */
function replyBy(headers: MsgHdrs | undefined, started: number): number | undefined {
  const timeoutMs = parseTimeoutHeader(headers?.get(TIMEOUT_HEADER));
  return timeoutMs === undefined ? undefined : started + timeoutMs * REPLY_WITHIN_SHARE;
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const ignore = () => undefined;

/**
 * The request's child logger, made on its first enabled log line: most requests log nothing, and a
 * pino child serialises its bindings when made (a few microseconds per request at thousands/s).
 */
function requestLogger(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  return new Proxy(parent, {
    get(_, property) {
      if (typeof property === 'string' && LEVELS.has(property) && !parent.isLevelEnabled(property)) {
        return ignore;
      }
      child ??= parent.child(bindings);
      const value: unknown = Reflect.get(child, property, child);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(child) : value;
    },
  });
}
