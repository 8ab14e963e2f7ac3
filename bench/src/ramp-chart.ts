import type { CompareData, ContenderRow } from './compare-data';
import { rowsOf } from './compare-data';
import { median } from './stats';
import type { Panel } from './svg-chart';
import { svgChart } from './svg-chart';

/**
 * Throughput and latency against offered load: per scenario, carried vs offered events/s and p99
 * latency vs offered, one line per contender through the medians of its ramp steps over the rounds.
 */
export function rampChart(data: CompareData): string {
  const panels: Panel[] = data.scenarios.flatMap(({ name }) => {
    const rows = rowsOf(data, name).filter((r) => r.blocks.length > 0);
    return [
      {
        title: `${name}: carried vs offered`,
        xLabel: 'offered events/s',
        yLabel: 'carried events/s',
        diagonal: true,
        series: rows.map((r) => ({
          name: r.contender.name,
          points: steps(r).map((s) => [s.offered, s.achieved] as const),
        })),
      },
      {
        title: `${name}: p99 latency vs offered`,
        xLabel: 'offered events/s',
        yLabel: 'p99 latency (ms, from due time)',
        series: rows.map((r) => ({
          name: r.contender.name,
          points: steps(r).map((s) => [s.offered, s.p99] as const),
        })),
      },
    ];
  });
  return svgChart(panels, 2);
}

function steps(row: ContenderRow) {
  return row.blocks[0]!.ramp.map((_, i) => {
    const at = row.blocks.map((b) => b.ramp[i]!).filter(Boolean);
    return {
      offered: median(at.map((s) => s.offered)),
      achieved: median(at.map((s) => s.achieved)),
      p99: median(at.map((s) => s.latencyMs.p99)),
    };
  });
}
