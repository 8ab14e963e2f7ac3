import { loadConfig } from './config';
import { natsAuthFrom, withoutCredentials } from './nats-auth';

describe('NATS credentials', () => {
  it('reads user and percent-encoded password from the URL, since nats.js ignores them there', () => {
    expect(natsAuthFrom('nats://lorekeeper:p%40ss%2Fw@nats:4222')).toEqual({
      user: 'lorekeeper',
      pass: 'p@ss/w',
    });
    expect(withoutCredentials('nats://lorekeeper:p%40ss@nats:4222')).toBe('nats://nats:4222');
  });

  it('prefers NATS_USER and NATS_PASSWORD over the URL', () => {
    const config = loadConfig({
      NATS_URL: 'nats://old:old@nats:4222',
      NATS_USER: 'lorekeeper',
      NATS_PASSWORD: 'secret',
    });
    expect(config.natsAuth).toEqual({ user: 'lorekeeper', pass: 'secret' });
  });

  it('needs none when neither gives any', () => {
    expect(loadConfig({}).natsAuth).toBeUndefined();
    expect(withoutCredentials('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
  });

  it('refuses a password without a user, without echoing it', () => {
    expect(() => loadConfig({ NATS_PASSWORD: 'secret' })).toThrow(/NATS_PASSWORD is set without NATS_USER/);
    expect(() => loadConfig({ NATS_USER: 'x', NATS_PASSWORD: '' })).toThrow(/NATS_PASSWORD="\*\*\*"/);
  });
});
