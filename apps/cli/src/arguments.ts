import { CAMPAIGN_ID_PATTERN } from '@lorekeeper/domain';
import { InvalidArgumentError } from 'commander';

/** Commander parsers for arguments shared by several commands; a bad value is a usage error (exit 2). */
export function campaignId(value: string): string {
  if (!CAMPAIGN_ID_PATTERN.test(value))
    throw new InvalidArgumentError(`"${value}" is not a campaign id (letters, digits, _ and -, at most 64).`);
  return value;
}

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError('expected a positive integer.');
  return parsed;
}
