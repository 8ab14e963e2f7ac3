import { z } from 'zod';
import { ENTITY_ID_PATTERN } from './ids';

/** Keys that would reach an object's prototype if a consumer ever assigned them (PROTOCOL.md: refused). */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export const MAX_JSON_DEPTH = 16;

export const entityId = z.string().regex(ENTITY_ID_PATTERN, 'must be an entity id such as player:alice');

/** An entity id whose kind is one of `kinds`. */
export function entityIdOf(...kinds: readonly string[]) {
  return entityId.refine((id) => kinds.includes(id === 'world' ? 'world' : id.slice(0, id.indexOf(':'))), {
    error: (issue) => `must be the id of a ${kinds.join(' or ')}, got ${String(issue.input)}`,
  });
}

export const name = z.string().min(1).max(200);
export const shortText = z.string().min(1).max(64);
export const positiveInt = z.int().positive();
export const nonNegativeInt = z.int().nonnegative();

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Why `value` is not plain, bounded JSON without prototype keys, or undefined when it is. */
export function jsonProblem(value: unknown, depth = 0): string | undefined {
  if (depth > MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels`;
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'not a finite number';
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jsonProblem(item, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key)) return `key "${key}" is not allowed`;
      const problem = jsonProblem(item, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  return `a ${typeof value} is not JSON`;
}

export const jsonValue: z.ZodType<JsonValue> = z.unknown().superRefine((value, ctx) => {
  const problem = jsonProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}) as unknown as z.ZodType<JsonValue>;

export const flagKey = z
  .string()
  .min(1)
  .max(128)
  .refine((key) => !FORBIDDEN_KEYS.has(key), { message: 'is a reserved key' });

/** Zod issues as `path: message` lines, the format every BAD_REQUEST detail uses. */
export function describeIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}
