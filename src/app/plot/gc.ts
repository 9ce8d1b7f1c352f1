/**
 * GC lab charts (docs/gc.md), Vega-Lite rendered to SVG like the bench charts:
 *  - WAF against spare factor, one line per policy (and workload), with Desnoyers' greedy and LRU
 *    curves drawn beside;
 *  - foreground throughput and p99.9 write latency over the run (modeled time), one line per
 *    path (and policy), so GC interference shows.
 */
import { wafGreedy, wafLru } from '../gc/desnoyers.js';
import type { GcResult } from '../gc/result.js';
import { renderSvg } from './plot.js';

type Spec = Record<string, unknown>;

const label = (r: GcResult, parts: readonly ('policy' | 'path' | 'workload')[]): string => parts.map((p) => r[p]).join(' ');

/** Which run fields differ across the results (to name lines by what varies). */
function varying(results: readonly GcResult[], keys: readonly ('policy' | 'path' | 'workload')[]): ('policy' | 'path' | 'workload')[] {
  const out = keys.filter((k) => new Set(results.map((r) => r[k])).size > 1);
  return out.length ? out : [keys[0]!];
}

export function wafSpec(results: readonly GcResult[]): Spec | null {
  const sfs = [...new Set(results.map((r) => r.spare_factor))];
  if (sfs.length < 2) return null;
  const by = varying(results, ['policy', 'workload', 'path']);
  const values: Record<string, unknown>[] = results.map((r) => ({ sf: r.spare_factor, waf: r.waf_steady, line: label(r, by) }));
  const lo = Math.min(...sfs);
  const hi = Math.max(...sfs);
  const np = results[0]!.section_bytes / 4096;
  for (let i = 0; i <= 40; i++) {
    const sf = lo + ((hi - lo) * i) / 40;
    values.push({ sf, waf: wafGreedy(sf, np), line: `Desnoyers greedy (Np ${np})` }, { sf, waf: wafLru(sf), line: 'Desnoyers LRU' });
  }
  return {
    title: 'Steady-state WAF vs spare factor',
    width: 420,
    height: 260,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'sf', type: 'quantitative', title: 'spare factor (T−U)/T' },
      y: { field: 'waf', type: 'quantitative', scale: { type: 'log' }, title: 'write amplification' },
      color: { field: 'line', type: 'nominal', title: null },
      strokeDash: { condition: { test: "indexof(datum.line, 'Desnoyers') >= 0", value: [4, 3] }, value: [1, 0] },
    },
  };
}

export function seriesSpec(results: readonly GcResult[]): Spec | null {
  const timed = results.filter((r) => r.series.some((p) => p.modeled_s > 0));
  if (timed.length === 0) return null;
  const by = varying(timed, ['path', 'policy', 'workload']);
  const values = timed.flatMap((r) => r.series.map((p) => ({ gib: p.user_bytes / 1024 ** 3, mbps: p.mbps, p999: Math.max(p.p999_us, 1), line: label(r, by) })));
  const x = { field: 'gib', type: 'quantitative', title: 'GiB written after the fill' };
  const color = { field: 'line', type: 'nominal', title: null };
  return {
    title: 'Foreground writes over the run (modeled time)',
    data: { values },
    vconcat: [
      { width: 420, height: 180, mark: 'line', encoding: { x, y: { field: 'mbps', type: 'quantitative', title: 'MB/s' }, color } },
      { width: 420, height: 180, mark: 'line', encoding: { x, y: { field: 'p999', type: 'quantitative', scale: { type: 'log' }, title: 'p99.9 write latency (µs)' }, color } },
    ],
  };
}

/** Both charts the results have data for, stacked; null when there is nothing to draw. */
export function gcSpec(results: readonly GcResult[]): Spec | null {
  const parts = [wafSpec(results), seriesSpec(results)].filter((s): s is Spec => s !== null);
  if (parts.length === 0) return null;
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', vconcat: parts, config: { font: 'sans-serif' } };
}

export async function renderGcSvg(results: readonly GcResult[]): Promise<string | null> {
  const spec = gcSpec(results);
  return spec ? renderSvg(spec) : null;
}
