import { median } from '../stats';

/**
 * The figures issue 8 asks of every scenario. A section lists each with where it is or why it is
 * missing, so a figure the run did not take is named rather than left out or made up.
 */
export const FIGURES = {
  sustained: 'sustained events/s',
  latency: 'append latency p50 / p99 / p99.9 at 50% and 90% of saturation',
  lag: 'event-to-durable lag p99',
  rows: 'Postgres rows written per 1,000 events',
  redis: 'Redis memory per live entity and in total',
  cpu: 'CPU seconds per 1,000 events, per process',
} as const;

export type Figure = keyof typeof FIGURES;

/** Per figure: where it is, or "not measured: why". */
export type Coverage = Readonly<Record<Figure, string>>;

export function coverageList(coverage: Coverage): string[] {
  return [
    'The figures issue 8 asks for:',
    '',
    ...(Object.keys(FIGURES) as Figure[]).map((figure) => `- ${FIGURES[figure]}: ${coverage[figure]}`),
    '',
  ];
}

/**
 * Per-process CPU seconds per 1,000 events, the median over samples of each sample's own ratio:
 * "persistence worker 0.123, postgres (all) 0.045 (total 0.168)"; "not measured" without readings.
 */
export function cpuPer1000(
  samples: readonly { readonly cpuSeconds?: Readonly<Record<string, number>>; readonly events: number }[],
): string {
  const read = samples.filter((s) => s.cpuSeconds && s.events > 0);
  if (read.length === 0) return 'not measured';
  const labels = [...new Set(read.flatMap((s) => Object.keys(s.cpuSeconds!)))];
  const per = (s: (typeof read)[number], value: number) => (value / s.events) * 1_000;
  const values = labels.map(
    (label) => [label, median(read.map((s) => per(s, s.cpuSeconds![label] ?? 0)))] as const,
  );
  const total = median(
    read.map((s) =>
      per(
        s,
        Object.values(s.cpuSeconds!).reduce((sum, v) => sum + v, 0),
      ),
    ),
  );
  return `${values.map(([label, v]) => `${label} ${v.toFixed(3)}`).join(', ')} (total ${total.toFixed(3)})`;
}
