/**
 * Charts of bench results, rendered to SVG on the server (no browser): Vega-Lite specs compiled
 * to Vega and rendered by Vega's headless SVG renderer. Vega-Lite does axes, scales, legends and
 * layout from a declarative spec, which hand-written SVG would have to reinvent for every chart.
 *
 * Panels, each drawn when the results have data for it:
 *  - bandwidth vs block size, one line per direction;
 *  - IOPS and clat p50/p99 vs queue depth;
 *  - copies: offloaded vs emulated bytes per copy size.
 */
import type * as VegaLite from 'vega-lite';
import type { FioResult } from '../bench/result.js';

/** Rows of the chart data: one per job and direction that did I/O. */
export interface PlotRow {
  readonly job: string;
  readonly dir: string;
  /** The job's access pattern in fio's words for this direction: read, randread, write, randwrite, … */
  readonly rw: string;
  readonly bs: number;
  readonly iodepth: number;
  readonly bw_mib: number;
  readonly iops: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly offloaded_mib: number;
  readonly emulated_mib: number;
}

export function plotRows(result: FioResult): PlotRow[] {
  const rows: PlotRow[] = [];
  for (const j of result.jobs) {
    for (const dir of ['read', 'write', 'trim', 'copy'] as const) {
      const d = j[dir];
      if (!d.total_ios) continue;
      const pct = d.clat_ns.percentile ?? {};
      const rwOpt = j.copylab.rw ?? j['job options'].rw ?? '';
      const random = rwOpt.startsWith('rand');
      rows.push({
        job: j.jobname,
        dir,
        rw: dir === 'copy' ? dir : `${random ? 'rand' : ''}${dir}`,
        bs: dir === 'copy' ? d.io_bytes / d.total_ios : j.copylab.bs[dir],
        iodepth: j.copylab.iodepth,
        bw_mib: d.bw_bytes / 2 ** 20,
        iops: d.iops,
        p50_us: (pct['50.000000'] ?? 0) / 1000,
        p99_us: (pct['99.000000'] ?? 0) / 1000,
        offloaded_mib: dir === 'copy' ? j.copy.offloaded_bytes / 2 ** 20 : 0,
        emulated_mib: dir === 'copy' ? j.copy.emulated_bytes / 2 ** 20 : 0,
      });
    }
  }
  return rows;
}

type Spec = Record<string, unknown>;

/** The Vega-Lite spec for a result (exported so tests and users can inspect it). */
export function resultsSpec(result: FioResult, title = 'copylab bench'): Spec {
  const rows = plotRows(result);
  const panels: Spec[] = [];
  const io = rows.filter((r) => r.dir !== 'copy');
  if (io.length) {
    panels.push({
      title: 'Bandwidth vs block size',
      data: { values: io.map((r) => ({ ...r, series: `${r.rw} QD${r.iodepth}` })) },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'bs', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'block size (bytes)' },
        y: { field: 'bw_mib', type: 'quantitative', title: 'MiB/s' },
        // One line per access pattern and queue depth: random and sequential jobs, or jobs at
        // other depths, do not join one curve.
        color: { field: 'series', type: 'nominal', title: 'pattern, depth' },
        tooltip: [{ field: 'job' }, { field: 'bw_mib', format: '.1f' }],
      },
    });
    // Series per direction and block size, so a queue-depth curve joins only like requests.
    const kib = (b: number): string => (b >= 1 << 20 ? `${b / (1 << 20)}M` : `${b / 1024}k`);
    // A queue-depth curve needs a series measured at two depths or more; jobs at one depth
    // (a block-size sweep) are left to the panel above, unless nothing else is there.
    const depths = new Map<string, Set<number>>();
    for (const r of io) depths.set(`${r.rw} ${r.bs}`, (depths.get(`${r.rw} ${r.bs}`) ?? new Set()).add(r.iodepth));
    const curves = io.filter((r) => depths.get(`${r.rw} ${r.bs}`)!.size > 1);
    const fold = (curves.length ? curves : io).flatMap((r) => [
      { job: r.job, dir: r.dir, iodepth: r.iodepth, metric: 'IOPS (k)', value: r.iops / 1000, series: `${r.rw} ${kib(r.bs)} IOPS` },
      { job: r.job, dir: r.dir, iodepth: r.iodepth, metric: 'clat (µs)', value: r.p50_us, series: `${r.rw} ${kib(r.bs)} p50` },
      { job: r.job, dir: r.dir, iodepth: r.iodepth, metric: 'clat (µs)', value: r.p99_us, series: `${r.rw} ${kib(r.bs)} p99` },
    ]);
    panels.push({
      title: 'IOPS and latency percentiles vs queue depth',
      data: { values: fold },
      facet: { column: { field: 'metric', type: 'nominal', title: null } },
      spec: {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'iodepth', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'iodepth' },
          y: { field: 'value', type: 'quantitative', title: null },
          color: { field: 'series', type: 'nominal', title: 'series' },
        },
      },
      resolve: { scale: { y: 'independent' } },
    });
  }
  const copies = rows.filter((r) => r.dir === 'copy');
  if (copies.length) {
    const fold = copies.flatMap((r) => [
      { job: r.job, size: r.bs, path: 'offloaded', mib: r.offloaded_mib },
      { job: r.job, size: r.bs, path: 'emulated', mib: r.emulated_mib },
    ]);
    panels.push({
      title: 'Copies: offloaded vs emulated bytes per copy size',
      data: { values: fold },
      mark: 'bar',
      encoding: {
        x: { field: 'job', type: 'nominal', title: 'job (copy size)', sort: null },
        y: { field: 'mib', type: 'quantitative', title: 'MiB', stack: 'zero' },
        color: { field: 'path', type: 'nominal', title: 'path', scale: { domain: ['offloaded', 'emulated'] } },
      },
    });
  }
  if (!panels.length) panels.push({ data: { values: [] }, mark: 'point', title: 'no I/O in these results' });
  // Each panel has its own colour legend: series of one panel mean nothing in another.
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, vconcat: panels, resolve: { scale: { color: 'independent' } }, config: { font: 'sans-serif' } };
}

/**
 * Renders a Vega-Lite spec to an SVG document. Vega and Vega-Lite load on the first chart, not
 * with the program: together they are most of a `copylab` start-up that draws nothing.
 */
export async function renderSvg(spec: Spec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as unknown as VegaLite.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function renderResultsSvg(result: FioResult, title?: string): Promise<string> {
  return renderSvg(resultsSpec(result, title));
}
