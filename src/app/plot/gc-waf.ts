/**
 * Steady-state WAF against spare factor, beside Desnoyers' greedy and LRU curves. Paths that move
 * the same victims (every path does, under one policy and workload) have the same WAF: those are
 * drawn as one line and the subtitle says which paths it stands for, instead of lines that hide
 * one another. Desnoyers' two curves, close together, are drawn so both show: greedy wide and
 * light, LRU thin, dark and dotted on top, each named at its right end.
 */
import { wafGreedy, wafLru } from '../gc/desnoyers.js';
import type { GcResult } from '../gc/result.js';
import { spareFactors, type GcEncoding } from './gc-encoding.js';

type Spec = Record<string, unknown>;

/** Samples of each Desnoyers curve across the spare factors drawn. */
const CURVE_SAMPLES = 40;
const GREEDY = { color: '#9a9a9a', width: 5 } as const;
const LRU = { color: '#222', width: 1.5, dash: [2, 2] } as const;

/** What a line stands for when paths are merged: a policy and workload at a spare factor. */
const lineKey = (r: GcResult): string => `${r.policy}|${r.workload}|${r.spare_factor}`;

/** Whether every path of each policy and workload reached the same WAF at every spare factor. */
function pathsAgree(results: readonly GcResult[]): boolean {
  const seen = new Map<string, number>();
  for (const r of results) {
    const key = lineKey(r);
    const w = seen.get(key);
    if (w !== undefined && Math.abs(w - r.waf_steady) > 1e-9 * Math.max(1, w)) return false;
    seen.set(key, r.waf_steady);
  }
  return true;
}

/** The WAF chart, or null for runs at fewer than two spare factors. */
export function wafChart(results: readonly GcResult[], enc: GcEncoding): Spec | null {
  const sfs = spareFactors(results);
  if (sfs.length < 2) return null;
  const merged = enc.paths.length > 1 && pathsAgree(results);
  // Merged: one run per line and spare factor stands for its paths.
  const kept = new Map<string, GcResult>();
  for (const r of results) if (!kept.has(lineKey(r))) kept.set(lineKey(r), r);
  const runs = merged ? [...kept.values()] : results;
  const values = runs.map((r) => ({ sf: r.spare_factor, waf: r.waf_steady, series: enc.series(r), path: r.path, policy: r.policy, workload: r.workload }));
  const lo = sfs[0]!;
  const hi = sfs[sfs.length - 1]!;
  const np = results[0]!.section_bytes / 4096;
  const curves: Record<string, unknown>[] = [];
  for (let i = 0; i <= CURVE_SAMPLES; i++) {
    // The last sample is hi itself (the curves' names sit there; lo + (hi − lo) may not be hi).
    const sf = i === CURVE_SAMPLES ? hi : lo + ((hi - lo) * i) / CURVE_SAMPLES;
    curves.push({ sf, waf: wafGreedy(sf, np), curve: `Desnoyers greedy (Np ${np}): wide, grey` }, { sf, waf: wafLru(sf), curve: 'Desnoyers LRU: dotted' });
  }
  const x = { field: 'sf', type: 'quantitative', title: 'spare factor (T−U)/T', scale: { domain: [lo, hi] }, axis: { values: sfs } };
  const y = { field: 'waf', type: 'quantitative', scale: { type: 'log' }, title: 'steady-state write amplification' };
  // Each curve is named at its right end, below both (the runs' lines lie above them).
  const curve = (name: string, style: Spec, dy: number): Spec => ({
    transform: [{ filter: { field: 'curve', equal: name } }],
    layer: [
      { mark: { type: 'line', ...style }, encoding: { x, y } },
      {
        transform: [{ filter: `datum.sf === ${hi}` }],
        mark: { type: 'text', align: 'right', dx: -2, dy, fontSize: 10, color: style.color === GREEDY.color ? '#666' : style.color },
        encoding: { x, y, text: { field: 'curve' } },
      },
    ],
  });
  // Merged lines of runs that differ only in path are one line: no colour of a path for it.
  const color = merged && enc.colorField === 'path' ? { value: '#4c78a8' } : enc.color();
  const tooltip = [{ field: 'series' }, { field: 'path' }, { field: 'sf' }, { field: 'waf', format: '.3f' }];
  const lines: Spec = { data: { values }, mark: { type: 'line', point: true }, encoding: { x, y, color, ...(merged ? {} : { strokeDash: enc.strokeDash() }), tooltip } };
  const paths = enc.paths.join(', ');
  return {
    title: {
      text: 'Steady-state WAF vs spare factor',
      subtitle: merged
        ? `${enc.colorField === 'path' ? 'one line for all paths' : `one line per ${enc.colorTitle}`}: ${paths} move the same victims, so their WAF is the same`
        : 'one line per run; dash: GC path',
    },
    width: 460,
    height: 260,
    layer: [
      { data: { values: curves }, layer: [curve(`Desnoyers greedy (Np ${np}): wide, grey`, { color: GREEDY.color, strokeWidth: GREEDY.width, opacity: 0.7 }, 14), curve('Desnoyers LRU: dotted', { color: LRU.color, strokeWidth: LRU.width, strokeDash: LRU.dash }, 26)] },
      lines,
    ],
  };
}
