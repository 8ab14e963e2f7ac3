import { CAMPAIGN_ID_PATTERN } from '@lorekeeper/domain';

/** The request verbs of PROTOCOL.md; each is served on `campaign.<campaignId>.<verb>`. */
export const VERBS = [
  'create',
  'session.start',
  'append',
  'entity.get',
  'entities.list',
  'save',
  'session.end',
  'export',
] as const;

export type Verb = (typeof VERBS)[number];

export function subjectFor(campaignId: string, verb: Verb): string {
  return `campaign.${campaignId}.${verb}`;
}

/** The wildcard a service subscribes to for one verb: `campaign.*.append`. */
export function subscriptionFor(verb: Verb): string {
  return `campaign.*.${verb}`;
}

/** Where committed batches are published for followers (pub/sub, one message per batch). */
export function eventsSubject(campaignId: string): string {
  return `campaign.${campaignId}.events`;
}

/**
 * The campaign id named by a request subject, or undefined when it is not a valid one. A subject
 * token cannot hold a dot, so only the id's character set needs checking.
 */
export function campaignIdOf(subject: string): string | undefined {
  const parts = subject.split('.');
  const id = parts[1];
  return parts[0] === 'campaign' && id !== undefined && CAMPAIGN_ID_PATTERN.test(id) ? id : undefined;
}

/**
 * Internal: the session service asks the persistence workers to flush a campaign (a save or a session
 * end). Pub/sub, so every worker hears it and the one holding the campaign's lease acts.
 */
export function flushRequestSubject(campaignId: string): string {
  return `lorekeeper.flush.${campaignId}`;
}

export const FLUSH_REQUEST_SUBSCRIPTION = 'lorekeeper.flush.*';

export interface FlushRequest {
  readonly campaignId: string;
  /**
   * `major`: an append holding a major event waits for it to be durable; the worker reads the stream
   * at once instead of at its next poll, and the event itself makes the flush.
   */
  readonly trigger: 'manual' | 'session-end' | 'major';
}

/**
 * Internal: a persistence worker announces each flush it commits, so the session service answers an
 * append waiting for its major event to be durable as soon as it hears it, instead of at its next look
 * at the checkpoint. Pub/sub, at most once: the waiting append still reads the checkpoint now and then.
 */
export function durableSubject(campaignId: string): string {
  return `lorekeeper.durable.${campaignId}`;
}

export const DURABLE_SUBSCRIPTION = 'lorekeeper.durable.*';

export interface DurableNotice {
  readonly campaignId: string;
  /**
   * Every event up to this seq is durable in Postgres: the archive's end after a major event's flush,
   * the checkpoint after any other.
   */
  readonly seq: number;
  /**
   * The campaign's checkpoint after the flush: the entities are written up to it. Absent from the
   * notices of workers older than 2026-11-28.
   */
  readonly checkpoint?: number;
}
