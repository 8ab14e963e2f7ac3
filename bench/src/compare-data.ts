import type { BlockResult, Plan } from './compare-run';
import type { StepResult } from './open-loop';
import { median } from './stats';

/*
 * What one bench:compare run measured, as compare.json stores it. compare.md and the combined
 * report.md are both rendered from this, so a figure is computed one way wherever it appears.
 */

/**
 * A step as stored: everything but the ids of refused entities. Runs before 2026-11-27 recorded latency
 * from the due time only (as `latencyMs`) and no `fromDueLatencyMs`.
 */
export type StepSample = Omit<StepResult, 'refusedEntities' | 'fromDueLatencyMs'> &
  Partial<Pick<StepResult, 'fromDueLatencyMs'>>;

export interface BlockSample extends Omit<BlockResult, 'probe' | 'ramp' | 'at50' | 'at90'> {
  readonly probe: StepSample;
  readonly ramp: readonly StepSample[];
  readonly at50: StepSample;
  readonly at90: StepSample;
}

export interface ContenderInfo {
  /** For `--only`: lorekeeper-1, lorekeeper-20, echo, ceiling-1, ceiling-20, write-through, emmett-log, emmett-projected. */
  readonly key: string;
  readonly name: string;
  readonly batch: number;
  readonly acknowledgement: string;
}

/** A contender that was asked for but could not run, and why (Emmett when its install failed). */
export interface SkippedContender {
  readonly key: string;
  readonly name: string;
  readonly reason: string;
}

export interface CompareData {
  readonly meta: {
    readonly date: string;
    readonly cores: number;
    readonly node: string;
    readonly quick: boolean;
    /** Emmett's version, when it ran. */
    readonly emmett?: string;
  };
  readonly rounds: number;
  readonly plan: Plan;
  readonly scenarios: readonly { readonly key: string; readonly name: string }[];
  readonly contenders: readonly ContenderInfo[];
  readonly skipped: readonly SkippedContender[];
  readonly samples: readonly BlockSample[];
}

/** One contender on one scenario: its blocks over the rounds, and the median saturation. */
export interface ContenderRow {
  readonly contender: ContenderInfo;
  readonly blocks: readonly BlockSample[];
  readonly saturation: number;
}

export function toSample(result: BlockResult): BlockSample {
  const step = ({ refusedEntities: _ids, ...rest }: StepResult): StepSample => rest;
  return {
    ...result,
    probe: step(result.probe),
    ramp: result.ramp.map(step),
    at50: step(result.at50),
    at90: step(result.at90),
  };
}

export function rowsOf(data: CompareData, scenario: string): ContenderRow[] {
  return data.contenders.map((contender) => {
    const blocks = data.samples.filter((s) => s.contender === contender.name && s.scenario === scenario);
    return { contender, blocks, saturation: median(blocks.map((b) => b.saturation)) };
  });
}

export const rowFor = (rows: readonly ContenderRow[], key: string): ContenderRow | undefined =>
  rows.find((r) => r.contender.key === key && r.blocks.length > 0);

/** The median over rounds of one figure of a block. */
export const medianOf = (row: ContenderRow, pick: (block: BlockSample) => number): number =>
  median(row.blocks.map(pick));

/** A figure per 1,000 events applied in the 90% step (the window CPU and rows are counted over). */
export const per1000 = (block: BlockSample, value: number): number =>
  (value / Math.max(1, block.at90.applied)) * 1_000;
