import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Msg, NatsConnection } from 'nats';
import { withMallocTunables } from '@lorekeeper/config';
import { uniqueCampaignId } from './campaigns';
import { dieWithParent } from './processes';

/** A reply as a game server sees it: the JSON body and the service-error headers. */
export interface WireReply {
  // Replies are arbitrary JSON; tests read the fields they assert on.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  readonly statusHeader: string | undefined;
  readonly messageHeader: string | undefined;
}

export function decodeReply(message: Msg): WireReply {
  return {
    body: JSON.parse(new TextDecoder().decode(message.data)) as unknown,
    statusHeader: message.headers?.get('Nats-Service-Error-Code') || undefined,
    messageHeader: message.headers?.get('Nats-Service-Error') || undefined,
  };
}

/** Send one request to `campaign.<id>.<verb>` as a game server would. */
export async function requestOver(
  nats: NatsConnection,
  campaignId: string,
  verb: string,
  body: unknown,
  timeoutMs = 10_000,
): Promise<WireReply> {
  const payload = body instanceof Uint8Array || typeof body === 'string' ? body : JSON.stringify(body);
  return decodeReply(await nats.request(`campaign.${campaignId}.${verb}`, payload, { timeout: timeoutMs }));
}

export type ServiceName = 'session-service' | 'persistence-worker';

const READY_LINE: Record<ServiceName, string> = {
  'session-service': 'session service ready',
  'persistence-worker': 'persistence worker ready',
};

export interface ServiceProcess {
  readonly name: ServiceName;
  readonly process: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  readonly exited: Promise<number | null>;
  /** SIGTERM and wait (graceful); `kill('SIGKILL')` on `process` for a crash. */
  stop(): Promise<number | null>;
}

const REPO_ROOT = join(__dirname, '..', '..', '..');

/** Run a built service (`npm run build` first) with the given environment; resolves once it is ready. */
export async function spawnService(name: ServiceName, env: Record<string, string>): Promise<ServiceProcess> {
  const child = dieWithParent(
    spawn(process.execPath, [join(REPO_ROOT, 'apps', name, 'dist', 'main.js')], {
      env: withMallocTunables({
        ...process.env,
        LOG_LEVEL: 'info',
        SESSION_HTTP_PORT: '0',
        WORKER_HTTP_PORT: '0',
        ...env,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(READY_LINE[name])) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${output}`)));
  });
  return {
    name,
    process: child,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Create a campaign from a world document under a fresh id (as a game server would); returns the id. */
export async function createCampaignOver(
  nats: NatsConnection,
  world: object,
  label: string,
): Promise<string> {
  const campaignId = uniqueCampaignId(label);
  const reply = await requestOver(nats, campaignId, 'create', { ...world, campaignId });
  if (reply.body.error) throw new Error(`create failed: ${JSON.stringify(reply.body)}`);
  return campaignId;
}

/** Start (or join) the campaign's session for these players; returns the session id. */
export async function startSessionOver(
  nats: NatsConnection,
  campaignId: string,
  playerIds: readonly string[],
): Promise<string> {
  const reply = await requestOver(nats, campaignId, 'session.start', { playerIds });
  if (reply.body.error) throw new Error(`session.start failed: ${JSON.stringify(reply.body)}`);
  return reply.body.sessionId as string;
}
