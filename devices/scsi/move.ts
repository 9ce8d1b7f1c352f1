/**
 * Moving blocks inside the model: the copy manager's data path. Data goes from one LU's store
 * to another's in chunks (TPC_LIMITS.chunkBytes) without any host buffer. Overlapping ranges on
 * one LU are copied through a device-internal bounce buffer, back to front when the destination
 * lies after the source, so the result is a memmove.
 */
import { copyBetween } from '../backing/backing.js';
import type { LogicalUnit } from './lu.js';
import { TPC_LIMITS } from './tpc-limits.js';
import { Errno } from '../../src/core/util/errno.js';

export interface MoveResult {
  /** Bytes moved before success or failure. */
  readonly bytes: number;
  /** Negative errno when the destination refused a chunk. */
  readonly error: number;
}

/** Between two store-medium LUs (media.ts sends moves that involve a block device elsewhere). */
export function moveBytes(src: LogicalUnit, srcOff: number, dst: LogicalUnit, dstOff: number, length: number): MoveResult {
  const chunk = TPC_LIMITS.chunkBytes;
  const overlap = src === dst && srcOff < dstOff + length && dstOff < srcOff + length;
  if (!overlap) {
    let done = 0;
    while (done < length) {
      const n = Math.min(chunk, length - done);
      if (dst.takeWriteFault(done)) return { bytes: done, error: -Errno.EIO };
      const res = copyBetween(src.backing!, srcOff + done, dst.backing!, dstOff + done, n);
      if (res < 0) return { bytes: done, error: res };
      dst.changed(Math.floor((dstOff + done) / dst.lbs), n / dst.lbs);
      done += n;
    }
    return { bytes: done, error: 0 };
  }
  const bounce = new Uint8Array(Math.min(chunk, length));
  const backward = dstOff > srcOff;
  let done = 0;
  while (done < length) {
    const n = Math.min(chunk, length - done);
    const at = backward ? length - done - n : done;
    if (dst.takeWriteFault(done)) return { bytes: done, error: -Errno.EIO };
    const buf = bounce.subarray(0, n);
    src.read((srcOff + at) / src.lbs, n / src.lbs, buf);
    const res = dst.backing!.write(dstOff + at, buf);
    if (res < 0) return { bytes: done, error: res };
    dst.changed(Math.floor((dstOff + at) / dst.lbs), n / dst.lbs);
    done += n;
  }
  return { bytes: done, error: 0 };
}
