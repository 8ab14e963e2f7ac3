import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import type { DomainEvent } from '@lorekeeper/domain';
import { requestOver } from '@lorekeeper/testing';

/** An event the service acknowledged, with the seq it was given. */
export interface AckedEvent extends DomainEvent {
  readonly seq: number;
}

/**
 * Append as a careful game server does: retry a timed-out or UNAVAILABLE append with the same
 * idempotency key until it is answered, so every batch is applied exactly once. Returns the events
 * with their seqs, or the error reply when the batch was refused.
 */
export async function appendUntilAnswered(
  nats: NatsConnection,
  campaignId: string,
  sessionId: string,
  events: readonly DomainEvent[],
): Promise<AckedEvent[]> {
  const idempotencyKey = randomUUID();
  for (let attempt = 0; attempt < 100; attempt += 1) {
    try {
      const reply = await requestOver(
        nats,
        campaignId,
        'append',
        { sessionId, events, idempotencyKey },
        5_000,
      );
      if (reply.body.error?.code === 'UNAVAILABLE') continue;
      if (reply.body.error) throw new Error(`append refused: ${JSON.stringify(reply.body.error)}`);
      return events.map((event, i) => ({ ...event, seq: reply.body.results[i].seq as number }));
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('append refused')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error('append was never answered');
}
