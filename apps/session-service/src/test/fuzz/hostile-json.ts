import type { Rng } from './random';

/**
 * JSON the fuzzer can write but `JSON.stringify` cannot: raw number tokens (`1e400`), keys such as
 * `__proto__` (an object literal would set the prototype instead), repeated keys.
 */
export class Raw {
  constructor(readonly text: string) {}
}

export class Pairs {
  constructor(readonly entries: [string, Value][]) {}
}

export type Value = null | boolean | number | string | Raw | Pairs | Value[] | { [key: string]: Value };

export function toJson(value: Value): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Pairs) {
    return `{${value.entries.map(([key, item]) => `${JSON.stringify(key)}:${toJson(item)}`).join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') return toJson(new Pairs(Object.entries(value)));
  return JSON.stringify(value);
}

export const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

const POLLUTION_PAYLOADS: readonly Value[] = [
  { polluted: true },
  { isAdmin: true, toString: 'x' },
  new Pairs([['__proto__', { polluted: 'deep' }]]),
  { prototype: { polluted: 1 } },
  'polluted',
  null,
];

/** Add a prototype-pollution key to an object at a random depth of the value (or wrap it in one). */
export function pollute(value: Value, rng: Rng): Value {
  const objects: Pairs[] = [];
  const converted = asPairs(value, objects);
  const key = rng.pick(FORBIDDEN_KEYS);
  const payload = rng.pick(POLLUTION_PAYLOADS);
  if (objects.length === 0) return new Pairs([[key, payload]]);
  const target = rng.pick(objects);
  target.entries.splice(rng.int(0, target.entries.length), 0, [key, payload]);
  return converted;
}

/** A copy where every plain object became Pairs (collected in `into`), so keys can be spliced in. */
function asPairs(value: Value, into: Pairs[]): Value {
  if (value instanceof Raw || value === null || typeof value !== 'object') return value;
  if (value instanceof Pairs) {
    const copy = new Pairs(value.entries.map(([key, item]) => [key, asPairs(item, into)]));
    into.push(copy);
    return copy;
  }
  if (Array.isArray(value)) return value.map((item) => asPairs(item, into));
  return asPairs(new Pairs(Object.entries(value)), into);
}

const UNICODE = [
  'é',
  '中文',
  '😀',
  '\u202eevil',
  'a\u0301',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\u2028',
  '\uffff',
  'Ω≈ç√',
];
const CONTROL = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\b',
  '\t',
  '\n',
  '\r',
  '\u001b[31m',
  '\u007f',
  '\r\nPING\r\n',
];
const INJECTION = [
  "'; drop table entities; --",
  'lk:{c:x}:*',
  '{c:other}',
  '%s%s%n',
  '${process.exit()}',
  '../../etc/passwd',
  '$where',
  '0x7fffffff',
  'null',
  'undefined',
  'NaN',
];
const ID_CHAOS = [
  'player:a.b',
  'player:*',
  'player:>',
  'player:',
  ':alice',
  'player::alice',
  'player:alice ',
  'Player:alice',
  'world:x',
  'player:__proto__',
  '__proto__:x',
  'constructor',
  'prototype',
  'region:vale.*',
  'a.b.c',
  '*',
  '>',
];

/** Strings that break naive code: unicode, control characters, injections, look-alike ids, sizes. */
export function hostileString(rng: Rng): string {
  switch (rng.int(0, 7)) {
    case 0:
      return rng.pick(UNICODE).repeat(rng.int(1, 40));
    case 1:
      return `x${rng.pick(CONTROL)}y`;
    case 2:
      return rng.pick(INJECTION);
    case 3:
      return rng.pick(ID_CHAOS);
    case 4:
      return rng.pick(['', ' ', 'a'.repeat(129), `player:${'a'.repeat(200)}`]);
    case 5:
      // Big, but mostly far below NATS's 1 MB so the request reaches the service.
      return rng
        .pick(['A', 'é', '😀'])
        .repeat(rng.chance(0.9) ? rng.int(1_000, 20_000) : rng.int(50_000, 200_000));
    case 6:
      return `${rng.pick(FORBIDDEN_KEYS)}`;
    default:
      return `${rng.pick(ID_CHAOS)}${rng.pick(UNICODE)}${rng.pick(CONTROL)}`;
  }
}

/** Numbers at and past the edges: unsafe integers, overflow to infinity, -0, fractions, exponents. */
export function hostileNumber(rng: Rng): Value {
  return rng.pick<Value>([
    0,
    -0,
    -1,
    1.5,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 63),
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    new Raw('1e400'),
    new Raw('-1e400'),
    new Raw('123456789012345678901234567890123456789'),
    new Raw('1E+2'),
    new Raw('-0.0'),
    new Raw(`0.${'0'.repeat(400)}1`),
    new Raw('9'.repeat(rng.int(400, 5_000))),
  ]);
}

/** A value of a type the schema does not expect there (or of the right type at a wrong size). */
export function wrongType(rng: Rng): Value {
  switch (rng.int(0, 5)) {
    case 0:
      return rng.pick<Value>([null, true, false, [], {}, [1, 2], { a: 1 }, [null]]);
    case 1:
      return hostileNumber(rng);
    case 2:
      return hostileString(rng);
    case 3:
      return deepValue(rng.int(2, 40), rng);
    case 4:
      return [hostileString(rng), hostileNumber(rng)];
    default:
      return new Pairs([[hostileString(rng), hostileString(rng)]]);
  }
}

/** A nested array or object; deep ones go past the service's depth limit. */
export function deepValue(depth: number, rng: Rng): Value {
  let value: Value = rng.pick<Value>([1, 'x', null, {}]);
  for (let i = 0; i < depth; i += 1) value = rng.chance(0.5) ? [value] : { a: value };
  return value;
}

/** Deep nesting as text, cheap to build at any depth (100k levels is 200 KB). */
export function deepText(depth: number, rng: Rng): string {
  if (rng.chance(0.5)) return `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const closed = rng.chance(0.8);
  return `${'{"a":'.repeat(depth)}1${closed ? '}'.repeat(depth) : ''}`;
}
