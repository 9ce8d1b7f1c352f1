/**
 * Charts of bench results, rendered to SVG on the server (no browser): Vega-Lite specs compiled
 * to Vega and rendered by Vega's headless SVG renderer. Vega-Lite does axes, scales, legends and
 * layout from a declarative spec, which hand-written SVG would have to reinvent for every chart.
 *
 * One chart per sweep dimension the results hold (bench-sweeps.ts): bandwidth, IOPS and mean and
 * p99 completion latency against block size, and against queue depth (bench-charts.ts), each
 * curve one access pattern, copies split into offloaded and emulated.
 */
import type * as VegaLite from 'vega-lite';
import type { FioCopy, FioResult } from '../bench/result.js';
import { benchSweeps } from './bench-sweeps.js';
import { sweepChart } from './bench-charts.js';

/** How a copy job's bytes went: all offloaded, all emulated, or some of each. */
export type CopyPath = 'offloaded' | 'emulated' | 'mixed';

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
  /** Completion latency: mean and percentiles (µs; 0 where the results have none). */
  readonly mean_us: number;
  readonly p50_us: number;
  readonly p99_us: number;
  /** Copies: how the bytes went ('' for reads, writes and trims). */
  readonly path: CopyPath | '';
  readonly offloaded_mib: number;
  readonly emulated_mib: number;
}

function copyPath(c: FioCopy): CopyPath {
  if (c.emulated_bytes === 0) return 'offloaded';
  return c.offloaded_bytes === 0 ? 'emulated' : 'mixed';
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
        mean_us: (Number.isFinite(d.clat_ns.mean) ? d.clat_ns.mean : 0) / 1000,
        p50_us: (pct['50.000000'] ?? 0) / 1000,
        p99_us: (pct['99.000000'] ?? 0) / 1000,
        path: dir === 'copy' ? copyPath(j.copy) : '',
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
  const charts = benchSweeps(plotRows(result)).map((s) => sweepChart(s.dim, s.points));
  if (!charts.length) charts.push({ data: { values: [] }, mark: 'point', title: 'no I/O in these results' });
  // Each chart has its own legend: the curves of a block-size sweep are not those of a depth sweep.
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, vconcat: charts, resolve: { scale: { color: 'independent' } }, config: { font: 'sans-serif' } };
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
