/** How a GC sweep's results print: one table row (or --json line) per grid point, in grid order. */
import Table from 'cli-table3';
import type { GcResult } from '../gc/result.js';

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

export function printSweep(results: readonly GcResult[], json: boolean): void {
  if (json) {
    for (const r of results) process.stdout.write(JSON.stringify({ ...r, series: undefined }) + '\n');
    return;
  }
  const t = new Table({ head: ['workload', 'policy', 'path', 'Sf', 'WAF', 'steady', 'Desnoyers greedy', 'ratio', 'GC cmds', 'host bytes', 'modeled s', 'p99 µs', 'wall s'], chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' }, style: { head: [], border: [] } });
  for (const r of results) t.push([r.workload, r.policy, r.path, r.spare_factor, fmt(r.waf, 3), fmt(r.waf_steady, 3), fmt(r.waf_desnoyers_greedy, 3), fmt(r.waf_steady / r.waf_desnoyers_greedy, 3), r.commands, formatBytes(r.host_bytes), fmt(r.modeled_s, 2), fmt(r.p99_us, 1), fmt(r.wall_s, 1)]);
  process.stdout.write(t.toString() + '\n');
}
