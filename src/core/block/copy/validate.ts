/**
 * Checks a copy request before anything moves. Every failure is -EINVAL with a message, and a
 * rejected request writes nothing: the engine validates the whole request before planning it.
 */
import type { BlockDevice } from '../device.js';
import type { CopyOptions, CopyRange } from './types.js';
import { Errno } from '../../util/errno.js';

export interface CopyCheck {
  readonly res: number;
  readonly message?: string;
  readonly total: number;
}

function bad(message: string): CopyCheck {
  return { res: -Errno.EINVAL, message, total: 0 };
}

const isCount = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

export function validateCopy(dst: BlockDevice, ranges: readonly CopyRange[], opts: CopyOptions): CopyCheck {
  if (ranges.length > opts.maxRanges) return bad(`${ranges.length} ranges exceed the limit of ${opts.maxRanges} per copy`);
  const dstLbs = dst.limits.logical_block_size;
  let total = 0;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    const src = r.src ?? dst;
    const lbs = Math.max(dstLbs, src.limits.logical_block_size);
    if (!isCount(r.srcOffset) || !isCount(r.dstOffset) || !isCount(r.length)) return bad(`range ${i}: offsets and length must be non-negative integers`);
    if (r.length === 0) continue;
    if (r.srcOffset % lbs || r.dstOffset % lbs || r.length % lbs) return bad(`range ${i}: not aligned to the ${lbs}-byte logical block size`);
    if (r.srcOffset + r.length > src.capacity) return bad(`range ${i}: source ${src.name} [${r.srcOffset}, +${r.length}) is beyond its end (${src.capacity})`);
    if (r.dstOffset + r.length > dst.capacity) return bad(`range ${i}: destination ${dst.name} [${r.dstOffset}, +${r.length}) is beyond its end (${dst.capacity})`);
    total += r.length;
    if (total > opts.maxBytes) return bad(`the copy exceeds the limit of ${opts.maxBytes} bytes per request`);
  }
  // Overlaps: a source on the destination device must not overlap any destination range, and
  // destinations must not overlap each other (the result would depend on the order of pieces).
  const dsts = ranges.map((r, i) => ({ i, start: r.dstOffset, end: r.dstOffset + r.length })).filter((d) => d.end > d.start);
  const sorted = [...dsts].sort((a, b) => a.start - b.start);
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k]!.start < sorted[k - 1]!.end) return bad(`ranges ${sorted[k - 1]!.i} and ${sorted[k]!.i}: destinations overlap`);
  }
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    if ((r.src ?? dst) !== dst || r.length === 0) continue;
    const s = r.srcOffset;
    const e = s + r.length;
    // Binary search the sorted destinations for any interval that intersects [s, e).
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.end <= s) lo = mid + 1;
      else hi = mid;
    }
    const d = sorted[lo];
    if (d && d.start < e) return bad(`range ${i}: source overlaps the destination of range ${d.i} on ${dst.name}`);
  }
  return { res: 0, total };
}
