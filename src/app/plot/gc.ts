/**
 * GC lab charts (docs/gc.md), Vega-Lite rendered to SVG like the bench charts:
 *  - steady-state WAF against spare factor with Desnoyers' greedy and LRU curves (gc-waf.ts),
 *    for runs at two spare factors or more;
 *  - per spare factor, a panel titled with it: the per-path summary (GC seconds, host bytes,
 *    commands, max and p99.9 write latency; gc-summary.ts) beside the runs over time
 *    (throughput, p99.9 and max write latency per interval; gc-series.ts).
 * Every panel draws a run the same way (gc-encoding.ts): one colour legend, one dash per path.
 */
import type { GcResult } from '../gc/result.js';
import { formatSize } from '../../core/util/size.js';
import { gcEncoding, spareFactors, type GcEncoding } from './gc-encoding.js';
import { wafChart } from './gc-waf.js';
import { summaryChart } from './gc-summary.js';
import { seriesChart } from './gc-series.js';
import { renderSvg } from './plot.js';

type Spec = Record<string, unknown>;

/** Spare factors given a panel of their own (a limit on the picture's size). */
export const GC_PLOT_MAX_PANELS = 12;

/** The panel of the runs at one spare factor, or null when it has nothing to compare or show over time. */
function spareFactorPanel(sf: number, runs: readonly GcResult[], enc: GcEncoding): Spec | null {
  const series = seriesChart(runs, enc);
  if (series === null && runs.length < 2) return null;
  return { title: { text: `spare factor ${sf}`, anchor: 'start', fontSize: 14 }, hconcat: [summaryChart(runs, enc), ...(series ? [series] : [])] };
}

/** What the runs are, for the title: device, layout and timing where all runs share them. */
function describe(results: readonly GcResult[]): string {
  const one = <T>(f: (r: GcResult) => T): T | undefined => (new Set(results.map(f)).size === 1 ? f(results[0]!) : undefined);
  const device = one((r) => (r.device === 'tag-only' ? `tag-only ${formatSize(r.size)}` : r.device));
  const zoned = one((r) => (r.zoned ? 'zoned' : 'conventional'));
  const timing = one((r) => r.timing);
  return ['GC lab', device, zoned, timing !== undefined ? (timing === 'none' ? 'untimed' : `timing ${timing}`) : undefined].filter(Boolean).join(', ');
}

/** Every chart the results have data for; null when there is nothing to draw. */
export function gcSpec(results: readonly GcResult[], title?: string): Spec | null {
  if (results.length === 0) return null;
  const enc = gcEncoding(results);
  const sfs = spareFactors(results);
  const parts: Spec[] = [];
  const waf = wafChart(results, enc);
  if (waf) parts.push(waf);
  for (const sf of sfs.slice(0, GC_PLOT_MAX_PANELS)) {
    const panel = spareFactorPanel(sf, results.filter((r) => r.spare_factor === sf), enc);
    if (panel) parts.push(panel);
  }
  if (parts.length === 0) return null;
  const cut = sfs.length > GC_PLOT_MAX_PANELS ? ` (panels for the first ${GC_PLOT_MAX_PANELS} of ${sfs.length} spare factors)` : '';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: (title ?? describe(results)) + cut, anchor: 'start' },
    vconcat: parts,
    spacing: 28,
    // One legend for the picture: a run has one colour and one dash in every panel.
    resolve: { scale: { color: 'shared', strokeDash: 'shared' } },
    config: { font: 'sans-serif' },
  };
}

export async function renderGcSvg(results: readonly GcResult[], title?: string): Promise<string | null> {
  const spec = gcSpec(results, title);
  return spec ? renderSvg(spec) : null;
}
