/**
 * The GC trace file: a MessagePack map (written and read with msgpackr) holding
 *   { format: "copylab-gc-trace", version: 1, block_bytes: 4096,
 *     op: bin (one byte per request: 0 write, 1 read, 2 discard),
 *     lba: bin (a little-endian u32 per request: first 4 KiB block),
 *     blocks: bin (a little-endian u32 per request: length in 4 KiB blocks) }
 * one entry per request, in issue order (MessagePack bin fields, so any MessagePack reader can
 * take them). Replay writes and discards; reads are counted and
 * skipped (they do not change what GC must do). `importBlkparse` builds one from blkparse's
 * default text output.
 */
import { BoundedReadError, readFileBounded } from '../../core/util/read-bounded.js';
import { pack, unpack } from 'msgpackr';
import { GC_BLOCK_BYTES } from './constants.js';
import { TraceOp } from './workload.js';

export const GC_TRACE_FORMAT = 'copylab-gc-trace';
export const GC_TRACE_VERSION = 1;
/** Largest trace file read (a limit on everything). */
export const GC_TRACE_MAX_BYTES = 1024 ** 3;
export const GC_TRACE_MAX_RECORDS = 100_000_000;
/** Largest blkparse text imported (a JavaScript string holds at most about 512 Mi characters). */
export const GC_BLKPARSE_MAX_BYTES = 256 * 1024 ** 2;

export interface GcTrace {
  readonly op: Uint8Array;
  readonly lba: Uint32Array;
  readonly blocks: Uint32Array;
}

export class TraceFileError extends Error {}

function u32le(a: Uint32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  const v = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) v.setUint32(i * 4, a[i]!, true);
  return out;
}

function fromU32le(b: Uint8Array): Uint32Array {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Uint32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = v.getUint32(i * 4, true);
  return out;
}

export function encodeTrace(t: GcTrace): Uint8Array {
  return pack({ format: GC_TRACE_FORMAT, version: GC_TRACE_VERSION, block_bytes: GC_BLOCK_BYTES, op: t.op, lba: u32le(t.lba), blocks: u32le(t.blocks) });
}

export function decodeTrace(bytes: Uint8Array): GcTrace {
  let v: unknown;
  try {
    v = unpack(bytes);
  } catch (err) {
    throw new TraceFileError(`not a MessagePack file: ${(err as Error).message}`);
  }
  const o = v as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || o.format !== GC_TRACE_FORMAT) throw new TraceFileError(`not a ${GC_TRACE_FORMAT} file`);
  if (o.version !== GC_TRACE_VERSION) throw new TraceFileError(`trace version ${String(o.version)} is not ${GC_TRACE_VERSION}`);
  if (o.block_bytes !== GC_BLOCK_BYTES) throw new TraceFileError(`block_bytes must be ${GC_BLOCK_BYTES}`);
  const { op, lba: lbaBytes, blocks: blockBytes } = o;
  if (!(op instanceof Uint8Array) || !(lbaBytes instanceof Uint8Array) || !(blockBytes instanceof Uint8Array)) throw new TraceFileError('op, lba and blocks must be MessagePack bin fields');
  if (lbaBytes.length !== op.length * 4 || blockBytes.length !== op.length * 4) throw new TraceFileError('lba and blocks must hold one little-endian u32 per request (4 bytes × the length of op)');
  const lba = fromU32le(lbaBytes);
  const blocks = fromU32le(blockBytes);
  if (op.length > GC_TRACE_MAX_RECORDS) throw new TraceFileError(`more than ${GC_TRACE_MAX_RECORDS} requests`);
  for (let i = 0; i < op.length; i++) if (op[i]! > TraceOp.DISCARD) throw new TraceFileError(`request ${i}: op ${op[i]} is not 0 (write), 1 (read) or 2 (discard)`);
  return { op, lba, blocks };
}

export function readTraceFile(path: string): GcTrace {
  return decodeTrace(readBounded(path, GC_TRACE_MAX_BYTES));
}

/** A file read with the project's bounded reader (a device or a pipe never runs away); problems as TraceFileError. */
export function readBounded(path: string, maxBytes: number): Uint8Array {
  try {
    return readFileBounded(path, maxBytes);
  } catch (err) {
    if (err instanceof BoundedReadError) throw new TraceFileError(`${path}: ${err.message}`);
    throw err;
  }
}

/**
 * blkparse's default output, one event per line:
 *   "  8,0    3        1     0.000000000   697  Q  WS 3868160 + 8 [kworker/3:1]"
 * (device, cpu, sequence, time, pid, action, RWBS, sector + sectors, process). Events of one
 * action (default Q, queued) become requests: RWBS with W → write, D → discard, R → read.
 * Sectors are 512 bytes; a request covers every 4 KiB block it touches.
 */
const BLKPARSE_LINE = /^\s*\d+,\d+\s+\d+\s+\d+\s+\d+\.\d+\s+\d+\s+([A-Z]{1,2})\s+([A-Z]+)\s+(\d+)\s+\+\s+(\d+)/;

export function importBlkparse(text: string, action = 'Q'): GcTrace {
  const op: number[] = [];
  const lba: number[] = [];
  const blocks: number[] = [];
  for (const line of text.split('\n')) {
    const m = BLKPARSE_LINE.exec(line);
    if (!m || m[1] !== action) continue;
    const rwbs = m[2]!;
    const o = rwbs.includes('D') ? TraceOp.DISCARD : rwbs.includes('W') ? TraceOp.WRITE : rwbs.includes('R') ? TraceOp.READ : -1;
    if (o < 0) continue;
    const sector = Number(m[3]);
    const n = Number(m[4]);
    if (n === 0) continue;
    const first = Math.floor((sector * 512) / GC_BLOCK_BYTES);
    const last = Math.floor(((sector + n) * 512 - 1) / GC_BLOCK_BYTES);
    if (last >= 2 ** 32) continue;
    op.push(o);
    lba.push(first);
    blocks.push(last - first + 1);
    if (op.length > GC_TRACE_MAX_RECORDS) throw new TraceFileError(`more than ${GC_TRACE_MAX_RECORDS} requests`);
  }
  return { op: Uint8Array.from(op), lba: Uint32Array.from(lba), blocks: Uint32Array.from(blocks) };
}
