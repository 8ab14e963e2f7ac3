import { isDeepStrictEqual } from 'node:util';
import type { Msg } from 'nats';
import { isErrorCode } from '@lorekeeper/domain';
import { ERROR_CODE_HEADER, ERROR_MESSAGE_HEADER, STATUS_BY_CODE } from '@lorekeeper/protocol';
import { FORBIDDEN_KEYS } from './hostile-json';
import type { FuzzMessage } from './messages';

export interface Verdict {
  /** `ok`, an error code, `no responders`, `timeout` or `client refused`. */
  readonly outcome: string;
  /** What is wrong with the reply, if anything. */
  readonly problem?: string;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Judge one reply against PROTOCOL.md and what the generator knew about the message. */
export function judgeReply(message: FuzzMessage, reply: Msg): Verdict {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(reply.data));
  } catch {
    return { outcome: 'unparseable', problem: 'the reply is not JSON' };
  }
  if (!isObject(body)) return { outcome: 'not an object', problem: 'the reply is not a JSON object' };
  if ('error' in body) return judgeError(message, body, reply);
  const outcome = 'ok';
  const { expect } = message;
  if (expect.kind === 'nobody') return { outcome, problem: 'a subject nobody serves was answered' };
  if (expect.kind === 'refused')
    return { outcome, problem: `expected ${expect.code ?? 'an error'}, got a success` };
  if (expect.kind === 'same') {
    return isDeepStrictEqual(body, expect.body)
      ? { outcome }
      : { outcome, problem: 'an idempotent retry got a different reply' };
  }
  const forbidden = forbiddenKeyIn(body);
  if (forbidden) return { outcome, problem: `a success reply holds the key ${forbidden}` };
  const shape = successProblem(message, body);
  return shape ? { outcome, problem: shape } : { outcome };
}

function judgeError(message: FuzzMessage, body: Json, reply: Msg): Verdict {
  const error = body['error'];
  if (Object.keys(body).length !== 1 || !isObject(error)) {
    return { outcome: 'malformed error', problem: 'a failure reply must be exactly {"error": {...}}' };
  }
  const { code, message: text } = error;
  if (!isErrorCode(code))
    return { outcome: String(code), problem: `error code ${String(code)} is not in PROTOCOL.md` };
  if (
    typeof text !== 'string' ||
    Object.keys(error).some((key) => !['code', 'message', 'details'].includes(key))
  ) {
    return { outcome: code, problem: 'the error object has a wrong shape' };
  }
  const status = reply.headers?.get(ERROR_CODE_HEADER);
  const header = reply.headers?.get(ERROR_MESSAGE_HEADER);
  if (status !== String(STATUS_BY_CODE[code])) {
    return { outcome: code, problem: `${ERROR_CODE_HEADER} is ${String(status)} for ${code}` };
  }
  // Headers are UTF-8 bytes: a lone surrogate in the message arrives as U+FFFD, as it would in any client.
  const expected = Buffer.from(text.replace(/[\r\n]+/g, ' ').slice(0, 1_000), 'utf8').toString('utf8');
  if (!header || header !== expected) {
    return { outcome: code, problem: `${ERROR_MESSAGE_HEADER} does not repeat the message` };
  }
  if (code === 'INTERNAL') return { outcome: code, problem: `INTERNAL: ${text}` };
  const { expect } = message;
  if (expect.kind === 'nobody') return { outcome: code, problem: 'a subject nobody serves was answered' };
  if (expect.kind === 'same') return { outcome: code, problem: `an idempotent retry was refused: ${text}` };
  if (expect.kind === 'refused' && expect.code && expect.code !== code) {
    return { outcome: code, problem: `expected ${expect.code}, got ${code}: ${text.slice(0, 200)}` };
  }
  return { outcome: code };
}

function forbiddenKeyIn(value: unknown, depth = 0): string | undefined {
  if (depth > 64 || typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if ((FORBIDDEN_KEYS as readonly string[]).includes(key)) return key;
    const found = forbiddenKeyIn(item, depth + 1);
    if (found) return found;
  }
  return undefined;
}

const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;

function isEntity(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value['id'] === 'string' &&
    typeof value['kind'] === 'string' &&
    isCount(value['version']) &&
    isObject(value['state'])
  );
}

/** The success body's shape per verb; for a guarded campaign, reads must show the state before the run. */
function successProblem(message: FuzzMessage, body: Json): string | undefined {
  const campaign = message.guarded;
  switch (message.verb) {
    case 'create':
      return typeof body['campaignId'] === 'string' && isCount(body['entities']) && !campaign
        ? undefined
        : 'bad create reply';
    case 'session.start': {
      const loaded = body['loaded'];
      if (typeof body['sessionId'] !== 'string' || !isCount(body['seq']) || !isObject(loaded))
        return 'bad session.start reply';
      return campaign && body['sessionId'] !== campaign.sessionId
        ? 'session.start replaced the live session'
        : undefined;
    }
    case 'entity.get': {
      const entity = body['entity'];
      if (!isEntity(entity)) return 'bad entity.get reply';
      if (!campaign) return undefined;
      const before = campaign.entities.get((entity as Json)['id'] as string);
      return isDeepStrictEqual(entity, before)
        ? undefined
        : `entity ${String((entity as Json)['id'])} differs from before the run`;
    }
    case 'entities.list': {
      const entities = body['entities'];
      if (!Array.isArray(entities) || !entities.every(isEntity)) return 'bad entities.list reply';
      if (!campaign) return undefined;
      const changed = entities.find(
        (entity: Json) => !isDeepStrictEqual(entity, campaign.entities.get(entity['id'] as string)),
      );
      return changed ? `entity ${String((changed as Json)['id'])} differs from before the run` : undefined;
    }
    case 'export':
      return body['format'] === 'lorekeeper.world/1' &&
        Array.isArray(body['entities']) &&
        typeof body['campaignId'] === 'string'
        ? undefined
        : 'bad export reply';
    case 'append':
    case 'save':
    case 'session.end':
      return campaign ? `${message.verb} succeeded on a guarded campaign` : undefined;
    default:
      return `a success on ${message.subject}`;
  }
}
