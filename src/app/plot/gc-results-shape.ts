/**
 * Whether a decoded MessagePack document holds what the GC charts (gc.ts) read of GC results:
 * `copylab gc sweep --results-out` writes `{ results: [GcResult…] }`, `copylab gc --series-out`
 * one GcResult. Checked before drawing, so another document is one line naming the first field
 * that is missing or of the wrong type, not an exception inside the renderer.
 */
import { GC_PATHS } from '../gc/paths.js';
import type { GcResult } from '../gc/result.js';

/** Runs a results file may hold, and series points over all of them (limits on the picture's data). */
export const PLOT_MAX_GC_RUNS = 4096;
export const PLOT_MAX_GC_POINTS = 1_000_000;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const NUMBERS = ['spare_factor', 'size', 'section_bytes', 'waf_steady', 'gc_modeled_s', 'modeled_s', 'host_bytes', 'commands', 'max_us', 'p999_us'] as const;
const STRINGS = ['policy', 'workload', 'timing', 'device'] as const;
const POINT_NUMBERS = ['user_bytes', 'modeled_s', 'mbps', 'p999_us'] as const;

/** Why one run is not a GC result (naming the field at `at`), or undefined. */
function runError(r: unknown, at: string): string | undefined {
  if (!isObj(r)) return `${at}: not an object`;
  for (const k of STRINGS) if (typeof r[k] !== 'string') return `${at}.${k}: not a string`;
  if (!(GC_PATHS as readonly unknown[]).includes(r.path)) return `${at}.path: not one of ${GC_PATHS.join(', ')}`;
  if (typeof r.zoned !== 'boolean') return `${at}.zoned: not a boolean`;
  for (const k of NUMBERS) if (!isNum(r[k])) return `${at}.${k}: not a number`;
  if (!Array.isArray(r.series)) return `${at}.series: not an array`;
  for (const [i, p] of r.series.entries()) {
    if (!isObj(p)) return `${at}.series[${i}]: not an object`;
    for (const k of POINT_NUMBERS) if (!isNum(p[k])) return `${at}.series[${i}].${k}: not a number`;
    // Series written before max_us was recorded per interval draw without it.
    if (p.max_us !== undefined && !isNum(p.max_us)) return `${at}.series[${i}].max_us: not a number`;
  }
  return undefined;
}

/** The runs of a decoded GC results document, or why it is not one. */
export function gcResultsOf(v: unknown): GcResult[] | string {
  const runs: unknown[] | undefined = isObj(v) && Array.isArray(v.results) ? v.results : isObj(v) && 'waf_steady' in v ? [v] : undefined;
  if (runs === undefined) return 'not GC results (copylab gc sweep --results-out or copylab gc --series-out writes them)';
  if (runs.length === 0) return 'no runs in these results';
  if (runs.length > PLOT_MAX_GC_RUNS) return `more than ${PLOT_MAX_GC_RUNS} runs`;
  let points = 0;
  for (const [i, r] of runs.entries()) {
    const err = runError(r, runs.length === 1 && !(isObj(v) && Array.isArray(v.results)) ? 'result' : `results[${i}]`);
    if (err) return err;
    points += (r as { series: unknown[] }).series.length;
    if (points > PLOT_MAX_GC_POINTS) return `more than ${PLOT_MAX_GC_POINTS} series points`;
  }
  return runs as GcResult[];
}
