/**
 * The nullblk device model: what the device does with a command, the same code whether it runs
 * on the lab's thread (execution: inline) or on a device worker (execution: worker).
 * Bounds and limits were checked by the block layer before the command got here.
 */
import { ReqOp } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import { copyBetween, type Backing } from '../backing/backing.js';

/** A copy source as the device sees it: another medium it can reach, and where. */
export interface ModelSource {
  readonly backing: Backing;
  readonly offset: number;
  readonly length: number;
}

export class NullBlkModel {
  constructor(readonly backing: Backing) {}

  /** Executes one command; returns bytes (READ/WRITE/COPY), 0, or a negative errno. */
  execute(op: number, offset: number, length: number, data: Uint8Array | undefined, sources: readonly ModelSource[] | undefined): number {
    switch (op) {
      case ReqOp.READ:
        this.backing.read(offset, data!);
        return length;
      case ReqOp.WRITE: {
        const res = this.backing.write(offset, data!);
        return res < 0 ? res : length;
      }
      case ReqOp.FLUSH:
        return 0;
      case ReqOp.DISCARD:
      case ReqOp.WRITE_ZEROES:
        this.backing.zero(offset, length);
        return 0;
      case ReqOp.COPY: {
        // The device-internal copy (null_blk in the copy-offload series: a memcpy per source).
        let at = offset;
        for (const s of sources ?? []) {
          const res = copyBetween(s.backing, s.offset, this.backing, at, s.length);
          if (res < 0) return res;
          at += s.length;
        }
        return length;
      }
      default:
        return -Errno.ENOTSUP;
    }
  }
}
