/**
 * `copylab bench --repeat N`: the same job files run N times, each in a lab built afresh, and
 * per job and direction the median, min, max and spread of its figures, as one judges a benchmark
 * by several runs rather than one. Spread is (max − min) / median: a job whose figure spreads by
 * more than a few percent over three runs is too short (or too noisy) to report.
 */
import type { FioJob, FioResult } from './result.js';
import { formatTextTable } from '../../core/util/text-table.js';

/** Runs one --repeat may ask for (a limit on everything). */
export const BENCH_MAX_REPEAT = 100;
/** The spread above which a figure is flagged (percent). */
export const REPEAT_SPREAD_WARN_PCT = 10;

const DIRS = ['read', 'write', 'trim', 'copy'] as const;

type Dir = FioJob['read'];

/**
 * The figures compared across runs, each from a direction of fio's JSON; `cpu %` is the job's
 * usr_cpu + sys_cpu (the process's CPU time over the job's wall time): on a shared machine a
 * wall-time figure follows the CPU share the run got, and this row shows it.
 */
export const REPEAT_FIGURES: readonly { readonly name: string; readonly of: (d: Dir, j: FioJob) => number }[] = [
  { name: 'MiB/s', of: (d) => d.bw_bytes / 2 ** 20 },
  { name: 'IOPS', of: (d) => d.iops },
  { name: 'clat mean µs', of: (d) => d.clat_ns.mean / 1000 },
  { name: 'cpu %', of: (_d, j) => j.usr_cpu + j.sys_cpu },
];

export interface RepeatRow {
  readonly job: string;
  readonly dir: string;
  readonly figure: string;
  /** The figure of each run, in run order. */
  readonly values: readonly number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max − min) / median, percent (0 when the median is 0). */
  readonly spread_pct: number;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A row per job, direction that did I/O, and figure, over the runs (jobs matched by position and name). */
export function repeatRows(runs: readonly FioResult[]): RepeatRow[] {
  const first = runs[0];
  if (!first) return [];
  const rows: RepeatRow[] = [];
  for (const [i, job] of first.jobs.entries()) {
    for (const dir of DIRS) {
      if (!job[dir].total_ios) continue;
      for (const f of REPEAT_FIGURES) {
        const values = runs.map((r) => {
          const j = r.jobs[i];
          return j && j.jobname === job.jobname ? f.of(j[dir], j) : NaN;
        });
        const ok = values.filter(Number.isFinite);
        const med = median(ok);
        const min = Math.min(...ok);
        const max = Math.max(...ok);
        rows.push({ job: job.jobname, dir, figure: f.name, values, median: med, min, max, spread_pct: med > 0 ? ((max - min) / med) * 100 : 0 });
      }
    }
  }
  return rows;
}

/** Three significant digits, no exponent below a billion. */
function fig(v: number): string {
  if (!Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : a >= 10 ? v.toFixed(2) : v.toFixed(3);
}

/** The machine's 1-minute load average when the runs started and ended, and its CPUs. */
export interface RepeatLoad {
  readonly start: number;
  readonly end: number;
  readonly cpus: number;
}

/** The table `copylab bench --repeat` prints; spreads over REPEAT_SPREAD_WARN_PCT are marked. */
export function formatRepeat(rows: readonly RepeatRow[], runs: number, load?: RepeatLoad): string {
  const table = formatTextTable(
    rows.map((r) => [r.job, r.dir, r.figure, fig(r.median), fig(r.min), fig(r.max), `${r.spread_pct.toFixed(1)}%${r.spread_pct > REPEAT_SPREAD_WARN_PCT ? ' !' : ''}`]),
    { head: ['job', 'dir', 'figure', 'median', 'min', 'max', 'spread'], aligns: ['left', 'left', 'left', 'right', 'right', 'right', 'right'] },
  );
  const wide = new Set(rows.filter((r) => r.spread_pct > REPEAT_SPREAD_WARN_PCT).map((r) => r.job));
  const note = wide.size ? `\n! spread over ${REPEAT_SPREAD_WARN_PCT}% of the median: ${[...wide].join(', ')} (run longer: time_based, runtime, ramp_time)\n` : '';
  const machine = load ? `; load average ${load.start.toFixed(1)} -> ${load.end.toFixed(1)} on ${load.cpus} CPUs` : '';
  return `${runs} runs${machine}; spread = (max - min) / median\n${table}\n${note}`;
}
