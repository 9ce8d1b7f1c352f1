/**
 * blkparse's default text output → a GC trace (trace-file.ts), one event per line:
 *   "  8,0    3        1     0.000000000   697  Q  WS 3868160 + 8 [kworker/3:1]"
 * (device, cpu, sequence, time, pid, action, RWBS, sector + sectors, process). Events of one
 * action (default Q, queued) become requests: RWBS with D → discard, W → write, R → read.
 * Sectors are 512 bytes; a request covers every 4 KiB block it touches. Events of other actions
 * are left out by design; every other non-blank line (blkparse's summary, a flush, a zero-length
 * or out-of-range request, text that is not blkparse's) is counted as skipped, and the first one
 * is named by its line number.
 */
import { GC_BLOCK_BYTES } from './constants.js';
import { GC_TRACE_MAX_RECORDS, TraceFileError, type GcTrace } from './trace-file.js';
import { TraceOp } from './workload.js';
import { escapedPrefix } from '../../core/util/escaped-prefix.js';

/** Largest blkparse text imported (a JavaScript string holds at most about 512 Mi characters). */
export const GC_BLKPARSE_MAX_BYTES = 256 * 1024 ** 2;

const BLKPARSE_LINE = /^\s*\d+,\d+\s+\d+\s+\d+\s+\d+\.\d+\s+\d+\s+([A-Z]{1,2})\s+([A-Z]+)\s+(\d+)\s+\+\s+(\d+)/;

export interface BlkparseImport {
  readonly trace: GcTrace;
  /** Events of other actions than the one imported. */
  readonly otherActions: number;
  /** Non-blank lines that gave no request and are not another action's event. */
  readonly skipped: number;
  /** The first skipped line: its number (from 1), why, and its start (escapedPrefix). */
  readonly firstSkipped?: { readonly line: number; readonly why: string; readonly text: string };
}

/** Why an event of the imported action gives no request, or undefined when it gives one. */
function unusable(rwbs: string, sector: number, sectors: number): string | undefined {
  if (!/[DWR]/.test(rwbs)) return `${rwbs} is neither a read, a write nor a discard`;
  if (sectors === 0) return 'zero sectors';
  if (!Number.isSafeInteger(sector + sectors) || Math.floor(((sector + sectors) * 512 - 1) / GC_BLOCK_BYTES) >= 2 ** 32) return 'past the 2^32 blocks a trace holds';
  return undefined;
}

export function importBlkparse(text: string, action = 'Q'): BlkparseImport {
  const op: number[] = [];
  const lba: number[] = [];
  const blocks: number[] = [];
  let otherActions = 0;
  let skipped = 0;
  let firstSkipped: BlkparseImport['firstSkipped'];
  const skip = (n: number, why: string, line: string): void => {
    skipped++;
    firstSkipped ??= { line: n, why, text: escapedPrefix(line.trim()) };
  };
  let n = 0;
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    n++;
    if (line.trim() === '') continue;
    const m = BLKPARSE_LINE.exec(line);
    if (!m) {
      skip(n, 'not a blkparse event', line);
      continue;
    }
    if (m[1] !== action) {
      otherActions++;
      continue;
    }
    const rwbs = m[2]!;
    const sector = Number(m[3]);
    const sectors = Number(m[4]);
    const why = unusable(rwbs, sector, sectors);
    if (why) {
      skip(n, why, line);
      continue;
    }
    const first = Math.floor((sector * 512) / GC_BLOCK_BYTES);
    const last = Math.floor(((sector + sectors) * 512 - 1) / GC_BLOCK_BYTES);
    op.push(rwbs.includes('D') ? TraceOp.DISCARD : rwbs.includes('W') ? TraceOp.WRITE : TraceOp.READ);
    lba.push(first);
    blocks.push(last - first + 1);
    if (op.length > GC_TRACE_MAX_RECORDS) throw new TraceFileError(`more than ${GC_TRACE_MAX_RECORDS} requests`);
  }
  return {
    trace: { op: Uint8Array.from(op), lba: Uint32Array.from(lba), blocks: Uint32Array.from(blocks) },
    otherActions,
    skipped,
    ...(firstSkipped ? { firstSkipped } : {}),
  };
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * One line about an import of `input` into `output`: `2003 requests (2001 writes) → t.mpk; 2 lines
 * skipped (the first, line 5: not a blkparse event: "CPU0 (8,0):")`, or, when nothing was
 * usable, why.
 */
export function formatImport(input: string, output: string, r: BlkparseImport, action: string): string {
  const t = r.trace;
  const f = r.firstSkipped;
  const first = f ? `line ${f.line}: ${f.why}: ${f.text}` : '';
  const others = r.otherActions ? count(r.otherActions, 'event') + ' of other actions' : '';
  if (t.op.length === 0) {
    if (f) return `${input}: no usable ${action} events; the first unusable line is ${first} (${count(r.skipped, 'unusable line')}${others ? `, ${others}` : ''})`;
    return others ? `${input}: no ${action} events (${others}: --action picks which to take)` : `${input}: no blkparse events (the file is empty)`;
  }
  const writes = t.op.filter((x) => x === TraceOp.WRITE).length;
  return `${count(t.op.length, 'request')} (${count(writes, 'write')}) → ${output}${r.skipped ? `; ${count(r.skipped, 'line')} skipped (the first, ${first})` : ''}`;
}
