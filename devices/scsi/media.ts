/**
 * Media access of the SCSI model. A command handler that touches the media is a generator: it
 * yields MediaOps (read, write, zero blocks of an LU, or move bytes between LUs) and gets each
 * op's result back. Parsing and checking stay plain synchronous code; only the media access
 * differs between the two kinds of medium an LU can have:
 *
 * - a store (devices/backing: memory or sparse), answered at once: `runSync` runs the command
 *   to completion inside `ScsiArray.execute`, as the sd driver and unit tests call it;
 * - a block device of the lab (nullblk, a dm stack, an NVMe namespace, …), answered when its
 *   bios complete: `runAsync` awaits each op (`ScsiArray.executeAsync`, used by the iSCSI
 *   target and the ring's SCSI URING_CMD). A move between two block devices goes through the
 *   block layer's copy engine, so offload decisions (copy domains, limits, emulation) are made
 *   in one place; the model never emulates a copy between block devices itself.
 */
import { ReqOp } from '../../src/core/block/ops.js';
import { submitBioWait } from '../../src/core/block/submit.js';
import { Errno } from '../../src/core/util/errno.js';
import { ASC, SenseKey } from './constants.js';
import { ScsiCheck } from './sense.js';
import type { LogicalUnit } from './lu.js';
import { moveBytes, type MoveResult } from './move.js';
import { TPC_LIMITS } from './tpc-limits.js';

export type MediaOp =
  | { readonly kind: 'read'; readonly lu: LogicalUnit; readonly lba: number; readonly blocks: number }
  | { readonly kind: 'write'; readonly lu: LogicalUnit; readonly lba: number; readonly data: Uint8Array }
  | { readonly kind: 'zero'; readonly lu: LogicalUnit; readonly lba: number; readonly blocks: number }
  | { readonly kind: 'move'; readonly src: LogicalUnit; readonly srcOff: number; readonly dst: LogicalUnit; readonly dstOff: number; readonly length: number }
  | { readonly kind: 'operation'; readonly rec: CopyOperationRecord; readonly immed: boolean };

/**
 * The part of a copy operation's record (copy-manager.ts ListRecord) the runners touch: a copy
 * handler announces its operation before its first move, so that a runner on the clock
 * (timed-run.ts) can track it, abort it, and with IMMED complete the command and go on in the
 * background. Runners without a clock ignore the announcement (the copy finishes in the command).
 */
export interface CopyOperationRecord {
  status: number;
  transferCount: number;
  segmentsProcessed: number;
  /** Milliseconds until the status next changes, while the operation runs on the clock. */
  estimatedDelayMs?: number;
}

/** A handler's media program: yields ops, receives their results, returns its Data-In or nothing. */
export type MediaRun<T> = Generator<MediaOp, T, unknown>;

/** Reads blocks; a failed read of a block device is MEDIUM ERROR, UNRECOVERED READ ERROR (SBC-3 4.13). */
/** The ops that touch media (every op but the operation announcement). */
export type StoreOrBlockOp = Exclude<MediaOp, { kind: 'operation' }>;

export function* mediaRead(lu: LogicalUnit, lba: number, blocks: number): MediaRun<Uint8Array> {
  const r = (yield { kind: 'read', lu, lba, blocks }) as Uint8Array | number;
  if (typeof r === 'number') throw new ScsiCheck(SenseKey.MEDIUM_ERROR, ASC.UNRECOVERED_READ_ERROR, { information: lba });
  return r;
}

/** Writes whole blocks: 0 or a negative errno. */
export function* mediaWrite(lu: LogicalUnit, lba: number, data: Uint8Array): MediaRun<number> {
  return (yield { kind: 'write', lu, lba, data }) as number;
}

/** Zeroes (deallocates) blocks: 0 or a negative errno. */
export function* mediaZero(lu: LogicalUnit, lba: number, blocks: number): MediaRun<number> {
  return (yield { kind: 'zero', lu, lba, blocks }) as number;
}

/** Moves bytes from one LU to another inside the target (the copy manager's data path). */
export function* mediaMove(src: LogicalUnit, srcOff: number, dst: LogicalUnit, dstOff: number, length: number): MediaRun<MoveResult> {
  return (yield { kind: 'move', src, srcOff, dst, dstOff, length }) as MoveResult;
}

/** Announces a copy operation (see CopyOperationRecord); the copy manager's limits were checked when its record was taken. */
export function* mediaOperation(rec: CopyOperationRecord, immed: boolean): MediaRun<void> {
  yield { kind: 'operation', rec, immed };
}

export function isMediaRun(x: unknown): x is MediaRun<Uint8Array | void> {
  return typeof x === 'object' && x !== null && typeof (x as { next?: unknown }).next === 'function' && Symbol.iterator in x;
}

/**
 * Runs a media program against store media only; an op on a block device medium cannot complete here.
 * An op that throws (a defect of the model) is thrown into the program, so its cleanup runs (a
 * copy operation's record ends: copy-manager.ts) before the error reaches the dispatcher.
 */
export function runSync<T>(g: MediaRun<T>): T {
  let r = g.next();
  while (!r.done) {
    const op = r.value;
    if (op.kind === 'operation') {
      r = g.next();
      continue;
    }
    if (involvesBlockDevice(op)) {
      // A block device completes asynchronously: only executeAsync can run this command.
      r = g.throw(new ScsiCheck(SenseKey.NOT_READY, ASC.LOGICAL_UNIT_NOT_READY_CAUSE_NOT_REPORTABLE));
      continue;
    }
    let out: ReturnType<typeof storeOp>;
    try {
      out = storeOp(op);
    } catch (err) {
      r = g.throw(err);
      continue;
    }
    r = g.next(out);
  }
  return r.value;
}

/** Runs a media program, awaiting block device ops; store ops complete at once. An op that fails is thrown into the program (runSync). */
export async function runAsync<T>(g: MediaRun<T>): Promise<T> {
  let r = g.next();
  while (!r.done) {
    const op = r.value;
    if (op.kind === 'operation') {
      r = g.next();
      continue;
    }
    let out: Awaited<ReturnType<typeof blockOp>>;
    try {
      out = involvesBlockDevice(op) ? await blockOp(op) : storeOp(op);
    } catch (err) {
      r = g.throw(err);
      continue;
    }
    r = g.next(out);
  }
  return r.value;
}

export function involvesBlockDevice(op: StoreOrBlockOp): boolean {
  return op.kind === 'move' ? op.src.block !== null || op.dst.block !== null : op.lu.block !== null;
}

export function storeOp(op: StoreOrBlockOp): Uint8Array | number | MoveResult {
  switch (op.kind) {
    case 'read':
      return op.lu.read(op.lba, op.blocks);
    case 'write':
      return op.lu.write(op.lba, op.data);
    case 'zero':
      op.lu.zero(op.lba, op.blocks);
      return 0;
    case 'move':
      return moveBytes(op.src, op.srcOff, op.dst, op.dstOff, op.length);
  }
}

export async function blockOp(op: StoreOrBlockOp): Promise<Uint8Array | number | MoveResult> {
  switch (op.kind) {
    case 'read': {
      const data = new Uint8Array(op.blocks * op.lu.lbs);
      if (op.blocks === 0) return data;
      const res = await submitBioWait(op.lu.block!.dev, { op: ReqOp.READ, offset: op.lba * op.lu.lbs, length: data.length, data });
      return res < 0 ? res : data;
    }
    case 'write': {
      if (op.data.length === 0) return 0;
      const res = await submitBioWait(op.lu.block!.dev, { op: ReqOp.WRITE, offset: op.lba * op.lu.lbs, length: op.data.length, data: op.data });
      if (res >= 0) op.lu.changed(op.lba, op.data.length / op.lu.lbs);
      return Math.min(res, 0);
    }
    case 'zero': {
      const res = await zeroBlockDevice(op.lu, op.lba, op.blocks);
      if (res >= 0) op.lu.changed(op.lba, op.blocks);
      return Math.min(res, 0);
    }
    case 'move':
      return moveWithBlockDevice(op.src, op.srcOff, op.dst, op.dstOff, op.length);
  }
}

/** WRITE ZEROES when the device has it (REQ_OP_WRITE_ZEROES), else zeroed WRITEs in chunks. */
async function zeroBlockDevice(lu: LogicalUnit, lba: number, blocks: number): Promise<number> {
  const dev = lu.block!.dev;
  const offset = lba * lu.lbs;
  const length = blocks * lu.lbs;
  if (length === 0) return 0;
  if (dev.limits.max_write_zeroes_sectors > 0) {
    const res = await submitBioWait(dev, { op: ReqOp.WRITE_ZEROES, offset, length });
    if (res !== -Errno.ENOTSUP) return res;
  }
  const zeros = new Uint8Array(Math.min(length, TPC_LIMITS.chunkBytes));
  for (let done = 0; done < length; ) {
    const n = Math.min(zeros.length, length - done);
    const res = await submitBioWait(dev, { op: ReqOp.WRITE, offset: offset + done, length: n, data: zeros.subarray(0, n) });
    if (res < 0) return res;
    done += n;
  }
  return 0;
}

/**
 * A move where a block device is involved. Both block devices: one copy request to the copy
 * engine (the lab's settings; it offloads or emulates). One side a store: the target's own
 * media on one end, so the data goes through a device-internal buffer in chunks, as moveBytes
 * does between stores (no host buffer is involved either way).
 */
async function moveWithBlockDevice(src: LogicalUnit, srcOff: number, dst: LogicalUnit, dstOff: number, length: number): Promise<MoveResult> {
  if (length === 0) return { bytes: 0, error: 0 };
  if (dst.takeWriteFault(0)) return { bytes: 0, error: -Errno.EIO };
  if (src.block && dst.block) {
    const r = await dst.block.copy(dst.block.dev, [{ src: src.block.dev, srcOffset: srcOff, dstOffset: dstOff, length }]);
    const bytes = Math.max(0, Math.min(r.bytes, length));
    if (bytes > 0) dst.changed(Math.floor(dstOff / dst.lbs), Math.ceil(bytes / dst.lbs));
    return { bytes: r.res < 0 ? bytes : length, error: r.res < 0 ? r.res : 0 };
  }
  const chunk = TPC_LIMITS.chunkBytes;
  for (let done = 0; done < length; ) {
    const n = Math.min(chunk, length - done);
    const buf = await readBytes(src, srcOff + done, n);
    if (typeof buf === 'number') return { bytes: done, error: buf };
    const res = await writeBytes(dst, dstOff + done, buf);
    if (res < 0) return { bytes: done, error: res };
    done += n;
  }
  return { bytes: length, error: 0 };
}

async function readBytes(lu: LogicalUnit, off: number, n: number): Promise<Uint8Array | number> {
  const r = lu.block ? await blockOp({ kind: 'read', lu, lba: off / lu.lbs, blocks: n / lu.lbs }) : storeOp({ kind: 'read', lu, lba: off / lu.lbs, blocks: n / lu.lbs });
  return r as Uint8Array | number;
}

async function writeBytes(lu: LogicalUnit, off: number, data: Uint8Array): Promise<number> {
  const r = lu.block ? await blockOp({ kind: 'write', lu, lba: off / lu.lbs, data }) : storeOp({ kind: 'write', lu, lba: off / lu.lbs, data });
  return r as number;
}
