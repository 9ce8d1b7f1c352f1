/**
 * The segment information table, per section (F2FS's SIT, fs/f2fs/segment.h struct seg_entry /
 * sec_entry): a valid-block bitmap over every physical block, a valid count and a modification
 * time per section, and the section's state. Full sections also sit in buckets by valid count so
 * that greedy finds the fewest-valid section without scanning (the result F2FS's foreground
 * get_victim_by_default reaches by scanning every dirty section).
 *
 * A bucket is a count and a stack of section numbers, most recent on top. A section that leaves a
 * bucket stays in its stack as a stale entry (its valid count or state no longer match), skipped
 * when greedy looks and dropped when the stack is compacted; so invalidating a block touches the
 * section's own entry and the top of one stack, never a neighbour's (a linked list touches two).
 * Greedy takes the topmost current entry of the lowest non-empty bucket: the section that entered
 * that bucket last, as the head of a linked list would be.
 *
 * Only sections at or below a watch line are in buckets: greedy never looks far above the fewest
 * valid count, and a section well above it only has its count lowered. Once greedy has seen the
 * lowest bucket `margin` below the line, the line follows it down to that bucket + margin (the
 * buckets above are dropped); when no tracked section is left, a scan of the SIT raises it to
 * the fewest valid count + margin and tracks what lies below, in section order. So greedy's pick
 * is always a fewest-valid section; among equals, the last to enter the bucket, except for
 * sections the scan put in (in section order). In a terabyte run's steady state a section
 * loses about a hundred blocks between being written and being cleaned, and only its last
 * `margin` invalidations touch a bucket.
 */
import { specialize } from '../../core/util/specialize.js';
import { ASSERTS, invariant } from '../../core/util/invariants.js';

export const SectionState = { FREE: 0, OPEN: 1, FULL: 2 } as const;

/** Entries a bucket's stack starts with, and the slack it may hold beyond twice its bucket before it is compacted. */
const SIT_STACK_MIN = 64;

/** The watch line's margin above the fewest valid count: a sixteenth of a section (32 blocks of 512), at least 8. */
export function defaultWatchMargin(sectionBlocks: number): number {
  return Math.max(8, Math.floor(sectionBlocks / 16));
}

export class Sit {
  /** One bit per physical block: set while the block holds the latest copy of its logical block. */
  readonly bitmap: Uint32Array;
  readonly valid: Uint32Array;
  /** Modification time (the lab's write clock), averaged over the blocks written (update_segment_mtime). */
  readonly mtime: Float64Array;
  readonly state: Uint8Array;
  /** Greedy buckets: full sections per valid count, and a stack of entries per count (stale ones included). */
  private readonly count: Int32Array;
  private readonly stacks: Int32Array[];
  private readonly depth: Int32Array;
  /** The lowest bucket that may hold a section (internal: the invalidate closure lowers it). */
  minHint: number;
  /** Full sections with at most this many valid blocks are in buckets (internal: the invalidate closure reads it). */
  watch: number;
  /** Times the watch line was lowered, and SIT scans that raised it (for tests and benches). */
  lowerings = 0;
  rescans = 0;
  /** Compaction's marks: the pass that last kept an entry of each section. */
  private readonly mark: Uint32Array;
  private markPass = 0;

  constructor(
    readonly sections: number,
    readonly sectionBlocks: number,
    /** How far above the fewest valid count the watch line sits (Infinity: every full section is tracked). */
    readonly margin = defaultWatchMargin(sectionBlocks),
  ) {
    this.watch = sectionBlocks;
    this.bitmap = new Uint32Array(Math.ceil((sections * sectionBlocks) / 32));
    this.valid = new Uint32Array(sections);
    this.mtime = new Float64Array(sections);
    this.state = new Uint8Array(sections);
    this.count = new Int32Array(sectionBlocks + 1);
    this.stacks = Array.from({ length: sectionBlocks + 1 }, () => new Int32Array(SIT_STACK_MIN));
    this.depth = new Int32Array(sectionBlocks + 1);
    this.mark = new Uint32Array(sections);
    this.minHint = sectionBlocks + 1;
    this.invalidate = specialize(makeInvalidate)(this, this.bitmap, this.valid, this.state, this.count, this.depth, this.stacks, SectionState.FULL);
    this.validate = specialize(makeValidate)(this.bitmap, this.valid, this.mtime);
  }

  /**
   * Invalidates physical block p of section s; returns the new valid count. A full section moves
   * from bucket v + 1 to bucket v (one with nothing valid left is freed by the caller). A closure
   * of this instance's own (src/core/util/specialize.ts): the user write's hot path.
   */
  readonly invalidate: (p: number, s: number) => number;

  /** Marks physical block p of open section s valid, written at time `t` (update_segment_mtime). */
  readonly validate: (p: number, s: number, t: number) => void;

  isValid(p: number): boolean {
    return (this.bitmap[p >>> 5]! & (1 << (p & 31))) !== 0;
  }

  /** A full section joins the bucket of its valid count. */
  insertFull(s: number): void {
    if (ASSERTS) this.checkSection(s);
    const v = this.valid[s]!;
    if (v > this.watch) return;
    this.count[v]!++;
    this.push(v, s);
    if (v < this.minHint) this.minHint = v;
  }

  /** A full section leaves its bucket (its entry goes stale: the caller changes its state or count next). */
  removeFull(s: number): void {
    const v = this.valid[s]!;
    if (v <= this.watch) this.count[v]!--;
  }

  /** Pushes section s on bucket v's stack (internal: the invalidate closure's slow path). */
  push(v: number, s: number): void {
    let st = this.stacks[v]!;
    const d = this.depth[v]!;
    if (d === st.length) {
      // Stale entries are most of a stack that grew past twice its bucket: drop them first.
      if (d >= 2 * this.count[v]! + SIT_STACK_MIN) this.compact(v);
      if (this.depth[v] === st.length) {
        const bigger = new Int32Array(st.length * 2);
        bigger.set(st);
        this.stacks[v] = st = bigger;
      }
    }
    st[this.depth[v]!++] = s;
  }

  /** Keeps the current entries of bucket v's stack, each section once (its topmost entry), in order. */
  private compact(v: number): void {
    this.compactions++;
    const st = this.stacks[v]!;
    const d = this.depth[v]!;
    if (this.scratch.length < d) this.scratch = new Int32Array(d);
    const kept = this.scratch;
    this.markPass = (this.markPass + 1) >>> 0;
    const pass = this.markPass;
    let keep = 0;
    // Topmost first, so that a section's newest entry is the one kept; then back in stack order.
    for (let i = d - 1; i >= 0; i--) {
      const s = st[i]!;
      if (this.valid[s] !== v || this.state[s] !== SectionState.FULL || this.mark[s] === pass) continue;
      this.mark[s] = pass;
      kept[keep++] = s;
    }
    for (let i = 0; i < keep; i++) st[i] = kept[keep - 1 - i]!;
    this.depth[v] = keep;
  }
  private scratch = new Int32Array(0);
  /** Stacks compacted so far (for tests). */
  compactions = 0;

  /** The full section with the fewest valid blocks, or −1 (greedy: get_gc_cost = valid blocks). */
  fewestValid(): number {
    let v = this.minHint;
    while (v <= this.watch && this.count[v] === 0) v++;
    if (v > this.watch) {
      if (!this.rescan()) return -1;
      v = this.minHint;
      while (this.count[v] === 0) v++;
    }
    this.minHint = v;
    if (this.watch > v + 2 * this.margin) this.lower(v + this.margin);
    // Stale entries on top go; the current one stays until the caller removes the section.
    const st = this.stacks[v]!;
    let d = this.depth[v]!;
    while (d > 0) {
      const s = st[d - 1]!;
      if (this.valid[s] === v && this.state[s] === SectionState.FULL) {
        this.depth[v] = d;
        return s;
      }
      d--;
    }
    throw new Error(`SIT: bucket ${v} counts ${this.count[v]} full sections but holds none`);
  }

  /** Drops the buckets above `w` and makes `w` the watch line. */
  private lower(w: number): void {
    this.lowerings++;
    for (let b = w + 1; b <= this.watch; b++) {
      this.count[b] = 0;
      this.depth[b] = 0;
    }
    this.watch = w;
  }

  /**
   * No tracked section left: scans the SIT for the fewest valid count among full sections, puts
   * the line `margin` above it and tracks the sections below it, in section order. False when no
   * section is full.
   */
  private rescan(): boolean {
    const { valid, state } = this;
    let min = Infinity;
    for (let s = 0; s < this.sections; s++) if (state[s] === SectionState.FULL && valid[s]! < min) min = valid[s]!;
    if (min === Infinity) return false;
    this.rescans++;
    this.count.fill(0);
    this.depth.fill(0);
    this.watch = Math.min(this.sectionBlocks, min + this.margin);
    this.minHint = min;
    for (let s = 0; s < this.sections; s++) {
      const v = valid[s]!;
      if (state[s] === SectionState.FULL && v <= this.watch) {
        this.count[v]!++;
        this.push(v, s);
      }
    }
    return true;
  }

  /**
   * Section s's valid count is the number of its bits set in the bitmap, and at most a section's
   * blocks (COPYLAB_ASSERT runs check it as sections fill and are freed).
   */
  checkSection(s: number): void {
    const sb = this.sectionBlocks;
    let n = 0;
    for (let p = s * sb, end = p + sb; p < end; p++) if (this.isValid(p)) n++;
    invariant(n === this.valid[s] && n <= sb, () => `sit: section ${s} counts ${this.valid[s]} valid blocks, its bitmap ${n} (of ${sb})`);
  }

  /** Clears a section's bitmap and counters (it became free). */
  clearSection(s: number): void {
    if (ASSERTS) this.checkSection(s);
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

}

// The closures' factories: self-contained (specialize evaluates their source again).

function makeInvalidate(sit: Sit, bitmap: Uint32Array, valid: Uint32Array, state: Uint8Array, count: Int32Array, depth: Int32Array, stacks: Int32Array[], FULL: number) {
  return (p: number, s: number): number => {
    bitmap[p >>> 5]! &= ~(1 << (p & 31));
    const v = --valid[s]!;
    if (state[s] === FULL) {
      const w = sit.watch;
      if (v < w) count[v + 1]!--;
      if (v > 0 && v <= w) {
        count[v]!++;
        const st = stacks[v]!;
        const d = depth[v]!;
        if (d < st.length) {
          st[d] = s;
          depth[v] = d + 1;
        } else sit.push(v, s);
        if (v < sit.minHint) sit.minHint = v;
      }
    }
    return v;
  };
}

function makeValidate(bitmap: Uint32Array, valid: Uint32Array, mtime: Float64Array) {
  return (p: number, s: number, t: number): void => {
    bitmap[p >>> 5]! |= 1 << (p & 31);
    const v = valid[s]!;
    mtime[s] = v === 0 ? t : (mtime[s]! * v + t) / (v + 1);
    valid[s] = v + 1;
  };
}
