/**
 * GC charts answer what a GC researcher compares: per spare factor (a panel titled with it), GC
 * seconds, host bytes, commands and max and p99.9 write latency per path beside the runs over
 * time, with the max write of each interval; one legend for the picture, a dash per path;
 * WAF against spare factor with Desnoyers' greedy and LRU curves both visible.
 */
import { describe, expect, it } from 'vitest';
import { XMLValidator } from 'fast-xml-parser';
import { runGc } from '../../src/app/gc/run.js';
import { GC_DEFAULTS } from '../../src/app/gc/options.js';
import type { GcResult, GcSeriesPoint } from '../../src/app/gc/result.js';
import type { GcPathName } from '../../src/app/gc/paths.js';
import type { VictimPolicyName } from '../../src/app/gc/policies.js';
import { gcSpec, renderGcSvg } from '../../src/app/plot/gc.js';
import { PATH_DASH } from '../../src/app/plot/gc-encoding.js';
import { GC_SUMMARY_METRICS, shortNumber } from '../../src/app/plot/gc-summary.js';
import { smoothWindow } from '../../src/app/plot/gc-series.js';
import { chartTitles, legendLabels, legendTitles } from '../svg-legends.js';

type Spec = Record<string, unknown>;

/** A timed run's result as the GC lab reports one, with figures that tell runs apart. */
function run(policy: VictimPolicyName, path: GcPathName, sf: number, waf = 3 - sf * 5, timed = true): GcResult {
  const k = (policy === 'greedy' ? 1 : 2) * (path === 'host' ? 10 : path === 'copy' ? 1 : 3);
  const series: GcSeriesPoint[] = Array.from({ length: 10 }, (_, i) => ({
    user_bytes: (i + 1) * 2 ** 24,
    waf,
    modeled_s: timed ? (i + 1) * 0.01 : 0,
    mbps: timed ? (i % 2 ? 100 : 900) : 0,
    p50_us: timed ? 4 : 0,
    p99_us: timed ? 8 : 0,
    p999_us: timed ? 10 * k : 0,
    // One interval with a foreground GC's stall that its p99.9 misses.
    max_us: timed ? (i === 6 ? 40_000 * k : 20 * k) : 0,
    free_sections: 4,
    victims: 3,
  }));
  return {
    policy, path, workload: 'uniform', spare_factor: sf, size: 256 * 2 ** 20, zoned: true, section_bytes: 2 * 2 ** 20, sections: 128, user_blocks: 50_000, seed: 1,
    timing: timed ? 'nvmevirt-zns' : 'none', allocation: 'frontier', device: 'tag-only', waf, waf_steady: waf, waf_desnoyers_greedy: 2, waf_desnoyers_lru: 2,
    user_bytes: 2 ** 28, fill_bytes: 2 ** 27, gc_moved_bytes: 2 ** 27, host_bytes: path === 'host' ? k * 2 ** 20 : 0, commands: 100 * k,
    gc: { commands: 100 * k, reads: 0, writes: 0, copies: 0, appends: 0, compactions: 0, resets: 0, ranges: 0, host_bytes: 0 } as unknown as GcResult['gc'],
    victims: 10, freed_clean: 0, resets: 0, victim_valid_histogram: [], modeled_s: timed ? 1 : 0, gc_modeled_s: timed ? 0.1 * k : 0, copy_emulated_bytes: 0, copy_emulation: [], notes: [],
    device_copy_pages: 0, copyback_pages: 0, p50_us: 4, p99_us: 8, p999_us: timed ? 10 * k : 0, max_us: timed ? 40_000 * k : 0,
    wall_s: 1, block_moves_per_s: 1, peak_rss_bytes: 1, verified_blocks: 1, series,
  };
}

const grid = (sfs: number[], paths: GcPathName[], policies: VictimPolicyName[] = ['greedy']): GcResult[] => sfs.flatMap((sf) => policies.flatMap((p) => paths.map((path) => run(p, path, sf))));

/** Every object in a spec tree (to find layers, panels and encodings wherever they sit). */
function nodes(spec: unknown): Spec[] {
  if (Array.isArray(spec)) return spec.flatMap(nodes);
  if (typeof spec !== 'object' || spec === null) return [];
  return [spec as Spec, ...Object.values(spec).flatMap(nodes)];
}

const titleText = (t: unknown): string | undefined => (typeof t === 'string' ? t : (t as { text?: string } | undefined)?.text);

describe('GC charts', () => {
  it('a panel per spare factor, titled with it: the per-path summary beside the runs over time', () => {
    const runs = grid([0.28, 0.1, 0.2], ['host', 'copy', 'append', 'izc']);
    const spec = gcSpec(runs)!;
    const panels = (spec.vconcat as Spec[]).filter((p) => titleText(p.title)?.startsWith('spare factor'));
    expect(panels.map((p) => titleText(p.title))).toEqual(['spare factor 0.1', 'spare factor 0.2', 'spare factor 0.28']);
    for (const [i, panel] of panels.entries()) {
      const [summary, series] = panel.hconcat as Spec[];
      // The summary: each figure of each path at this spare factor, on its own scale.
      const values = (summary!.data as { values: { metric: string; path: string; value: number }[] }).values;
      expect([...new Set(values.map((v) => v.metric))]).toEqual(GC_SUMMARY_METRICS.map((m) => m.title));
      const sf = [0.1, 0.2, 0.28][i]!;
      for (const r of runs.filter((q) => q.spare_factor === sf)) {
        for (const m of GC_SUMMARY_METRICS) expect(values).toContainEqual(expect.objectContaining({ metric: m.title, path: r.path, value: m.of(r) }));
      }
      expect(values.find((v) => v.metric === 'host MiB' && v.path === 'host')!.value).toBe(10);
      // The time series: throughput, p99.9 and the max write of each interval.
      const points = (series!.data as { values: { path: string; max: number; p999: number }[] }).values;
      expect(points).toHaveLength(4 * 10);
      expect(Math.max(...points.filter((p) => p.path === 'host').map((p) => p.max))).toBe(400_000);
      const ys = nodes(series).flatMap((n) => (n.encoding ? [(n.encoding as { y: { field: string } }).y.field] : []));
      expect(ys).toEqual(['mbps_mean', 'p999', 'max']);
    }
    expect(smoothWindow(10)).toBe(1);
    expect(smoothWindow(100)).toBe(11);
  });

  it('a distinct dash per path in every panel, and one legend for the picture: no label twice', async () => {
    const runs = grid([0.1, 0.2], ['host', 'copy', 'append', 'izc'], ['greedy', 'cost-benefit']);
    const spec = gcSpec(runs)!;
    const dashes = nodes(spec).flatMap((n) => (n.field === 'path' && (n.scale as Spec | undefined)?.range ? [n.scale as { domain: string[]; range: number[][] }] : []));
    expect(dashes.length).toBeGreaterThan(0);
    for (const d of dashes) {
      expect(d.domain).toEqual(['host', 'copy', 'append', 'izc']);
      expect(d.range).toEqual(d.domain.map((p) => PATH_DASH[p as GcPathName]));
    }
    expect(new Set(Object.values(PATH_DASH).map((d) => d.join(','))).size).toBe(4);
    const svg = (await renderGcSvg(runs))!;
    expect(XMLValidator.validate(svg)).toBe(true);
    const labels = legendLabels(svg);
    expect(labels.filter((l) => ['greedy', 'cost-benefit', 'host', 'copy', 'append', 'izc'].includes(l)).sort()).toEqual(['append', 'copy', 'cost-benefit', 'greedy', 'host', 'izc']);
    expect(new Set(labels).size).toBe(labels.length);
    expect(legendTitles(svg)).toEqual(['policy', 'GC path']);
    expect(chartTitles(svg)).toEqual(expect.arrayContaining(['spare factor 0.1', 'spare factor 0.2', 'GC seconds', 'host MiB', 'GC commands', 'max write µs', 'p99.9 write µs']));
  });

  it('WAF vs spare factor: paths with the same WAF are one line, said so; paths that differ get a line each; Desnoyers greedy and LRU both drawn', () => {
    const same = gcSpec(grid([0.1, 0.2, 0.28], ['host', 'copy']))!;
    const waf = (same.vconcat as Spec[])[0]!;
    expect(titleText(waf.title)).toBe('Steady-state WAF vs spare factor');
    expect((waf.title as { subtitle: string }).subtitle).toMatch(/host, copy move the same victims/);
    const lines = (waf.layer as Spec[])[1]!;
    expect((lines.data as { values: unknown[] }).values).toHaveLength(3);
    expect((lines.encoding as Spec).strokeDash).toBeUndefined();

    const differ = gcSpec([...grid([0.1, 0.2], ['host']), run('greedy', 'copy', 0.1, 5), run('greedy', 'copy', 0.2, 4)])!;
    const perPath = ((differ.vconcat as Spec[])[0]!.layer as Spec[])[1]!;
    expect((perPath.data as { values: unknown[] }).values).toHaveLength(4);
    expect(((perPath.encoding as Spec).strokeDash as Spec).field).toBe('path');

    // The two curves: each its own line with its own style (wide grey under thin dotted), each named.
    const curves = nodes((waf.layer as Spec[])[0]).filter((n) => (n.mark as Spec | undefined)?.type === 'line').map((n) => n.mark as Spec);
    expect(curves).toHaveLength(2);
    expect(curves[0]!.strokeWidth).toBeGreaterThan(2 * (curves[1]!.strokeWidth as number));
    expect(curves[0]!.color).not.toBe(curves[1]!.color);
    expect(curves[1]!.strokeDash).toBeDefined();
    const names = nodes((waf.layer as Spec[])[0]).filter((n) => (n.mark as Spec | undefined)?.type === 'text');
    expect(names).toHaveLength(2);
  });

  it('untimed runs: the summary has bytes and commands only, and one untimed run has nothing to draw', async () => {
    const untimed = [run('greedy', 'host', 0.2, 2, false), run('greedy', 'copy', 0.2, 2, false)];
    const panel = (gcSpec(untimed)!.vconcat as Spec[])[0]!;
    expect(panel.hconcat as Spec[]).toHaveLength(1);
    const metrics = new Set(((panel.hconcat as Spec[])[0]!.data as { values: { metric: string }[] }).values.map((v) => v.metric));
    expect([...metrics]).toEqual(['host MiB', 'GC commands']);
    expect(await renderGcSvg([runGc({ ...GC_DEFAULTS, size: 64 * 1024 ** 2, spareFactor: 0.2, overwrites: 0.5 })])).toBeNull();
  });

  it('figures on the bars in three digits', () => {
    expect([0, 0.1234, 27.26, 999, 2540, 51_900, 3_280_000].map(shortNumber)).toEqual(['0', '0.123', '27.3', '999', '2.54k', '51.9k', '3.28M']);
  });
});
