import { randomBytes } from 'node:crypto';

let counter = 0;

/**
 * A campaign id no other test file or run uses, so tests share Redis and NATS without seeing each
 * other's keys or subjects. Always matches the campaign id pattern of PROTOCOL.md.
 */
export function uniqueCampaignId(label = 'test'): string {
  counter += 1;
  const suffix = `${process.pid.toString(36)}-${counter}-${randomBytes(3).toString('hex')}`;
  const safeLabel = label.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64 - suffix.length - 1);
  return `${safeLabel}-${suffix}`;
}
