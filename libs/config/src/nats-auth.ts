/** User and password for NATS (nats.js takes them as options; it ignores user info in a URL). */
export interface NatsAuth {
  readonly user: string;
  readonly pass: string;
}

/**
 * The NATS credentials: NATS_USER and NATS_PASSWORD when set, else the user info of NATS_URL
 * (`nats://user:password@host:4222`, percent-encoded), else none.
 */
export function natsAuthFrom(url: string, user?: string, password?: string): NatsAuth | undefined {
  if (user !== undefined) return { user, pass: password ?? '' };
  try {
    const parsed = new URL(url);
    if (!parsed.username) return undefined;
    return { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) };
  } catch {
    return undefined;
  }
}

/** The URL without user info, as the NATS client is given it (so no error or log can echo a password). */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
