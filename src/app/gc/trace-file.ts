/**
 * The GC trace file: a MessagePack map (written and read with msgpackr) holding
 *   { format: "copylab-gc-trace", version: 1, block_bytes: 4096,
 *     op: bin (one byte per request: 0 write, 1 read, 2 discard),
 *     lba: bin (a little-endian u32 per request: first 4 KiB block),
 *     blocks: bin (a little-endian u32 per request: length in 4 KiB blocks) }
 * one entry per request, in issue order (MessagePack bin fields, so any MessagePack reader can
 * take them). Replay writes and discards; reads are counted and
 * skipped (they do not change what GC must do). `importBlkparse` (blkparse.ts) builds one from
 * blkparse's default text output.
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
