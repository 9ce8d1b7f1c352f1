/**
 * The segment information table, per section (F2FS's SIT, fs/f2fs/segment.h struct seg_entry /
 * sec_entry): a valid-block bitmap over every physical block, a valid count and a modification
 * time per section, and the section's state. Full sections also sit in buckets by valid count so
 * that greedy finds the fewest-valid section without scanning (the result F2FS's foreground
 * get_victim_by_default reaches by scanning every dirty section).
 */
export const SectionState = { FREE: 0, OPEN: 1, FULL: 2 } as const;

export class Sit {
  /** One bit per physical block: set while the block holds the latest copy of its logical block. */
  readonly bitmap: Uint32Array;
  readonly valid: Uint32Array;
  /** Modification time (the lab's write clock), averaged over the blocks written (update_segment_mtime). */
  readonly mtime: Float64Array;
  readonly state: Uint8Array;
  /** Greedy buckets: head per valid count, doubly linked lists of full sections. */
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private minHint: number;

  constructor(
    readonly sections: number,
    readonly sectionBlocks: number,
  ) {
    this.bitmap = new Uint32Array(Math.ceil((sections * sectionBlocks) / 32));
    this.valid = new Uint32Array(sections);
    this.mtime = new Float64Array(sections);
    this.state = new Uint8Array(sections);
    this.head = new Int32Array(sectionBlocks + 1).fill(-1);
    this.next = new Int32Array(sections).fill(-1);
    this.prev = new Int32Array(sections).fill(-1);
    this.minHint = sectionBlocks + 1;
  }

  isValid(p: number): boolean {
    return (this.bitmap[p >>> 5]! & (1 << (p & 31))) !== 0;
  }

  /** Reads what invalidating a block of section s touches, so that a later access finds it cached (lfs.ts prefetch). */
  touch(s: number): number {
    return this.valid[s]! ^ this.state[s]! ^ this.next[s]! ^ this.prev[s]!;
  }

  /** The same for the bucket neighbours that moving section s to the next bucket down touches. */
  touchNeighbours(s: number): number {
    const p = this.prev[s]!;
    const n = this.next[s]!;
    const v = this.valid[s]!;
    const h = v > 0 ? this.head[v - 1]! : -1;
    return (p >= 0 ? this.next[p]! : 0) ^ (n >= 0 ? this.prev[n]! : 0) ^ (h >= 0 ? this.prev[h]! : 0);
  }

  /** A full section joins the bucket of its valid count. */
  insertFull(s: number): void {
    const v = this.valid[s]!;
    const h = this.head[v]!;
    this.next[s] = h;
    this.prev[s] = -1;
    if (h >= 0) this.prev[h] = s;
    this.head[v] = s;
    if (v < this.minHint) this.minHint = v;
  }

  removeFull(s: number): void {
    const v = this.valid[s]!;
    const n = this.next[s]!;
    const p = this.prev[s]!;
    if (p >= 0) this.next[p] = n;
    else this.head[v] = n;
    if (n >= 0) this.prev[n] = p;
  }

  /** The full section with the fewest valid blocks, or −1 (greedy: get_gc_cost = valid blocks). */
  fewestValid(): number {
    const head = this.head;
    const top = this.sectionBlocks;
    let v = this.minHint;
    while (v <= top && head[v]! < 0) v++;
    this.minHint = v;
    return v <= top ? head[v]! : -1;
  }

  /** Clears a section's bitmap and counters (it became free). */
  clearSection(s: number): void {
    const sb = this.sectionBlocks;
    const first = s * sb;
    const end = first + sb;
    let p = first;
    // Partial words at either end; whole words in between.
    while (p < end && p & 31) {
      this.bitmap[p >>> 5]! &= ~(1 << (p & 31));
      p++;
    }
    const wEnd = end >>> 5;
    if (p >>> 5 < wEnd) this.bitmap.fill(0, p >>> 5, wEnd);
    p = Math.max(p, wEnd << 5);
    while (p < end) {
      this.bitmap[p >>> 5]! &= ~(1 << (p & 31));
      p++;
    }
    this.valid[s] = 0;
    this.mtime[s] = 0;
  }

  /** Invalidates physical block p of section s; returns the new valid count. */
  invalidate(p: number, s: number): number {
    this.bitmap[p >>> 5]! &= ~(1 << (p & 31));
    const full = this.state[s] === SectionState.FULL;
    if (full) this.removeFull(s);
    const v = --this.valid[s]!;
    if (full && v > 0) this.insertFull(s);
    return v;
  }

  /** Marks physical block p of open section s valid, written at time `t`. */
  validate(p: number, s: number, t: number): void {
    this.bitmap[p >>> 5]! |= 1 << (p & 31);
    const v = this.valid[s]!;
    this.mtime[s] = v === 0 ? t : (this.mtime[s]! * v + t) / (v + 1);
    this.valid[s] = v + 1;
  }
}
