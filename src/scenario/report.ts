/** Printing a scenario report: a table for people, one JSON object per step for programs. */
import type { ScenarioReport, StepResult } from './run.js';
import { formatSize } from '../util/size.js';
import { formatTextTable } from '../util/text-table.js';

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
  const rows = report.steps.map((r) => [
    r.step,
    r.kind,
    r.target,
    r.ok ? 'ok' : 'FAIL',
    r.path ?? '',
    r.pieces === undefined ? '' : `${r.offloaded_pieces ?? 0}/${r.pieces}`,
    size(r.bytes),
    size(r.host_bytes),
    `${r.wall_ms.toFixed(2)} ms`,
    note(r),
  ]);
  const table = formatTextTable(rows, {
    head: ['#', 'step', 'target', 'ok', 'path', 'pieces', 'bytes', 'host bytes', 'time', 'note'],
    aligns: ['right', 'left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'left'],
    ...(opts.width !== undefined ? { lastColumnWidth: Math.max(30, opts.width - 100) - 2 } : {}),
    ...(opts.color ? { color: true } : {}),
  });
  const failed = report.steps.filter((r) => !r.ok).length;
  const summary = failed ? `${failed} of ${report.steps.length} steps failed` : `all ${report.steps.length} steps ok`;
  return `${table}\npieces = offloaded/total; host bytes = bytes moved through host buffers (0 when the device copies).\n${summary}`;
}

/** One JSON object per step, with the keys the issue names (step, ok, path, pieces, bytes, host_bytes, errno, wall time, reason). */
export function formatJsonLines(report: ScenarioReport): string {
  return report.steps.map((r) => JSON.stringify(r)).join('\n');
}
