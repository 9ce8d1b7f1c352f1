/**
 * The runs at one spare factor over time (modeled; x: user bytes written after the fill): the
 * foreground throughput as a centred moving mean (an interval's figure swings with the GC bursts
 * that fall in it), and per interval the p99.9 and the longest write, so a foreground GC's stall
 * shows even where p99.9 of a short interval misses it. A line per run, its dash its path.
 */
import type { GcResult } from '../gc/result.js';
import type { GcEncoding } from './gc-encoding.js';

type Spec = Record<string, unknown>;

/** The moving mean covers about this share of a run's intervals (at least one). */
const SMOOTH_SHARE = 0.1;
/** Latencies drawn on a log axis are at least this (µs): an empty interval is not 0 on it. */
const MIN_US = 1;
const PANEL = { width: 360, height: 90 } as const;
/** Ticks and grid lines of the latency axes: decades (1 µs to 1000 s). */
const DECADES = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/** Intervals in the moving mean for runs of `points` intervals: odd, so it is centred. */
export function smoothWindow(points: number): number {
  const w = Math.max(1, Math.round(points * SMOOTH_SHARE));
  return w % 2 === 1 ? w : w + 1;
}

/** The time series of the runs at one spare factor, or null when none has modeled time. */
export function seriesChart(runs: readonly GcResult[], enc: GcEncoding): Spec | null {
  const timed = runs.filter((r) => r.series.some((p) => p.modeled_s > 0));
  if (timed.length === 0) return null;
  const values = timed.flatMap((r, run) =>
    r.series.map((p) => ({ run, series: enc.series(r), path: r.path, gib: p.user_bytes / 1024 ** 3, mbps: p.mbps, p999: Math.max(p.p999_us, MIN_US), max: Math.max(p.max_us ?? 0, MIN_US) })),
  );
  const w = smoothWindow(Math.max(...timed.map((r) => r.series.length)));
  const half = (w - 1) / 2;
  const x = (last: boolean): Spec => ({ field: 'gib', type: 'quantitative', title: last ? 'GiB written after the fill' : null });
  const line = (title: string, field: string, log: boolean, last = false): Spec => ({
    ...PANEL,
    title: { text: title, fontSize: 11, anchor: 'start' },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: x(last),
      y: { field, type: 'quantitative', title: null, ...(log ? { scale: { type: 'log' }, axis: { values: DECADES, format: '~s' } } : {}) },
      color: enc.color(),
      strokeDash: enc.strokeDash(),
      detail: { field: 'run' },
      tooltip: [{ field: 'series' }, { field: 'path' }, { field: 'gib', format: '.3f' }, { field, format: '.1f' }],
    },
  });
  return {
    data: { values },
    spacing: 8,
    vconcat: [
      {
        ...line(w > 1 ? `foreground MB/s (mean of ${w} intervals)` : 'foreground MB/s', 'mbps_mean', false),
        transform: [{ window: [{ op: 'mean', field: 'mbps', as: 'mbps_mean' }], frame: [-half, half], groupby: ['run'], sort: [{ field: 'gib' }] }],
      },
      line('p99.9 write latency per interval (µs)', 'p999', true),
      line('max write latency per interval (µs)', 'max', true, true),
    ],
  };
}
