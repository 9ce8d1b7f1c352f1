/**
 * One chart per sweep dimension of bench results: bandwidth, IOPS and completion latency (mean
 * and p99) against block size or queue depth, three panels side by side sharing one legend of
 * curves. Axes are logarithmic (block sizes and depths double; figures span decades), ticks at
 * the values measured.
 */
import { sizeLabel, type SweepDim, type SweepPoint } from './bench-sweeps.js';

type Spec = Record<string, unknown>;

/** Panel size in pixels (three side by side fit a page). */
const PANEL = { width: 230, height: 180 } as const;

const AXIS_TITLE: Record<SweepDim, string> = { bs: 'block size', iodepth: 'iodepth' };
export const SWEEP_TITLE: Record<SweepDim, string> = {
  bs: 'Bandwidth, IOPS and completion latency vs block size',
  iodepth: 'Bandwidth, IOPS and completion latency vs queue depth',
};

/** The latency statistics drawn, each with its dash. */
const LATENCY_STATS = ['mean', 'p99'] as const;
const LATENCY_DASH = [[1, 0], [5, 3]];

function xEncoding(dim: SweepDim, points: readonly SweepPoint[]): Spec {
  const ticks = [...new Set(points.map((p) => p[dim]))].sort((a, b) => a - b);
  const labels = Object.fromEntries(ticks.map((v) => [String(v), dim === 'bs' ? sizeLabel(v) : String(v)]));
  return {
    field: dim,
    type: 'quantitative',
    scale: { type: 'log', base: 2 },
    title: AXIS_TITLE[dim],
    axis: { values: ticks, labelExpr: `${JSON.stringify(labels)}[toString(datum.value)] || datum.label`, grid: true },
  };
}

/** Drops the points a log axis cannot show (0: no I/O of that kind, or no percentile). */
const positive = (field: string): Spec => ({ filter: `datum.${field} > 0` });

/** The chart of one sweep: bandwidth, IOPS and latency against `dim`, one legend of curves. */
export function sweepChart(dim: SweepDim, points: readonly SweepPoint[]): Spec {
  const x = xEncoding(dim, points);
  const domain = [...new Set(points.map((p) => p.series))];
  const color = { field: 'series', type: 'nominal', title: 'job kind', scale: { domain } };
  const tooltip = [{ field: 'job' }, { field: 'series' }, { field: 'bs' }, { field: 'iodepth' }];
  const values = points.map((p) => ({ ...p }));
  const latency = points.flatMap((p) => LATENCY_STATS.map((stat) => ({ job: p.job, series: p.series, bs: p.bs, iodepth: p.iodepth, stat, us: stat === 'mean' ? p.mean_us : p.p99_us })));
  const panel = (title: string, field: string, format: string): Spec => ({
    ...PANEL,
    title,
    data: { values },
    transform: [positive(field)],
    mark: { type: 'line', point: true },
    encoding: { x, y: { field, type: 'quantitative', scale: { type: 'log' }, title: null, axis: { format: '~s' } }, color, tooltip: [...tooltip, { field, format }] },
  });
  return {
    title: SWEEP_TITLE[dim],
    hconcat: [
      panel('bandwidth (MiB/s)', 'bw_mib', '.1f'),
      panel('IOPS', 'iops', '.0f'),
      {
        ...PANEL,
        title: 'completion latency (µs)',
        data: { values: latency },
        transform: [positive('us')],
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'us', type: 'quantitative', scale: { type: 'log' }, title: null, axis: { format: '~s' } },
          color,
          strokeDash: { field: 'stat', type: 'nominal', title: 'clat', scale: { domain: [...LATENCY_STATS], range: LATENCY_DASH }, legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 300, encode: { symbols: { update: { stroke: { value: '#444' } } } } } },
          // One line per curve and statistic.
          detail: { field: 'stat' },
          tooltip: [...tooltip, { field: 'stat' }, { field: 'us', format: '.1f' }],
        },
      },
    ],
    resolve: { scale: { color: 'shared' } },
  };
}
