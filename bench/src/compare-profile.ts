import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ProfileSummary } from './cpu-profile';
import { profileMarkdown, summariseProfile } from './cpu-profile';
import { writeResults } from './results';

/** compare-profile.json: the session service's profile, summarised, with how it was taken. */
export interface CompareProfile {
  readonly date: string;
  readonly context: string;
  readonly summary: ProfileSummary;
}

/**
 * The profiled session service wrote its .cpuprofile into `dir` on exit; summarise it into
 * compare-profile.md and .json (the profile itself, tens of MB, is not kept).
 */
export function writeCompareProfile(dir: string, args: readonly string[], what: string): void {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the session service left no .cpuprofile in ${dir}`);
  const context =
    `\`npm run bench:compare -- ${args.join(' ')}\` (${what}): \`node --cpu-prof\` on the session service for the ` +
    `whole run: its start and an unmeasured warm-up burst, then each block of ${what} (probe, ramp past saturation, 50% and 90% steps). ` +
    `Profile: ${join(dir, file)} (not kept).`;
  const summary = summariseProfile(join(dir, file), 20);
  const profile: CompareProfile = { date: new Date().toISOString(), context, summary };
  rmSync(dir, { recursive: true, force: true });
  writeResults('compare-profile', profileMarkdown(summary, context), profile);
}
