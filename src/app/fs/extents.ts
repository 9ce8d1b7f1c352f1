/**
 * A file's extent list (docs/files.md): runs of file blocks mapped to runs of device blocks,
 * sorted by file block, touching runs merged, at most FS_MAX_EXTENTS of them.
 */
import { Errno, ErrnoError } from '../../core/util/errno.js';

/** Most extents one file maps (a limit on everything; ext4's is per tree level, this is flat). */
export const FS_MAX_EXTENTS = 1 << 20;

export interface FileExtent {
  /** First file block. */
  file: number;
  /** First file-system block on the device. */
  dev: number;
  count: number;
}

export class ExtentList {
  readonly list: FileExtent[] = [];

  get length(): number {
    return this.list.length;
  }

  /** Index of the last extent starting at or before file block fb, or -1. */
  private at(fb: number): number {
    let lo = 0;
    let hi = this.list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid]!.file <= fb) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** The device block of file block fb, or -1 (a hole). */
  lookup(fb: number): number {
    const i = this.at(fb);
    if (i < 0) return -1;
    const e = this.list[i]!;
    return fb < e.file + e.count ? e.dev + (fb - e.file) : -1;
  }

  /** Blocks mapped from fb on in one run (0 for a hole), at most `max`. */
  runAt(fb: number, max: number): { dev: number; count: number } {
    const i = this.at(fb);
    if (i < 0) return { dev: -1, count: 0 };
    const e = this.list[i]!;
    if (fb >= e.file + e.count) return { dev: -1, count: 0 };
    return { dev: e.dev + (fb - e.file), count: Math.min(max, e.file + e.count - fb) };
  }

  /** Blocks of hole from fb on, at most `max`. */
  holeAt(fb: number, max: number): number {
    if (this.lookup(fb) >= 0) return 0;
    const i = this.at(fb);
    const next = this.list[i + 1];
    return Math.min(max, next ? next.file - fb : max);
  }

  /** Maps [fb, fb + count) (a hole) to device blocks from dev on. */
  map(fb: number, dev: number, count: number): void {
    const i = this.at(fb);
    const prev = i >= 0 ? this.list[i]! : undefined;
    if (prev && fb < prev.file + prev.count) throw new Error(`extents: file block ${fb} is already mapped`);
    const next = this.list[i + 1];
    if (next && fb + count > next.file) throw new Error(`extents: file blocks ${fb}+${count} overlap a mapping`);
    const joinPrev = prev !== undefined && prev.file + prev.count === fb && prev.dev + prev.count === dev;
    const joinNext = next !== undefined && fb + count === next.file && dev + count === next.dev;
    if (joinPrev && joinNext) {
      prev.count += count + next.count;
      this.list.splice(i + 1, 1);
    } else if (joinPrev) prev.count += count;
    else if (joinNext) {
      next.file = fb;
      next.dev = dev;
      next.count += count;
    } else {
      if (this.list.length >= FS_MAX_EXTENTS) throw new ErrnoError(Errno.EFBIG, `a file maps at most ${FS_MAX_EXTENTS} extents`);
      this.list.splice(i + 1, 0, { file: fb, dev, count });
    }
  }

  /** Unmaps [fb, fb + count); returns the device runs it held. */
  unmap(fb: number, count: number): { dev: number; count: number }[] {
    const end = fb + count;
    const out: { dev: number; count: number }[] = [];
    const kept: FileExtent[] = [];
    for (const e of this.list) {
      const eEnd = e.file + e.count;
      if (eEnd <= fb || e.file >= end) {
        kept.push(e);
        continue;
      }
      const a = Math.max(e.file, fb);
      const b = Math.min(eEnd, end);
      out.push({ dev: e.dev + (a - e.file), count: b - a });
      if (e.file < a) kept.push({ file: e.file, dev: e.dev, count: a - e.file });
      if (b < eEnd) kept.push({ file: b, dev: e.dev + (b - e.file), count: eEnd - b });
    }
    this.list.length = 0;
    this.list.push(...kept);
    return out;
  }

  /** Blocks mapped in all. */
  get blocks(): number {
    let n = 0;
    for (const e of this.list) n += e.count;
    return n;
  }
}
