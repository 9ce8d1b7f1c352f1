/** How a GC sweep's results print: one table row (or --json line) per grid point, in grid order. */
import Table from 'cli-table3';
import type { GcResult } from '../gc/result.js';
import { isFailedPoint, type SweepPoint } from '../gc/sweep-point.js';
import { wrapText } from '../../core/util/text-table.js';

export const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '-');

export function formatBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i ? v.toFixed(2) : v} ${u[i]}`;
}

const HEAD = ['workload', 'policy', 'path', 'Sf', 'WAF', 'steady', 'Desnoyers greedy', 'ratio', 'GC cmds', 'host bytes', 'modeled s', 'GC s', 'p99.9 µs', 'max µs', 'wall s'];
/** Width of the error column (shown when a point failed), before its text wraps. */
const ERROR_WIDTH = 60;

/** A figure of modeled time: '-' where the run had no timing model. */
const timed = (r: GcResult, v: number, d: number): string => (r.modeled_s > 0 ? fmt(v, d) : '-');

/**
 * One table row (or --json line) per point, in grid order. A failed point's row has '-' for its
 * figures and its one-line error in an `error` column (there when a point failed); its JSON line
 * is the grid coordinates, `error` and `error_kind` (usage or failed).
 */
export function printSweep(points: readonly SweepPoint[], json: boolean): void {
  if (json) {
    for (const p of points) process.stdout.write(JSON.stringify(isFailedPoint(p) ? p : { ...p, series: undefined }) + '\n');
    return;
  }
  const failed = points.some(isFailedPoint);
  const t = new Table({ head: failed ? [...HEAD, 'error'] : HEAD, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' }, style: { head: [], border: [] } });
  for (const r of points) {
    if (isFailedPoint(r)) {
      t.push([r.workload, r.policy, r.path, r.spare_factor, ...HEAD.slice(4).map(() => '-'), wrapText(`${r.error_kind === 'usage' ? 'refused' : 'FAILED'}: ${r.error}`, ERROR_WIDTH).join('\n')]);
      continue;
    }
    const row = [r.workload, r.policy, r.path, r.spare_factor, fmt(r.waf, 3), fmt(r.waf_steady, 3), fmt(r.waf_desnoyers_greedy, 3), fmt(r.waf_steady / r.waf_desnoyers_greedy, 3), r.commands, formatBytes(r.host_bytes), timed(r, r.modeled_s, 2), timed(r, r.gc_modeled_s, 2), timed(r, r.p999_us, 1), timed(r, r.max_us, 0), fmt(r.wall_s, 1)];
    t.push(failed ? [...row, ''] : row);
  }
  process.stdout.write(t.toString() + '\n');
}
