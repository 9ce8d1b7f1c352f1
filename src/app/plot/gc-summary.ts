/**
 * What a GC researcher compares between paths, for the runs at one spare factor: modeled seconds
 * spent in GC, bytes the GC moved across the host link, GC commands, and the longest and p99.9
 * foreground write. One small bar panel per figure (each its own scale), a bar per path, the
 * figure printed on each bar. Untimed runs (no modeled time) show bytes and commands only.
 */
import type { GcResult } from '../gc/result.js';
import type { GcEncoding } from './gc-encoding.js';

type Spec = Record<string, unknown>;

interface Metric {
  readonly title: string;
  readonly of: (r: GcResult) => number;
  /** Only meaningful with a timing model. */
  readonly timed: boolean;
}

export const GC_SUMMARY_METRICS: readonly Metric[] = [
  { title: 'GC seconds', of: (r) => r.gc_modeled_s, timed: true },
  { title: 'host MiB', of: (r) => r.host_bytes / 2 ** 20, timed: false },
  { title: 'GC commands', of: (r) => r.commands, timed: false },
  { title: 'max write µs', of: (r) => r.max_us, timed: true },
  { title: 'p99.9 write µs', of: (r) => r.p999_us, timed: true },
];

/** A figure in three significant digits, thousands as k and millions as M: 0.412, 27.3, 2.54k. */
export function shortNumber(v: number): string {
  const trim = (t: string): string => (t.includes('.') && !t.includes('e') ? t.replace(/\.?0+$/, '') : t);
  const a = Math.abs(v);
  if (a >= 1e6) return `${trim((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e3) return `${trim((v / 1e3).toPrecision(3))}k`;
  return v === 0 ? '0' : trim(v.toPrecision(3));
}

/** Pixels per bar in a panel. */
const BAR_PX = 30;

/** The summary of the runs at one spare factor (all of `runs` share it). */
export function summaryChart(runs: readonly GcResult[], enc: GcEncoding): Spec {
  const timed = runs.some((r) => r.modeled_s > 0);
  const metrics = GC_SUMMARY_METRICS.filter((m) => timed || !m.timed);
  const values = runs.flatMap((r) => metrics.map((m) => ({ metric: m.title, path: r.path, series: enc.series(r), value: m.of(r), text: shortNumber(m.of(r)) })));
  const perPath = new Set(runs.map((r) => enc.series(r))).size;
  const several = enc.colorField === 'series' && perPath > 1;
  const bars = runs.length;
  const x = { field: 'path', type: 'nominal', title: null, scale: { domain: enc.paths }, axis: { labelAngle: -40 } };
  const offset = several ? { xOffset: { field: 'series', type: 'nominal', scale: { domain: enc.domain } } } : {};
  return {
    title: { text: 'per path', fontSize: 11 },
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: metrics.map((m) => m.title), header: { labelFontWeight: 'bold' } } },
    spec: {
      width: Math.max(60, BAR_PX * bars),
      height: 150,
      layer: [
        { mark: 'bar', encoding: { x, y: { field: 'value', type: 'quantitative', title: null, axis: { labelExpr: "datum.value >= 1000 ? format(datum.value, '~s') : format(datum.value, '~g')" } }, color: enc.color(), ...offset, tooltip: [{ field: 'series' }, { field: 'path' }, { field: 'metric' }, { field: 'value' }] } },
        // The figure on each bar.
        {
          mark: { type: 'text', dy: -4, fontSize: 8, baseline: 'bottom' },
          encoding: { x, y: { field: 'value', type: 'quantitative' }, text: { field: 'text' }, ...offset },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}
