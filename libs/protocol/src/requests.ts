import { z } from 'zod';
import type { Entity, ErrorCode, WorldDocument } from '@lorekeeper/domain';
import { ENTITY_ID_PATTERN, LorekeeperError, describeIssues, jsonProblem } from '@lorekeeper/domain';

const entityId = z.string().regex(ENTITY_ID_PATTERN, 'must be an entity id such as player:alice');
const playerId = entityId.refine((id) => id.startsWith('player:'), { message: 'must be a player id' });
const sessionId = z.string().min(1).max(128);

/** Request bodies of PROTOCOL.md, strict: a field a request does not define is refused. */
export const requestSchemas = {
  'session.start': z.strictObject({ playerIds: z.array(playerId).min(1).max(1_000) }),
  append: z.strictObject({
    sessionId,
    events: z.array(z.unknown()).min(1),
    idempotencyKey: z.string().min(1).max(200).optional(),
  }),
  'entity.get': z.strictObject({ entityId }),
  'entities.list': z.strictObject({
    kind: z.string().min(1).max(32).optional(),
    regionId: entityId.optional(),
    ownerId: entityId.optional(),
  }),
  save: z.strictObject({ sessionId }),
  'session.end': z.strictObject({ sessionId }),
  export: z.strictObject({}),
} as const;

export type SessionStartRequest = z.infer<(typeof requestSchemas)['session.start']>;
export type AppendRequest = z.infer<(typeof requestSchemas)['append']>;
export type EntityGetRequest = z.infer<(typeof requestSchemas)['entity.get']>;
export type EntitiesListRequest = z.infer<(typeof requestSchemas)['entities.list']>;
export type SaveRequest = z.infer<(typeof requestSchemas)['save']>;
export type SessionEndRequest = z.infer<(typeof requestSchemas)['session.end']>;

/**
 * Decode a request body: UTF-8 JSON holding one object, without prototype keys. Never throws
 * anything but a BAD_REQUEST LorekeeperError.
 */
export function decodeBody(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LorekeeperError('BAD_REQUEST', `request body is not JSON: ${reason}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const found = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new LorekeeperError('BAD_REQUEST', `request body must be a JSON object, found ${found}`);
  }
  const hostile = jsonProblem(value);
  if (hostile) throw new LorekeeperError('BAD_REQUEST', `request body is not acceptable: ${hostile}`);
  return value as Record<string, unknown>;
}

/** Check a decoded body against a request schema; BAD_REQUEST lists every problem. */
export function parseRequest<K extends keyof typeof requestSchemas>(
  verb: K,
  body: unknown,
): z.infer<(typeof requestSchemas)[K]> {
  const parsed = requestSchemas[verb].safeParse(body);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error);
    throw new LorekeeperError('BAD_REQUEST', `${verb} request is invalid: ${problems.join('; ')}`, {
      problems,
    });
  }
  return parsed.data as z.infer<(typeof requestSchemas)[K]>;
}

/** Replies of PROTOCOL.md. */
export interface CreateReply {
  readonly campaignId: string;
  readonly entities: number;
}
export interface SessionStartReply {
  readonly sessionId: string;
  readonly seq: number;
  readonly loaded: { readonly entities: number; readonly regions: readonly string[] };
}
export interface AppendResult {
  readonly id: string;
  readonly seq: number;
  readonly entityId: string;
  readonly version: number;
}
export interface AppendReply {
  readonly seq: number;
  readonly results: readonly AppendResult[];
  readonly durable: boolean;
}
export interface EntityGetReply {
  readonly entity: Entity;
}
export interface EntitiesListReply {
  readonly entities: readonly Entity[];
}
export interface SaveReply {
  readonly seq: number;
  readonly entitiesWritten: number;
}
export interface SessionEndReply {
  readonly seq: number;
}
export type ExportReply = WorldDocument;

/** A batch as published on `campaign.<id>.events`. */
export interface EventsNotification {
  readonly campaignId: string;
  readonly seq: number;
  readonly events: readonly {
    readonly id: string;
    readonly seq: number;
    readonly type: string;
    readonly entityId: string;
    readonly version: number;
    readonly data: unknown;
    readonly transient: boolean;
  }[];
}

export type { ErrorCode };

/**
 * Request header: how long the caller waits for the reply, in milliseconds. An append holding a major
 * event answers within it (docs/protocol-notes.md, "Replies and errors"): `durable: false` in time
 * rather than a reply the caller has stopped waiting for.
 */
export const TIMEOUT_HEADER = 'Lorekeeper-Timeout-Ms';

/** The longest timeout the header may give: Node's timers end there (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * The caller's timeout from a TIMEOUT_HEADER value (undefined or empty when the request has none).
 * Never throws anything but a BAD_REQUEST LorekeeperError.
 */
export function parseTimeoutHeader(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(ms >= 1 && ms <= MAX_TIMEOUT_MS)) {
    throw new LorekeeperError(
      'BAD_REQUEST',
      `header ${TIMEOUT_HEADER} must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, found ${JSON.stringify(value.slice(0, 40))}`,
      { header: TIMEOUT_HEADER },
    );
  }
  return ms;
}
