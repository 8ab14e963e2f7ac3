import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { ServiceUnreachableError } from '@lorekeeper/config';

/** Connect to NATS (reconnecting forever once connected); a NATS that does not answer is named. */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  try {
    return await connect({ servers: url, name, maxReconnectAttempts: -1, timeout: 2_000 });
  } catch (cause) {
    throw new ServiceUnreachableError('NATS', url, cause);
  }
}
