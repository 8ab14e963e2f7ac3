import { InvalidArgumentError } from 'commander';

/** A `--from`/`--to` bound: a seq (`120`), a stream id (`120-0`, the same seq) or an ISO time. */
export type Bound = { readonly seq: number } | { readonly time: Date };

export function parseBound(value: string): Bound {
  if (/^\d+$/.test(value)) return { seq: safeSeq(value) };
  const streamId = /^(\d+)-\d+$/.exec(value);
  if (streamId) return { seq: safeSeq(streamId[1] as string) };
  const time = new Date(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(time.getTime())) return { time };
  throw new InvalidArgumentError(
    'expected a seq (120), a stream id (120-0) or an ISO time (2026-11-25T12:00:00Z).',
  );
}

function safeSeq(digits: string): number {
  const seq = Number(digits);
  if (!Number.isSafeInteger(seq)) throw new InvalidArgumentError(`${digits} is not a usable seq.`);
  return seq;
}

/** `--type a --type b,c` becomes [a, b, c]. */
export function collectTypes(value: string, previous: readonly string[] = []): string[] {
  const types = value
    .split(',')
    .map((type) => type.trim())
    .filter((type) => type.length > 0);
  if (types.length === 0) throw new InvalidArgumentError('expected an event type, such as player.moved.');
  return [...previous, ...types];
}

/** Which events to list; every field narrows, none means all. */
export interface EventFilter {
  readonly fromSeq?: number;
  readonly toSeq?: number;
  readonly fromTime?: Date;
  readonly toTime?: Date;
  readonly types?: readonly string[];
  readonly entityId?: string;
}

export function filterOf(options: {
  readonly from?: Bound;
  readonly to?: Bound;
  readonly type?: readonly string[];
  readonly entity?: string;
}): EventFilter {
  const filter: { -readonly [K in keyof EventFilter]: EventFilter[K] } = {};
  if (options.from && 'seq' in options.from) filter.fromSeq = options.from.seq;
  if (options.from && 'time' in options.from) filter.fromTime = options.from.time;
  if (options.to && 'seq' in options.to) filter.toSeq = options.to.seq;
  if (options.to && 'time' in options.to) filter.toTime = options.to.time;
  if (options.type && options.type.length > 0) filter.types = options.type;
  if (options.entity !== undefined) filter.entityId = options.entity;
  return filter;
}

/** The same filter the archive query applies, for events read from the stream. */
export function matches(
  event: { readonly seq: number; readonly type: string; readonly entityId: string; readonly at: string },
  filter: EventFilter,
): boolean {
  if (filter.fromSeq !== undefined && event.seq < filter.fromSeq) return false;
  if (filter.toSeq !== undefined && event.seq > filter.toSeq) return false;
  if (filter.types !== undefined && !filter.types.includes(event.type)) return false;
  if (filter.entityId !== undefined && event.entityId !== filter.entityId) return false;
  const at = Date.parse(event.at);
  if (filter.fromTime !== undefined && !(at >= filter.fromTime.getTime())) return false;
  if (filter.toTime !== undefined && !(at <= filter.toTime.getTime())) return false;
  return true;
}
