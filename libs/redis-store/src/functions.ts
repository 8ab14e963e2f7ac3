import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';

/** The Lua library, read once; it is copied beside the compiled code by the build. */
export const FUNCTION_LIBRARY = readFileSync(join(__dirname, 'functions', 'lorekeeper.lua'), 'utf8');

export type FunctionName =
  | 'lk_append'
  | 'lk_append_v2'
  | 'lk_append_v3'
  | 'lk_session_start'
  | 'lk_load'
  | 'lk_session_close'
  | 'lk_session_reopen'
  | 'lk_lease_acquire'
  | 'lk_lease_release';

/** Load (or replace) the library. Functions survive restarts and replicate, unlike ad-hoc EVAL. */
export async function loadFunctions(redis: Redis): Promise<void> {
  await redis.call('FUNCTION', 'LOAD', 'REPLACE', FUNCTION_LIBRARY);
}

/**
 * Call one of our functions. A Redis that restarted without persistence has lost the library; load
 * it again and retry once.
 */
export async function callFunction(
  redis: Redis,
  name: FunctionName,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.fcall(name, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !/function not found/i.test(error.message)) throw error;
    await loadFunctions(redis);
    return redis.fcall(name, keys.length, ...keys, ...args);
  }
}
