/** A hand-written SVG line chart: log-scaled axes, one polyline per series, a legend. No dependencies. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface Panel {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Draw y = x (offered = carried), dashed. */
  readonly diagonal?: boolean;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
const PANEL = { width: 460, height: 300, left: 70, right: 20, top: 34, bottom: 46 };

/** Panels laid out in a grid of `columns`, with one legend for all series names at the bottom. */
export function svgChart(panels: readonly Panel[], columns: number): string {
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const colour = (name: string) => COLOURS[names.indexOf(name) % COLOURS.length]!;
  const rows = Math.ceil(panels.length / columns);
  const legendTop = rows * PANEL.height + 10;
  const width = columns * PANEL.width;
  const height = legendTop + names.length * 18 + 10;
  const parts = panels.map((panel, i) =>
    drawPanel(panel, (i % columns) * PANEL.width, Math.floor(i / columns) * PANEL.height, colour),
  );
  const legend = names.map(
    (name, i) =>
      `<line x1="20" x2="44" y1="${legendTop + i * 18 + 6}" y2="${legendTop + i * 18 + 6}" stroke="${colour(name)}" stroke-width="2.5"/>` +
      `<text x="52" y="${legendTop + i * 18 + 10}">${escape(name)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    ...legend,
    `</svg>`,
  ].join('\n');
}

function drawPanel(panel: Panel, x0: number, y0: number, colour: (name: string) => string): string {
  const all = panel.series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && y > 0);
  const xs = logRange(all.map(([x]) => x));
  const ys = logRange([...all.map(([, y]) => y), ...(panel.diagonal ? all.map(([x]) => x) : [])]);
  const plotW = PANEL.width - PANEL.left - PANEL.right;
  const plotH = PANEL.height - PANEL.top - PANEL.bottom;
  const round = (v: number) => Math.round(v * 10) / 10;
  const px = (x: number) => round(x0 + PANEL.left + ((Math.log10(x) - xs.lo) / (xs.hi - xs.lo)) * plotW);
  const py = (y: number) =>
    round(y0 + PANEL.top + plotH - ((Math.log10(y) - ys.lo) / (ys.hi - ys.lo)) * plotH);
  const out: string[] = [
    `<text x="${x0 + PANEL.left}" y="${y0 + 20}" font-size="13" font-weight="bold">${escape(panel.title)}</text>`,
    `<rect x="${x0 + PANEL.left}" y="${y0 + PANEL.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  ];
  for (const value of ticks(xs)) {
    const x = px(value);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${y0 + PANEL.top}" y2="${y0 + PANEL.top + plotH}" stroke="#eee"/>`,
      `<text x="${x}" y="${y0 + PANEL.top + plotH + 14}" text-anchor="middle">${tick(value)}</text>`,
    );
  }
  for (const value of ticks(ys)) {
    const y = py(value);
    out.push(
      `<line x1="${x0 + PANEL.left}" x2="${x0 + PANEL.left + plotW}" y1="${y}" y2="${y}" stroke="#eee"/>`,
      `<text x="${x0 + PANEL.left - 6}" y="${y + 4}" text-anchor="end">${tick(value)}</text>`,
    );
  }
  out.push(
    `<text x="${x0 + PANEL.left + plotW / 2}" y="${y0 + PANEL.height - 12}" text-anchor="middle">${escape(panel.xLabel)}</text>`,
    `<text transform="translate(${x0 + 16} ${y0 + PANEL.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(panel.yLabel)}</text>`,
  );
  if (panel.diagonal) {
    const lo = 10 ** Math.max(xs.lo, ys.lo);
    const hi = 10 ** Math.min(xs.hi, ys.hi);
    out.push(
      `<line x1="${px(lo)}" y1="${py(lo)}" x2="${px(hi)}" y2="${py(hi)}" stroke="#bbb" stroke-dasharray="4 4"/>`,
    );
  }
  for (const series of panel.series) {
    const points = series.points.filter(([x, y]) => x > 0 && y > 0);
    const path = points.map(([x, y]) => `${px(x)},${py(y)}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="${colour(series.name)}" stroke-width="2"/>`);
    for (const [x, y] of points) {
      out.push(`<circle cx="${px(x)}" cy="${py(y)}" r="2.5" fill="${colour(series.name)}"/>`);
    }
  }
  return out.join('\n');
}

/** Decades that cover the values, with a little room; a single decade when there is nothing. */
function logRange(values: readonly number[]): { lo: number; hi: number } {
  if (values.length === 0) return { lo: 0, hi: 1 };
  const lo = Math.log10(Math.min(...values));
  const hi = Math.log10(Math.max(...values));
  return hi - lo < 0.5 ? { lo: lo - 0.5, hi: hi + 0.5 } : { lo: lo - 0.05, hi: hi + 0.05 };
}

/** 1, 2 and 5 times each power of ten inside the range (log axes need more than decades when short). */
function ticks(range: { lo: number; hi: number }): number[] {
  const values: number[] = [];
  for (let e = Math.floor(range.lo); e <= Math.ceil(range.hi); e += 1) {
    for (const m of [1, 2, 5]) {
      const value = m * 10 ** e;
      if (Math.log10(value) >= range.lo && Math.log10(value) <= range.hi) values.push(value);
    }
  }
  return values;
}

function tick(value: number): string {
  if (value >= 1_000_000) return `${+(value / 1_000_000).toPrecision(3)}M`;
  if (value >= 1_000) return `${+(value / 1_000).toPrecision(3)}k`;
  return String(+value.toPrecision(3));
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
