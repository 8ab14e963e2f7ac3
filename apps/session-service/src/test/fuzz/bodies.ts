import { randomUUID } from 'node:crypto';
import type { Verb } from '@lorekeeper/protocol';
import { tinyWorld } from '@lorekeeper/testing';
import type { Value } from './hostile-json';
import { Pairs, deepText, hostileNumber, hostileString, pollute, toJson, wrongType } from './hostile-json';
import type { Body, FuzzContext, GuardedCampaign } from './messages';
import type { Rng } from './random';

let fresh = 0;
/** An id no entity has yet, for events that create one. */
function newId(kind: string): string {
  fresh += 1;
  return `${kind}:fz${fresh}`;
}

/** Events that are valid against the tiny world before the fuzzing (so a batch of them would apply). */
export function validEvent(rng: Rng): { [key: string]: Value } {
  switch (rng.int(0, 8)) {
    case 0:
      return { type: 'player.gold.changed', entityId: 'player:alice', data: { delta: rng.int(1, 5) } };
    case 1:
      return { type: 'player.xp.gained', entityId: 'player:bob', data: { amount: rng.int(1, 50) } };
    case 2:
      return { type: 'npc.damaged', entityId: 'npc:goblin', data: { amount: 1 } };
    case 3:
      return { type: 'world.flag.set', entityId: 'world', data: { key: 'fz', value: rng.int(0, 9) } };
    case 4:
      return {
        type: 'item.moved',
        entityId: 'item:sword',
        data: { fromId: 'player:alice', toId: 'player:bob' },
      };
    case 5:
      return {
        type: 'combat.started',
        entityId: newId('combat'),
        data: { regionId: 'region:vale', participantIds: ['player:alice', 'npc:goblin'] },
      };
    case 6:
      return {
        type: 'item.created',
        entityId: newId('item'),
        data: { name: 'Fz', ownerId: 'player:alice', qty: 1 },
      };
    case 7:
      return { type: 'player.moved', entityId: 'player:alice', data: { regionId: 'region:hills' } };
    default:
      return { type: 'quest.progressed', entityId: 'quest:relic', data: { step: rng.int(1, 9) } };
  }
}

/** One event that makes any batch holding it fail, and the code it should fail with. */
function poisonEvent(rng: Rng): [Value, string] {
  switch (rng.int(0, 6)) {
    case 0:
      return [
        { type: 'player.gold.changed', entityId: 'player:alice', data: { delta: -1_000_000 } },
        'VALIDATION_FAILED',
      ];
    case 1:
      return [{ type: hostileString(rng), entityId: 'player:alice', data: {} }, 'refused'];
    case 2:
      return [
        { type: 'item.moved', entityId: 'item:sword', data: { fromId: 'player:bob', toId: 'player:alice' } },
        'VALIDATION_FAILED',
      ];
    case 3:
      return [
        { type: 'npc.defeated', entityId: 'npc:goblin', data: { byId: 'player:nobody' } },
        'UNKNOWN_ENTITY',
      ];
    case 4:
      return [{ type: 'quest.completed', entityId: 'quest:rats', data: {} }, 'VALIDATION_FAILED'];
    case 5:
      return [pollute(validEvent(rng), rng), 'refused'];
    default:
      return [{ ...validEvent(rng), data: wrongType(rng) }, 'refused'];
  }
}

/** Events that stay valid in any number and order (no moves, no quest steps), for batch prefixes. */
function composableEvent(rng: Rng): { [key: string]: Value } {
  for (;;) {
    const event = validEvent(rng);
    if (!['item.moved', 'player.moved', 'quest.progressed'].includes(event['type'] as string)) return event;
  }
}

function batch(rng: Rng, length = rng.int(1, 6)): Value[] {
  return Array.from({ length }, () => composableEvent(rng));
}

/** A schema-valid body for the verb on a campaign (with this session id where one is needed). */
export function validBody(
  verb: Verb,
  campaignId: string,
  sessionId: string,
  rng: Rng,
): { [key: string]: Value } {
  switch (verb) {
    case 'create':
      return { ...(tinyWorld as unknown as { [key: string]: Value }), campaignId };
    case 'session.start':
      return { playerIds: rng.chance(0.5) ? ['player:alice'] : ['player:alice', 'player:bob'] };
    case 'append':
      return {
        sessionId,
        events: batch(rng),
        ...(rng.chance(0.2) ? { idempotencyKey: `fz-${rng.hex(8)}` } : {}),
      };
    case 'entity.get':
      return { entityId: rng.pick(tinyWorld.entities).id };
    case 'entities.list':
      return rng.pick<{ [key: string]: Value }>([
        {},
        { kind: 'item' },
        { regionId: 'region:far' },
        { ownerId: 'player:alice' },
      ]);
    case 'save':
    case 'session.end':
      return { sessionId };
    case 'export':
      return {};
  }
}

const text = (value: Value) => toJson(value);

/**
 * Structural hostility on top of a valid body: every result is refused whatever the session id,
 * because the body is not JSON, not an object, nested too deep, carries a forbidden or unknown key,
 * or has a field of the wrong type.
 */
export function malformed(valid: { [key: string]: Value }, rng: Rng): Body {
  const refused = (category: string, payload: string | Uint8Array, code?: 'BAD_REQUEST') => ({
    payload,
    category,
    expect: code ? ({ kind: 'refused', code } as const) : ({ kind: 'refused' } as const),
  });
  const keys = Object.keys(valid);
  switch (rng.int(0, 8)) {
    case 0:
      return refused('random bytes', rng.bytes(rng.int(0, 1_024)));
    case 1: {
      const whole = text(valid);
      return refused('truncated JSON', whole.slice(0, rng.int(0, whole.length - 1)), 'BAD_REQUEST');
    }
    case 2:
      return refused(
        'deeply nested JSON',
        deepText(rng.int(17, rng.chance(0.1) ? 100_000 : 2_000), rng),
        'BAD_REQUEST',
      );
    case 3:
      return refused(
        'deep value in a field',
        text({ ...valid, [rng.pick([...keys, 'x'])]: nestedField(rng) }),
        'BAD_REQUEST',
      );
    case 4:
      return refused(
        'not an object',
        rng.pick(['[]', '"x"', '1', 'null', 'true', '', ' ', '[{}]', '1e400']),
        'BAD_REQUEST',
      );
    case 5:
      return refused('prototype pollution', text(pollute(valid, rng)), 'BAD_REQUEST');
    case 6:
      return refused(
        'unknown field',
        text({ ...valid, [rng.pick(['detla', 'extra', 'sessionID', hostileString(rng)])]: 1 }),
        'BAD_REQUEST',
      );
    case 7:
      return keys.length === 0
        ? refused('unknown field', text({ [hostileString(rng)]: wrongType(rng) }), 'BAD_REQUEST')
        : refused('wrong type', text({ ...valid, [rng.pick(keys)]: wrongTypeFor(rng) }), 'BAD_REQUEST');
    default:
      return refused(
        'duplicate key, second wrong',
        text(new Pairs([...Object.entries(valid), [rng.pick([...keys, 'x']), wrongTypeFor(rng)]])),
      );
  }
}

/** Nesting past the depth limit of 16. */
function nestedField(rng: Rng): Value {
  let value: Value = 1;
  for (let i = rng.int(17, 60); i > 0; i -= 1) value = rng.chance(0.5) ? [value] : { a: value };
  return value;
}

/** Values no field of any request accepts (no strings: some string fields take any text). */
function wrongTypeFor(rng: Rng): Value {
  return rng.pick<Value>([null, true, -1, 1.5, {}, [1], { a: 1 }, [null, null]]);
}

/** A body that may or may not be valid: hostile ids, sizes and numbers in the right places. */
export function hostileFields(verb: Verb, sessionId: string, rng: Rng): { [key: string]: Value } {
  const id = () => (rng.chance(0.2) ? hostileNumber(rng) : hostileString(rng));
  switch (verb) {
    case 'create':
      return {
        format: rng.chance(0.7) ? 'lorekeeper.world/1' : id(),
        campaignId: id(),
        name: id(),
        seq: rng.chance(0.5) ? 0 : hostileNumber(rng),
        entities: rng.chance(0.5)
          ? [{ id: id(), kind: id(), version: hostileNumber(rng), state: wrongType(rng) }]
          : Array.from({ length: rng.int(0, 300) }, () => ({
              id: id(),
              kind: 'region',
              version: 0,
              state: { name: id(), neighbors: [id()] },
            })),
      };
    case 'session.start':
      return { playerIds: Array.from({ length: rng.chance(0.02) ? 1_001 : rng.int(0, 4) }, id) };
    case 'append':
      return {
        sessionId,
        events: [
          {
            type: id(),
            entityId: id(),
            data: { [hostileString(rng)]: id() },
            expectedVersion: hostileNumber(rng),
          },
        ],
      };
    case 'entity.get':
      return { entityId: id() };
    case 'entities.list':
      return { kind: id(), ...(rng.chance(0.5) ? { regionId: id() } : { ownerId: id() }) };
    case 'save':
    case 'session.end':
      return {
        sessionId: rng.chance(0.5) ? id() : `${sessionId}${rng.pick([' ', '\u0000', '*', '.>', 'x'])}`,
      };
    case 'export':
      return { [hostileString(rng)]: id() };
  }
}

/** Appends that look right and must still fail against a guarded campaign's live session. */
export function doomedAppend(campaign: GuardedCampaign, context: FuzzContext, rng: Rng): Body {
  const sessionId = campaign.sessionId;
  switch (rng.int(0, 5)) {
    case 0: {
      // A version other than the entity's: VERSION_CONFLICT, and none of the batch applies.
      const target = rng.pick(['player:alice', 'player:bob', 'npc:goblin', 'world'] as const);
      const before = batch(rng, rng.int(0, 4));
      // The version the target is at when the event comes: earlier events of the batch may move it.
      const at =
        (campaign.entities.get(target)?.version ?? 0) +
        before.filter((e) => (e as { entityId?: unknown }).entityId === target).length;
      const event = { ...validEventFor(target, rng), expectedVersion: at + rng.int(1, 1_000) };
      return {
        payload: text({ sessionId, events: [...before, event] }),
        expect: { kind: 'refused', code: 'VERSION_CONFLICT' },
        category: 'append with a wrong version',
      };
    }
    case 1: {
      const [poison, code] = poisonEvent(rng);
      const events = batch(rng, rng.int(0, 5));
      events.splice(rng.int(0, events.length), 0, poison);
      return {
        payload: text({ sessionId, events }),
        expect: code === 'refused' ? { kind: 'refused' } : { kind: 'refused', code: code as 'BAD_REQUEST' },
        category: 'append with one bad event',
      };
    }
    case 2:
      return {
        // Mostly small events, so the request stays under NATS's max_payload and reaches the service.
        payload: text({
          sessionId,
          events: Array.from({ length: 10_001 }, () => (rng.chance(0.005) ? validEvent(rng) : {})),
        }),
        expect: { kind: 'refused', code: 'PAYLOAD_TOO_LARGE' },
        category: 'oversized batch',
      };
    case 3:
      return {
        payload: text({
          sessionId,
          events: [
            ...batch(rng, 2),
            {
              type: 'world.flag.set',
              entityId: 'world',
              data: { key: 'big', value: 'x'.repeat(rng.int(16_400, 60_000)) },
            },
          ],
        }),
        expect: { kind: 'refused', code: 'PAYLOAD_TOO_LARGE' },
        category: 'oversized event',
      };
    case 4: {
      // Forged (random) or replayed (another campaign's) session id with an otherwise valid batch.
      const other = context.guarded.find((g) => g.id !== campaign.id);
      const forged = rng.chance(0.5) || !other ? randomUUID() : other.sessionId;
      return {
        payload: text({ sessionId: forged, events: batch(rng) }),
        expect: { kind: 'refused', code: 'SESSION_NOT_FOUND' },
        category: 'append with a forged or replayed session id',
      };
    }
    default:
      // The retry of an append made before the fuzzing: the first reply again, nothing appended.
      return {
        payload: JSON.stringify(campaign.idempotent.request),
        expect: { kind: 'same', body: campaign.idempotent.reply },
        category: 'idempotent retry',
      };
  }
}

function validEventFor(entityId: string, rng: Rng): { [key: string]: Value } {
  if (entityId === 'player:alice') return { type: 'player.gold.changed', entityId, data: { delta: 1 } };
  if (entityId === 'player:bob')
    return { type: 'player.xp.gained', entityId, data: { amount: rng.int(1, 9) } };
  if (entityId === 'npc:goblin') return { type: 'npc.damaged', entityId, data: { amount: 1 } };
  return { type: 'world.flag.set', entityId: 'world', data: { key: 'v', value: true } };
}
