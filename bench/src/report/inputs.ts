import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapacityOptions, Part } from '../capacity/options';
import type { CapacityResults } from '../capacity/report';
import type { CompareData } from '../compare-data';
import type { CompareProfile } from '../compare-profile';

/** capacity.json: its results, with the set of parts written as an array. */
export type CapacityData = Omit<CapacityResults, 'options'> & {
  readonly options: Omit<CapacityOptions, 'parts'> & { readonly parts: readonly Part[] };
};

/** replay.json. */
export interface ReplayData {
  readonly EVENTS: number;
  readonly SNAPSHOT_EVERY: number;
  readonly ROUNDS: number;
  /** Milliseconds per round, by what was timed. */
  readonly timings: Readonly<Record<string, readonly number[]>>;
  /** Which entry of `timings` is which. */
  readonly cases: { readonly worst: string; readonly entity: string; readonly baseline: string };
}

/** Every step's results that the combined report is made from; absent where a step did not run or failed. */
export interface ReportInputs {
  readonly compare?: CompareData;
  readonly capacity?: CapacityData;
  readonly replay?: ReplayData;
  readonly compareProfile?: CompareProfile;
}

export function readJson<T>(dir: string, name: string): T | undefined {
  const file = join(dir, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}
