/**
 * How every GC chart names and draws a run, so that one legend serves the whole picture: colour
 * by what varies among policy and workload (by path when neither does), a dash per GC path (the
 * same dash for a path in every panel), and one label for each run.
 */
import { GC_PATHS, type GcPathName } from '../gc/paths.js';
import type { GcResult } from '../gc/result.js';

type Spec = Record<string, unknown>;

/** A dash per GC path (stroke-dasharray), in GC_PATHS order: host solid, then longer to shorter gaps. */
export const PATH_DASH: Readonly<Record<GcPathName, readonly number[]>> = {
  host: [1, 0],
  copy: [7, 3],
  append: [2, 2],
  izc: [9, 3, 2, 3],
};

/** The legend's symbol for a dash: a stroke wide enough to show the pattern. */
const DASH_LEGEND = { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 400, encode: { symbols: { update: { stroke: { value: '#444' } } } } };

const COLOR_LEGEND = { symbolType: 'stroke', symbolStrokeWidth: 3, symbolSize: 400 };

export interface GcEncoding {
  /** The field the colour encodes: `series` (policy and workload, as they vary) or `path`. */
  readonly colorField: 'series' | 'path';
  /** What the colour stands for: `GC path`, `policy`, `workload` or `policy, workload`. */
  readonly colorTitle: string;
  /** Every run's colour label, in the runs' order (the colour scale's domain). */
  readonly domain: readonly string[];
  /** The paths among the runs, in GC_PATHS order (the dash scale's domain). */
  readonly paths: readonly GcPathName[];
  /** A run's colour label. */
  series(r: GcResult): string;
  /** The colour channel (one shared scale: one legend). */
  color(): Spec;
  /** The dash channel: a dash per path. */
  strokeDash(): Spec;
}

export function gcEncoding(results: readonly GcResult[]): GcEncoding {
  const keys = (['policy', 'workload'] as const).filter((k) => new Set(results.map((r) => r[k])).size > 1);
  const colorField = keys.length ? 'series' : 'path';
  const series = (r: GcResult): string => (keys.length ? keys.map((k) => r[k]).join(' ') : r.path);
  const paths = GC_PATHS.filter((p) => results.some((r) => r.path === p));
  const domain = [...new Set(results.map(series))];
  const colorTitle = colorField === 'path' ? 'GC path' : keys.join(', ');
  return {
    colorField,
    colorTitle,
    domain,
    paths,
    series,
    // Line symbols in the legend (with the path's dash when colour is the path: one legend for both).
    color: () => ({ field: colorField, type: 'nominal', title: colorTitle, scale: { domain }, legend: COLOR_LEGEND }),
    strokeDash: () => ({
      field: 'path',
      type: 'nominal',
      title: 'GC path',
      scale: { domain: paths, range: paths.map((p) => PATH_DASH[p]) },
      ...(colorField === 'path' ? {} : { legend: DASH_LEGEND }),
    }),
  };
}

/** Spare factors of the runs, ascending. */
export function spareFactors(results: readonly GcResult[]): number[] {
  return [...new Set(results.map((r) => r.spare_factor))].sort((a, b) => a - b);
}
