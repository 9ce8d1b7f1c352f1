/**
 * A bio: one block-layer request (include/linux/blk_types.h struct bio, reduced). Offsets and
 * lengths are in bytes and must be aligned to the device's logical block size. Completion is
 * a callback (bi_end_io) carrying bytes or 0 on success, a negative errno on failure.
 */
import type { ReqOp } from './ops.js';
import type { Trace } from './trace.js';
import type { BlockDevice } from './device.js';

/** One source extent of a copy: `length` bytes at `offset` on `dev`. */
export interface CopySource {
  readonly dev: BlockDevice;
  readonly offset: number;
  readonly length: number;
}

export interface Bio {
  readonly op: ReqOp;
  /** Byte offset on the device this bio is submitted to (for COPY: the destination). */
  readonly offset: number;
  readonly length: number;
  /** READ fills it, WRITE takes from it: the host buffer (DMA arena) of this request. */
  readonly data?: Uint8Array;
  /** COPY: the sources, written one after another from `offset`; their lengths sum to `length`. */
  readonly sources?: readonly CopySource[];
  readonly flags: number;
  readonly trace?: Trace;
  /** Called once, with bytes moved (READ/WRITE/COPY), 0 (FLUSH/DISCARD/WRITE_ZEROES) or -errno. */
  readonly endIo: (res: number) => void;
}
