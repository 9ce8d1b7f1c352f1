/** Printing a scenario report: a table for people, one JSON object per step for programs. */
import type { ScenarioReport, StepResult } from './run.js';
import { formatSize } from '../../core/util/size.js';
import { formatTextTable } from '../../core/util/text-table.js';

const size = (n: number | undefined): string => (n === undefined ? '' : formatSize(n));

function note(r: StepResult): string {
  if (!r.ok) return r.message ?? '';
  if (r.reason) return r.reason;
  if (r.errno) return `refused: ${r.errno}${r.message ? ` (${r.message})` : ''}`;
  if (r.value !== undefined) return `= ${r.value.trim()}`;
  return r.message ?? '';
}

/** Lines a note may take in a table cut to the terminal's width (the rest: --json). */
export const NOTE_MAX_LINES = 3;
/** The note column never gets narrower than this, whatever the terminal. */
const NOTE_MIN_WIDTH = 24;

/** Words of `text` in lines of at most `width` characters (long words cut), at most `maxLines`; `cut` when text was dropped. */
export function wrapNote(text: string, width: number, maxLines = NOTE_MAX_LINES): { lines: string[]; cut: boolean } {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    for (let w = word; w.length; ) {
      const room = cur ? width - cur.length - 1 : width;
      if (w.length <= room) {
        cur = cur ? `${cur} ${w}` : w;
        w = '';
      } else if (!cur && w.length > width) {
        lines.push(w.slice(0, width));
        w = w.slice(width);
      } else {
        lines.push(cur);
        cur = '';
      }
    }
  }
  if (cur) lines.push(cur);
  if (lines.length <= maxLines) return { lines, cut: false };
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = `${kept[maxLines - 1]!.slice(0, Math.max(0, width - 1))}…`;
  return { lines: kept, cut: true };
}

/**
 * `width`: the terminal's columns: notes wrap to what the other columns leave and are cut after
 * NOTE_MAX_LINES lines (the table says so; --json has them in full). No width (pipes, files):
 * notes are printed whole on one line.
 */
export function formatTable(report: ScenarioReport, opts: { color?: boolean; width?: number } = {}): string {
  // Modeled time gets its own column once any step took some (a lab with a timed device).
  const modeled = report.steps.some((r) => r.modeled_us > 0);
  const head = ['#', 'step', 'target', 'ok', 'path', 'pieces', 'bytes', 'host bytes', ...(modeled ? ['modeled'] : []), 'time', 'note'];
  const rows = report.steps.map((r) => [
    String(r.step),
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
  let cut = false;
  if (opts.width !== undefined) {
    // Each column: its widest cell + 2 padding + 1 border; the note gets what is left.
    const fixed = head.slice(0, -1).reduce((n, h, c) => n + Math.max(h.length, ...rows.map((row) => row[c]!.length)) + 3, 1);
    const noteWidth = Math.max(NOTE_MIN_WIDTH, opts.width - fixed - 3);
    for (const row of rows) {
      const w = wrapNote(row[row.length - 1]!, noteWidth);
      row[row.length - 1] = w.lines.join('\n');
      cut ||= w.cut;
    }
  }
  const table = formatTextTable(rows, {
    head,
    aligns: ['right', 'left', 'left', 'left', 'left', 'right', 'right', 'right', ...(modeled ? ['right' as const] : []), 'right', 'left'],
    ...(opts.color ? { color: true } : {}),
  });
  const failed = report.steps.filter((r) => !r.ok).length;
  const summary = failed ? `${failed} of ${report.steps.length} steps failed` : `all ${report.steps.length} steps ok`;
  const legend = modeled ? '; modeled = device time from the timing models, time = wall time' : '';
  const cutNote = cut ? `\nnotes are cut to the terminal's width (…): --json prints them in full.` : '';
  return `${table}\npieces = offloaded/total; host bytes = bytes moved through host buffers (0 when the device copies)${legend}.${cutNote}\n${summary}`;
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
