import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => Promise<Record<string, boolean>>;

/**
 * /metrics (Prometheus), /health/live (the process answers) and /health/ready (every store answers;
 * 503 with the failing ones otherwise). Plain node:http: no web framework for three routes.
 */
export async function startOpsServer(
  port: number,
  registry: Registry,
  ready: ReadinessCheck,
): Promise<Server> {
  const server = createServer((request, response) => {
    const reply = (status: number, body: string, type = 'application/json') => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    const route = async () => {
      switch (request.url) {
        case '/metrics':
          return reply(200, await registry.metrics(), registry.contentType);
        case '/health/live':
          return reply(200, JSON.stringify({ status: 'ok' }));
        case '/health/ready': {
          const checks = await ready();
          const ok = Object.values(checks).every(Boolean);
          return reply(ok ? 200 : 503, JSON.stringify({ status: ok ? 'ok' : 'unavailable', checks }));
        }
        default:
          return reply(404, JSON.stringify({ error: 'not found' }));
      }
    };
    route().catch(() => reply(500, JSON.stringify({ error: 'internal error' })));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
  return server;
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}
