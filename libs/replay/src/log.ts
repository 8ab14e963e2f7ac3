import type { DomainRegistry, RecordedEvent } from '@lorekeeper/domain';
import { referenceRegistry } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import { lastArchivedSeqAt, readCheckpoint, readEvents } from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import { readHeadSeq, readStreamRange } from '@lorekeeper/redis-store';
import type { Kysely } from 'kysely';

/** An event of the log, wherever it was read: the Postgres archive, or the live Redis stream. */
export interface LogEvent extends RecordedEvent {
  readonly streamId: string;
  readonly source: 'archive' | 'stream';
  /** Transient events (combat, dialogue) are never archived; they exist only in the stream's window. */
  readonly transient: boolean;
}

/**
 * The campaign's events with seq in [fromSeq, toSeq], oldest first, in pages: the archive up to the
 * durable checkpoint, then (with `redis`) the stream after it. Only persistent events are ever archived,
 * so transient ones appear only from the stream.
 */
export async function* readLog(
  db: Kysely<Database>,
  redis: Redis | undefined,
  campaignId: string,
  fromSeq: number,
  toSeq: number,
  options: { readonly registry?: DomainRegistry; readonly pageSize?: number } = {},
): AsyncGenerator<LogEvent[], void, undefined> {
  const registry = options.registry ?? referenceRegistry;
  const pageSize = options.pageSize ?? 10_000;
  const transient = (type: string) => registry.event(type)?.persistence === 'transient';
  const checkpoint = (await readCheckpoint(db, campaignId)).seq;
  for (let from = fromSeq; from <= Math.min(toSeq, checkpoint);) {
    const page = await readEvents(db, campaignId, {
      fromSeq: from,
      toSeq: Math.min(toSeq, checkpoint),
      limit: pageSize,
    });
    if (page.length > 0)
      yield page.map((e) => ({ ...e, source: 'archive' as const, transient: transient(e.type) }));
    if (page.length < pageSize) break;
    from = (page[page.length - 1] as RecordedEvent).seq + 1;
  }
  if (!redis) return;
  for (let from = Math.max(fromSeq, checkpoint + 1); from <= toSeq;) {
    const page = await readStreamRange(redis, campaignId, from, toSeq, pageSize);
    if (page.length > 0)
      yield page.map((e) => ({ ...e, source: 'stream' as const, transient: transient(e.type) }));
    if (page.length < pageSize) break;
    from = (page[page.length - 1] as RecordedEvent).seq + 1;
  }
}

/** Where the log ends now: the Redis head when the campaign is live there, else the durable checkpoint. */
export async function latestSeq(
  db: Kysely<Database>,
  redis: Redis | undefined,
  campaignId: string,
): Promise<number> {
  const checkpoint = (await readCheckpoint(db, campaignId)).seq;
  const head = redis ? await readHeadSeq(redis, campaignId) : 0;
  return Math.max(checkpoint, head);
}

/**
 * A point of the log given the way a person names one: a seq (`120`), a stream id (`120-0`), an ISO
 * time (the last event recorded at or before it; 0 when none was), or `latest`. Returns undefined for
 * text that is none of these, so the caller can say so.
 */
export async function resolvePoint(
  db: Kysely<Database>,
  redis: Redis | undefined,
  campaignId: string,
  text: string,
): Promise<number | undefined> {
  if (/^\d+$/.test(text)) return Number(text);
  const streamId = /^(\d+)-\d+$/.exec(text);
  if (streamId) return Number(streamId[1]);
  if (text === 'latest' || text === 'head') return latestSeq(db, redis, campaignId);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(Date.parse(text))) return undefined;
  const at = new Date(text);
  let seq = await lastArchivedSeqAt(db, campaignId, at);
  if (redis) {
    // Transient events and those past the checkpoint are only in the stream's window.
    for (const event of await readStreamRange(redis, campaignId, seq + 1, undefined, 100_000)) {
      if (Date.parse(event.meta.at) <= at.getTime()) seq = Math.max(seq, event.seq);
    }
  }
  return seq;
}
