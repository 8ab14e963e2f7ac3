import { MAX_JSON_DEPTH, jsonProblem } from './index';

const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : [nested(depth - 1)]);

describe('jsonProblem', () => {
  it('accepts plain JSON', () => {
    expect(jsonProblem({ a: [1, 'two', null, true, { b: -0.5 }] })).toBeUndefined();
  });

  it(`accepts nesting up to ${MAX_JSON_DEPTH} levels and refuses one more`, () => {
    expect(jsonProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonProblem(nested(MAX_JSON_DEPTH + 1))).toBe(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses an own %s key anywhere', (key) => {
    const hostile: unknown = JSON.parse(`{"ok": [{"${key}": {}}]}`);
    expect(jsonProblem(hostile)).toBe(`key "${key}" is not allowed`);
  });

  it.each([
    [Number.NaN, 'not a finite number'],
    [Infinity, 'not a finite number'],
    [undefined, 'a undefined is not JSON'],
    [() => 1, 'a function is not JSON'],
    [10n, 'a bigint is not JSON'],
  ])('refuses %p: %s', (value, problem) => {
    expect(jsonProblem({ value })).toBe(problem);
  });
});
