import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import type { NatsAuth } from '@lorekeeper/config';
import { ServiceUnreachableError, withoutCredentials } from '@lorekeeper/config';

/**
 * Connect to NATS (reconnecting forever once connected); a NATS that does not answer is named. The
 * credentials go as options: nats.js does not read them from the URL.
 */
export async function connectNats(url: string, name: string, auth?: NatsAuth): Promise<NatsConnection> {
  try {
    return await connect({
      servers: withoutCredentials(url),
      name,
      maxReconnectAttempts: -1,
      timeout: 2_000,
      ...(auth ? { user: auth.user, pass: auth.pass } : {}),
    });
  } catch (cause) {
    throw new ServiceUnreachableError('NATS', url, cause);
  }
}
