import pino from 'pino';
import { loadConfig } from '@lorekeeper/config';
import { referenceRegistry } from '@lorekeeper/domain';
import { readCheckpoint } from '@lorekeeper/pg-store';
import { CampaignConsumer } from '../campaign-consumer';
import { createWorkerMetrics } from '../ops/metrics';
import type { System } from './system';

/**
 * A consumer of one campaign driven by the test itself (no worker loop, no lease), from the campaign's
 * checkpoint, with the system's settings plus `settings`.
 */
export async function directConsumer(
  h: System,
  campaignId: string,
  workerId: string,
  settings: Record<string, string> = {},
): Promise<CampaignConsumer> {
  return new CampaignConsumer(
    {
      config: loadConfig({ ...process.env, ...h.env, ...settings }),
      registry: referenceRegistry,
      redis: h.redis,
      db: h.db.db,
      metrics: createWorkerMetrics(),
      logger: pino({ level: 'silent' }),
      workerId,
    },
    campaignId,
    await readCheckpoint(h.db.db, campaignId),
  );
}
