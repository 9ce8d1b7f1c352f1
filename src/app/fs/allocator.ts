/**
 * The block allocator of copylab's file system (docs/files.md): one bit per file-system block,
 * extents handed out first fit from a moving hint (as ext2's goal block), space promised to
 * dirty pages that have no blocks yet counted apart (delayed allocation's reservation), so a
 * write that was accepted never meets ENOSPC at writeback.
 */
import { Errno, ErrnoError } from '../../core/util/errno.js';

export interface Extent {
  /** First block, in file-system blocks on the device. */
  readonly start: number;
  readonly count: number;
}

export class BlockAllocator {
  private readonly used: Uint8Array;
  private free: number;
  private reserved = 0;
  private hint = 0;
  /**
   * With metadata on the device: blocks freed since the last commit, not handed out again until
   * a commit that no longer maps them is on the device (XFS's busy extents): the last commit may
   * still map them, and a crash must find them holding what it mapped.
   */
  holdFreed = false;
  private readonly pending: Extent[] = [];
  private pendingCount = 0;

  constructor(readonly blocks: number) {
    this.used = new Uint8Array(Math.ceil(blocks / 8));
    this.free = blocks;
  }

  get freeBlocks(): number {
    return this.free;
  }

  /** Blocks neither used nor promised. */
  get available(): number {
    return this.free - this.reserved;
  }

  get reservedBlocks(): number {
    return this.reserved;
  }

  isUsed(b: number): boolean {
    return (this.used[b >> 3]! & (1 << (b & 7))) !== 0;
  }

  /** Promises n blocks to pages not yet written back; ENOSPC when they are not there. */
  reserve(n: number): void {
    if (n > this.available) throw new ErrnoError(Errno.ENOSPC, `no space left: ${n} blocks wanted, ${this.available} available`);
    this.reserved += n;
  }

  unreserve(n: number): void {
    this.reserved = Math.max(0, this.reserved - n);
  }

  /**
   * `want` blocks as few extents as first fit finds, from the hint on (wrapping). `reserved`
   * of them (all with `true`) were promised earlier and come out of the reservation. ENOSPC,
   * with nothing taken, when fewer are there.
   */
  allocate(want: number, reserved: number | boolean = 0): Extent[] {
    if (want <= 0) return [];
    const promised = Math.min(want, this.reserved, reserved === true ? want : reserved === false ? 0 : reserved);
    const limit = this.available + promised;
    if (want > limit) throw new ErrnoError(Errno.ENOSPC, `no space left: ${want} blocks wanted, ${limit} free`);
    const out: Extent[] = [];
    let left = want;
    let b = this.hint;
    let scanned = 0;
    while (left > 0 && scanned < this.blocks) {
      if (b >= this.blocks) b = 0;
      if (this.isUsed(b)) {
        b++;
        scanned++;
        continue;
      }
      const start = b;
      while (b < this.blocks && !this.isUsed(b) && b - start < left) {
        this.used[b >> 3]! |= 1 << (b & 7);
        b++;
        scanned++;
      }
      out.push({ start, count: b - start });
      left -= b - start;
    }
    const got = want - left;
    this.free -= got;
    this.reserved -= promised;
    this.hint = b;
    return out;
  }

  release(start: number, count: number): void {
    for (let b = start; b < start + count; b++) if (!this.isUsed(b)) throw new Error(`allocator: block ${b} freed twice`);
    if (this.holdFreed) {
      this.pending.push({ start, count });
      this.pendingCount += count;
      return;
    }
    for (let b = start; b < start + count; b++) this.used[b >> 3]! &= ~(1 << (b & 7));
    this.free += count;
  }

  /** Marks [start, start + count) used (metadata blocks at mkfs, every mapped block at mount). */
  markUsed(start: number, count: number): void {
    if (start < 0 || count < 0 || start + count > this.blocks) throw new RangeError(`allocator: blocks ${start}+${count} past ${this.blocks}`);
    for (let b = start; b < start + count; b++) {
      if (this.isUsed(b)) continue;
      this.used[b >> 3]! |= 1 << (b & 7);
      this.free--;
    }
  }

  /** Blocks freed and held until a commit (holdFreed). */
  get heldBlocks(): number {
    return this.pendingCount;
  }

  get heldRuns(): readonly Extent[] {
    return this.pending;
  }

  /**
   * A commit is on the device: held blocks it does not map are free now; those it maps (an
   * inode whose copy was still running committed its earlier extents) wait for the next.
   */
  settle(mapped: (b: number) => boolean): void {
    const keep: Extent[] = [];
    for (const r of this.pending.splice(0)) {
      for (let b = r.start; b < r.start + r.count; ) {
        const m = mapped(b);
        let e = b + 1;
        while (e < r.start + r.count && mapped(e) === m) e++;
        if (m) keep.push({ start: b, count: e - b });
        else {
          for (let x = b; x < e; x++) this.used[x >> 3]! &= ~(1 << (x & 7));
          this.free += e - b;
        }
        b = e;
      }
    }
    this.pending.push(...keep);
    this.pendingCount = keep.reduce((n, r) => n + r.count, 0);
  }
}
