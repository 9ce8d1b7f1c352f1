/**
 * The generic submit path (submit_bio_noacct + bio_split_to_limits, block/blk-core.c and
 * block/blk-merge.c, reduced): check a bio against its device, split it to the queue limits,
 * account it, trace it, hand it to the driver. Every failure completes the bio with a negative
 * errno; nothing here throws.
 */
import type { Bio } from './bio.js';
import type { BlockDevice, DeviceStats } from './device.js';
import { ReqOp, OP_NAME, SECTOR_SIZE, type ReqOp as ReqOpT } from './ops.js';
import { Errno } from '../util/errno.js';
import type { Trace } from './trace.js';
import { offloadRefusal } from './copy/plan.js';

/** Why a bio is refused before it reaches the driver, or null when it may go. */
export function checkBio(dev: BlockDevice, bio: Bio): number {
  const { offset, length, op } = bio;
  const l = dev.limits;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) return -Errno.EINVAL;
  if (op === ReqOp.FLUSH) return 0;
  const lbs = l.logical_block_size;
  if (offset % lbs !== 0 || length % lbs !== 0) return -Errno.EINVAL;
  // bio_check_eod(): a bio beyond the end of the device fails with BLK_STS_IOERR → -EIO.
  if (offset + length > dev.capacity) return -Errno.EIO;
  switch (op) {
    case ReqOp.READ:
    case ReqOp.WRITE:
      if (!bio.data || bio.data.length !== length) return -Errno.EINVAL;
      return 0;
    case ReqOp.DISCARD:
      return l.max_discard_sectors === 0 ? -Errno.ENOTSUP : 0;
    case ReqOp.WRITE_ZEROES:
      return l.max_write_zeroes_sectors === 0 ? -Errno.ENOTSUP : 0;
    case ReqOp.COPY:
      return checkCopyBio(dev, bio);
    default:
      // COPY_DST/COPY_SRC travel only as a pair inside the paired strategy, never alone.
      return -Errno.ENOTSUP;
  }
}

/**
 * A copy bio as the driver may receive it: within the queue's copy limits, and every source one the
 * planner would offload from (copy_max_bytes on both sides, one copy domain, the driver's
 * copyOffloadRefusal). A source the destination cannot reach is -EXDEV for every driver alike,
 * decided here once, so no driver ever sees a foreign source.
 */
export function checkCopyBio(dev: BlockDevice, bio: Bio): number {
  const l = dev.limits;
  if (l.max_copy_sectors === 0) return -Errno.ENOTSUP;
  const sources = bio.sources;
  if (!sources || sources.length === 0) return -Errno.EINVAL;
  if (bio.length > l.max_copy_sectors * SECTOR_SIZE) return -Errno.EINVAL;
  if (sources.length > l.max_copy_src_segments) return -Errno.EINVAL;
  let sum = 0;
  for (const s of sources) {
    const slbs = s.dev.limits.logical_block_size;
    if (!Number.isSafeInteger(s.offset) || !Number.isSafeInteger(s.length) || s.offset < 0 || s.length <= 0) return -Errno.EINVAL;
    if (s.offset % slbs !== 0 || s.length % slbs !== 0) return -Errno.EINVAL;
    if (s.offset + s.length > s.dev.capacity) return -Errno.EINVAL;
    sum += s.length;
  }
  if (sum !== bio.length) return -Errno.EINVAL;
  for (const s of sources) if (offloadRefusal(dev, s.dev) !== null) return -Errno.EXDEV;
  return 0;
}

/** Largest bio (bytes) of this op that the driver takes in one piece; Infinity when not split. */
function splitLimit(dev: BlockDevice, op: ReqOpT): number {
  const l = dev.limits;
  switch (op) {
    case ReqOp.READ:
    case ReqOp.WRITE:
      return l.max_sectors * SECTOR_SIZE;
    case ReqOp.DISCARD:
      return l.max_discard_sectors * SECTOR_SIZE;
    case ReqOp.WRITE_ZEROES:
      return l.max_write_zeroes_sectors * SECTOR_SIZE;
    default:
      return Infinity;
  }
}

function account(stats: DeviceStats, op: ReqOpT, bytes: number): void {
  switch (op) {
    case ReqOp.READ: stats.ios.read++; stats.bytes.read += bytes; stats.host_bytes += bytes; break;
    case ReqOp.WRITE: stats.ios.write++; stats.bytes.write += bytes; stats.host_bytes += bytes; break;
    case ReqOp.FLUSH: stats.ios.flush++; break;
    case ReqOp.DISCARD: stats.ios.discard++; stats.bytes.discard += bytes; break;
    case ReqOp.WRITE_ZEROES: stats.ios.write_zeroes++; stats.bytes.write_zeroes += bytes; break;
    case ReqOp.COPY: stats.ios.copy++; stats.bytes.copy += bytes; break;
  }
}

/**
 * Submits a bio. Completes it with -errno when it is refused; otherwise splits it to the queue
 * limits (X events), issues the pieces (D) and completes it (C) when all pieces have completed,
 * with the first error any piece returned.
 */
export function submitBio(dev: BlockDevice, bio: Bio): void {
  const trace = bio.trace;
  const bad = checkBio(dev, bio);
  if (bad !== 0) {
    trace?.add('C', dev.name, bio.op, bio.offset, bio.length, { res: bad, info: 'rejected by the block layer' });
    bio.endIo(bad);
    return;
  }
  const max = splitLimit(dev, bio.op);
  if (bio.length <= max) {
    issue(dev, bio);
    return;
  }
  // Split to the limit, aligned down to the logical block size (bio_split_rw).
  const step = Math.max(dev.limits.logical_block_size, max - (max % dev.limits.logical_block_size));
  const parts = Math.ceil(bio.length / step);
  let pending = parts;
  let firstError = 0;
  const done = (res: number): void => {
    if (res < 0 && firstError === 0) firstError = res;
    if (--pending === 0) bio.endIo(firstError < 0 ? firstError : resultOf(bio.op, bio.length));
  };
  for (let i = 0; i < parts; i++) {
    const off = i * step;
    const len = Math.min(step, bio.length - off);
    trace?.add('X', dev.name, bio.op, bio.offset + off, len, { info: `split ${i + 1}/${parts} at max ${max} bytes` });
    issue(dev, {
      op: bio.op,
      offset: bio.offset + off,
      length: len,
      data: bio.data?.subarray(off, off + len),
      flags: bio.flags,
      trace,
      endIo: done,
    });
  }
}

function resultOf(op: ReqOpT, length: number): number {
  return op === ReqOp.READ || op === ReqOp.WRITE || op === ReqOp.COPY ? length : 0;
}

function issue(dev: BlockDevice, bio: Bio): void {
  const trace = bio.trace;
  const fault = dev.faults.check(bio.op);
  trace?.add('D', dev.name, bio.op, bio.offset, bio.length, bio.sources ? { info: `${bio.sources.length} source range(s)` } : undefined);
  if (fault !== 0) {
    trace?.add('C', dev.name, bio.op, bio.offset, bio.length, { res: fault, info: 'injected fault' });
    bio.endIo(fault);
    return;
  }
  dev.queueBio(new IssuedBio(dev, bio));
}

/**
 * The bio a driver receives: the submitted bio's fields, and a completion that accounts it on its
 * device, traces it (C) and completes the submitted bio. One object per issue and no closure: the
 * completion is a method (drivers call it as bio.endIo(res)).
 */
class IssuedBio implements Bio {
  readonly op: ReqOpT;
  readonly offset: number;
  readonly length: number;
  readonly data: Uint8Array | undefined;
  readonly sources: Bio['sources'];
  readonly flags: number;
  readonly trace: Trace | undefined;

  constructor(private readonly dev: BlockDevice, private readonly bio: Bio) {
    this.op = bio.op;
    this.offset = bio.offset;
    this.length = bio.length;
    this.data = bio.data;
    this.sources = bio.sources;
    this.flags = bio.flags;
    this.trace = bio.trace;
  }

  endIo(res: number): void {
    const bio = this.bio;
    if (res >= 0) account(this.dev.stats, bio.op, bio.length);
    bio.trace?.add('C', this.dev.name, bio.op, bio.offset, bio.length, { res });
    bio.endIo(res);
  }
}

/** Submits a bio and resolves with its result (never rejects). */
export function submitBioWait(
  dev: BlockDevice,
  bio: { op: ReqOpT; offset: number; length: number; data?: Uint8Array; sources?: Bio['sources']; flags?: number; trace?: Trace },
): Promise<number> {
  return new Promise((resolve) => {
    try {
      submitBio(dev, { flags: 0, ...bio, endIo: resolve });
    } catch (err) {
      // A driver bug must not take the caller down: report it as an I/O error.
      process.emitWarning(`${dev.name}: ${OP_NAME[bio.op]} threw: ${String(err)}`);
      resolve(-Errno.EIO);
    }
  });
}
