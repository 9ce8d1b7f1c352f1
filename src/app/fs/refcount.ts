/**
 * Shared blocks of copylab's file system (docs/files.md, "reflink"): how many files map each
 * device block, kept as XFS keeps its refcount btree, with records only for runs mapped more
 * than once. A block the allocator has handed out and no record covers is mapped once. Sorted,
 * non-overlapping records; touching records with the same count are merged.
 */
import { Errno, ErrnoError } from '../../core/util/errno.js';

/** Most records the table holds (a limit on everything): a clone that would need more is ENOSPC before it maps anything. */
export const FS_MAX_REFCOUNT_RECORDS = 1 << 20;

export interface RefcountRecord {
  readonly start: number;
  readonly count: number;
  /** Files mapping each block of the run: 2 or more. */
  readonly refs: number;
}

export interface BlockRun {
  readonly start: number;
  readonly count: number;
}

export class RefcountTable {
  private list: RefcountRecord[] = [];

  get records(): readonly RefcountRecord[] {
    return this.list;
  }

  /** Blocks mapped by more than one file. */
  get sharedBlocks(): number {
    let n = 0;
    for (const r of this.list) n += r.count;
    return n;
  }

  /** Index of the first record ending after block b. */
  private firstEndingAfter(b: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const r = this.list[mid]!;
      if (r.start + r.count <= b) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Files mapping block b (1 when no record covers it). */
  refsAt(b: number): number {
    const r = this.list[this.firstEndingAfter(b)];
    return r && r.start <= b ? r.refs : 1;
  }

  /** From block b on, at most `max` blocks that are all shared or all not: which, and how many. */
  runAt(b: number, max: number): { shared: boolean; count: number } {
    const r = this.list[this.firstEndingAfter(b)];
    if (r && r.start <= b) return { shared: true, count: Math.min(max, r.start + r.count - b) };
    return { shared: false, count: Math.min(max, r ? r.start - b : max) };
  }

  /** Replaces the table with `records` (sorted, non-overlapping, 2 or more each: a mount's, checked). */
  load(records: readonly RefcountRecord[]): void {
    if (records.length > FS_MAX_REFCOUNT_RECORDS) throw new ErrnoError(Errno.EUCLEAN, `${records.length} refcount records, at most ${FS_MAX_REFCOUNT_RECORDS}`);
    this.list = records.map((r) => ({ ...r }));
  }

  /** Whether `runs` more records fit (a clone checks before it changes anything). */
  roomFor(runs: number): boolean {
    return this.list.length + 2 * runs <= FS_MAX_REFCOUNT_RECORDS;
  }

  /** One more file maps every block of [start, start + count). */
  share(start: number, count: number): void {
    if (!this.roomFor(1)) throw new ErrnoError(Errno.ENOSPC, `the refcount table holds at most ${FS_MAX_REFCOUNT_RECORDS} records`);
    this.apply(start, count, 1);
  }

  /** One file fewer maps every block of [start, start + count); returns the runs nobody maps any more (to free). */
  drop(start: number, count: number): BlockRun[] {
    return this.apply(start, count, -1);
  }

  private apply(start: number, count: number, delta: 1 | -1): BlockRun[] {
    const end = start + count;
    const i = this.firstEndingAfter(start);
    let j = i;
    const made: RefcountRecord[] = [];
    const freed: BlockRun[] = [];
    const put = (s: number, c: number, refs: number): void => {
      if (c <= 0) return;
      if (refs >= 2) made.push({ start: s, count: c, refs });
      else if (refs <= 0) freed.push({ start: s, count: c });
    };
    let at = start;
    while (at < end) {
      const r = this.list[j];
      if (!r || r.start >= end) {
        put(at, end - at, 1 + delta);
        break;
      }
      if (r.start > at) {
        put(at, r.start - at, 1 + delta);
        at = r.start;
      }
      if (r.start < at) put(r.start, at - r.start, r.refs); // its part before the window
      const stop = Math.min(r.start + r.count, end);
      put(at, stop - at, r.refs + delta);
      if (r.start + r.count > end) put(end, r.start + r.count - end, r.refs); // its part after
      at = stop;
      j++;
    }
    this.list.splice(i, j - i, ...made);
    this.mergeAround(Math.max(0, i - 1), i + made.length + 1);
    return freed;
  }

  /** Merges touching records with equal counts in list[from, to]. */
  private mergeAround(from: number, to: number): void {
    const out: RefcountRecord[] = [];
    const stop = Math.min(to, this.list.length - 1);
    for (let k = from; k <= stop; k++) {
      const r = this.list[k]!;
      const last = out[out.length - 1];
      if (last && last.start + last.count === r.start && last.refs === r.refs) out[out.length - 1] = { start: last.start, count: last.count + r.count, refs: r.refs };
      else out.push(r);
    }
    if (stop >= from) this.list.splice(from, stop - from + 1, ...out);
  }
}
