import type { Entity, ErrorCode } from '@lorekeeper/domain';

/** A campaign set up before the fuzzing, with a live session, that only refused requests may reach. */
export interface GuardedCampaign {
  readonly id: string;
  readonly sessionId: string;
  /** Every live entity as it stood before the fuzzing (the whole tiny world is made live). */
  readonly entities: ReadonlyMap<string, Entity>;
  /** An append made before the fuzzing with an idempotency key, and its reply: a retry must get it again. */
  readonly idempotent: { readonly request: object; readonly reply: unknown };
}

export interface FuzzContext {
  readonly guarded: readonly GuardedCampaign[];
  /** Every other valid campaign id the fuzzer makes up starts with this (its Redis keys are deleted after). */
  readonly prefix: string;
  /** Valid ids that name things in JavaScript; they are campaigns like any other. */
  readonly specialIds: readonly string[];
  /** Campaigns the fuzzer created with valid requests (on made-up ids). */
  readonly created: string[];
}

/** What the reply to a message must be. */
export type Expectation =
  /** No service subscribes to the subject: NATS answers "no responders". */
  | { readonly kind: 'nobody' }
  /** A coded error (this code when given). */
  | { readonly kind: 'refused'; readonly code?: ErrorCode }
  /** Either a coded error or a valid success body. */
  | { readonly kind: 'answer' }
  /** Exactly this success body (an idempotent retry). */
  | { readonly kind: 'same'; readonly body: unknown };

export interface FuzzMessage {
  readonly subject: string;
  readonly payload: Uint8Array | string;
  readonly headers?: readonly (readonly [string, string])[];
  readonly expect: Expectation;
  /** What the generator meant to try, for the report. */
  readonly category: string;
  /** The guarded campaign the subject names, if any: its read replies are checked against the snapshot. */
  readonly guarded?: GuardedCampaign;
  readonly verb?: string;
  /** Sent with publish, not request: nobody waits for a reply (or it goes to `reply`, another subject). */
  readonly publishOnly?: { readonly reply?: string };
}

export interface Body {
  readonly payload: Uint8Array | string;
  readonly expect: Expectation;
  readonly category: string;
}
