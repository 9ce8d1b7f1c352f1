/**
 * Which sweeps bench results hold: curves of like jobs measured at several block sizes (at one
 * queue depth) or at several queue depths (at one block size). A curve joins rows of one access
 * pattern and, for copies, one path (offloaded or emulated), so random and sequential jobs, or
 * offloaded and emulated copies, never join one line.
 */
import type { PlotRow } from './plot.js';

/** The two dimensions a bench sweep varies. */
export type SweepDim = 'bs' | 'iodepth';
export const SWEEP_DIMS: readonly SweepDim[] = ['bs', 'iodepth'];

/** One point of a curve: a job's figures, named by its curve. */
export interface SweepPoint {
  /** The curve's name: the pattern (and copy path) and the dimension held still, e.g. `copy offloaded QD1`, `randread 4k`. */
  readonly series: string;
  readonly job: string;
  readonly bs: number;
  readonly iodepth: number;
  readonly bw_mib: number;
  readonly iops: number;
  readonly mean_us: number;
  readonly p99_us: number;
}

/** A block size as fio prints one: 4k, 64k, 1M. */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)}M`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}k`;
  return `${Math.round(bytes)}B`;
}

/** The pattern part of a curve's name: `copy offloaded`, `copy emulated`, or the rw (`randread`). */
function kind(r: PlotRow): string {
  return r.dir === 'copy' ? `copy ${r.path}` : r.rw;
}

/** The name of the curve a row belongs to along `dim` (the other dimension is part of it). */
function seriesOf(r: PlotRow, dim: SweepDim): string {
  return dim === 'bs' ? `${kind(r)} QD${r.iodepth}` : `${kind(r)} ${sizeLabel(r.bs)}`;
}

const point = (r: PlotRow, series: string): SweepPoint => ({ series, job: r.job, bs: r.bs, iodepth: r.iodepth, bw_mib: r.bw_mib, iops: r.iops, mean_us: r.mean_us, p99_us: r.p99_us });

/** The rows that form curves along `dim`: curves measured at two values of it or more. */
export function sweepPoints(rows: readonly PlotRow[], dim: SweepDim): SweepPoint[] {
  const values = new Map<string, Set<number>>();
  for (const r of rows) {
    const s = seriesOf(r, dim);
    values.set(s, (values.get(s) ?? new Set()).add(r[dim]));
  }
  return rows.filter((r) => values.get(seriesOf(r, dim))!.size > 1).map((r) => point(r, seriesOf(r, dim)));
}

/**
 * The sweeps to draw, one per dimension that has a curve; results without any (one job, or jobs
 * that differ in something else) are drawn against block size, one point per job.
 */
export function benchSweeps(rows: readonly PlotRow[]): { dim: SweepDim; points: SweepPoint[] }[] {
  const sweeps = SWEEP_DIMS.map((dim) => ({ dim, points: sweepPoints(rows, dim) })).filter((s) => s.points.length > 0);
  if (sweeps.length === 0 && rows.length > 0) return [{ dim: 'bs', points: rows.map((r) => point(r, seriesOf(r, 'bs'))) }];
  return sweeps;
}
