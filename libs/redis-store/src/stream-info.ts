import type { Redis } from 'ioredis';
import { CONSUMER_GROUP } from './consumer';
import { campaignKeys } from './keys';

/** The workers' consumer group on one campaign's stream, as XINFO GROUPS reports it. */
export interface GroupInfo {
  /** Entries delivered to a worker and not acknowledged yet. */
  readonly pending: number;
  /** Entries not delivered yet; null when Redis cannot tell (after trimming or deletions). */
  readonly lag: number | null;
  readonly lastDeliveredId: string;
  readonly consumers: number;
}

/** The group's state, or undefined when the stream or the group does not exist (yet). */
export async function readGroupInfo(redis: Redis, campaignId: string): Promise<GroupInfo | undefined> {
  let groups: unknown[];
  try {
    groups = (await redis.xinfo('GROUPS', campaignKeys(campaignId).events)) as unknown[];
  } catch (error) {
    if (error instanceof Error && error.message.includes('no such key')) return undefined;
    throw error;
  }
  for (const group of groups) {
    const fields = pairs(group as unknown[]);
    if (asText(fields.get('name'), '') !== CONSUMER_GROUP) continue;
    const lag = fields.get('lag');
    return {
      pending: Number(fields.get('pending') ?? 0),
      lag: lag === null || lag === undefined ? null : Number(lag),
      lastDeliveredId: asText(fields.get('last-delivered-id'), '0-0'),
      consumers: Number(fields.get('consumers') ?? 0),
    };
  }
  return undefined;
}

/** Which worker holds the campaign's lease and for how much longer (ms); undefined when nobody does. */
export async function readLease(
  redis: Redis,
  campaignId: string,
): Promise<{ readonly holder: string; readonly expiresInMs: number } | undefined> {
  const key = campaignKeys(campaignId).lease;
  const [holder, ttl] = await Promise.all([redis.get(key), redis.pttl(key)]);
  return holder === null ? undefined : { holder, expiresInMs: Math.max(0, ttl) };
}

function asText(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function pairs(flat: readonly unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1]);
  return map;
}
