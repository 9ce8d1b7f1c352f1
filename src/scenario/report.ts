/** Printing a scenario report: a table for people, one JSON object per step for programs. */
import Table from 'cli-table3';
import type { ScenarioReport, StepResult } from './run.js';
import { formatSize } from '../util/size.js';

const size = (n: number | undefined): string => (n === undefined ? '' : formatSize(n));

function note(r: StepResult): string {
  if (!r.ok) return r.message ?? '';
  if (r.reason) return r.reason;
  if (r.errno) return `refused: ${r.errno}${r.message ? ` (${r.message})` : ''}`;
  if (r.value !== undefined) return `= ${r.value.trim()}`;
  return r.message ?? '';
}

/** `width`: the terminal's columns, to wrap the note column; no wrapping when absent (pipes, files). */
export function formatTable(report: ScenarioReport, opts: { color?: boolean; width?: number } = {}): string {
  // Modeled time gets its own column once any step took some (a lab with a timed device).
  const modeled = report.steps.some((r) => r.modeled_us > 0);
  const wrap = opts.width !== undefined ? { colWidths: [...Array<null>(modeled ? 10 : 9).fill(null), Math.max(30, opts.width - (modeled ? 112 : 100))], wordWrap: true } : {};
  const table = new Table({
    head: ['#', 'step', 'target', 'ok', 'path', 'pieces', 'bytes', 'host bytes', ...(modeled ? ['modeled'] : []), 'time', 'note'],
    colAligns: ['right', 'left', 'left', 'left', 'left', 'right', 'right', 'right', ...(modeled ? ['right' as const] : []), 'right', 'left'],
    ...wrap,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: opts.color ? ['cyan'] : [], border: opts.color ? ['grey'] : [] },
  });
  for (const r of report.steps) {
    table.push([
      r.step,
      r.kind,
      r.target,
      r.ok ? 'ok' : 'FAIL',
      r.path ?? '',
      r.pieces === undefined ? '' : `${r.offloaded_pieces ?? 0}/${r.pieces}`,
      size(r.bytes),
      size(r.host_bytes),
      ...(modeled ? [formatModeled(r.modeled_us)] : []),
      `${r.wall_ms.toFixed(2)} ms`,
      note(r),
    ]);
  }
  const failed = report.steps.filter((r) => !r.ok).length;
  const summary = failed ? `${failed} of ${report.steps.length} steps failed` : `all ${report.steps.length} steps ok`;
  const legend = modeled ? '; modeled = device time from the timing models, time = wall time' : '';
  return `${table.toString()}\npieces = offloaded/total; host bytes = bytes moved through host buffers (0 when the device copies)${legend}.\n${summary}`;
}

/** Modeled microseconds in the unit that reads best (µs, ms, s). */
export function formatModeled(us: number): string {
  if (us < 1000) return `${us.toFixed(1)} µs`;
  if (us < 1e6) return `${(us / 1e3).toFixed(2)} ms`;
  return `${(us / 1e6).toFixed(3)} s`;
}

/** One JSON object per step, with the keys the issue names (step, ok, path, pieces, bytes, host_bytes, errno, wall time, reason). */
export function formatJsonLines(report: ScenarioReport): string {
  return report.steps.map((r) => JSON.stringify(r)).join('\n');
}
