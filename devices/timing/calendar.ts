/**
 * One resource's calendar: the intervals of modeled time (ns) it is reserved for, sorted and
 * disjoint. A reservation takes the earliest gap at or after its ready time that is long enough
 * (first fit, as conservative backfilling does), so a command issued later may use a die, channel
 * or link that an earlier command's work leaves idle: completions come out in the order the
 * resources allow, not the order of issue. A reservation never moves one made before it, so the
 * completion time a command was given at issue stays true.
 *
 * Memory: intervals that end at or before the horizon (nothing can be reserved before it) are
 * dropped; touching intervals merge; past MAX_INTERVALS the two oldest merge (the gap between
 * them counts as busy: conservative, never an overlap).
 */

/** Most intervals one calendar keeps (a limit on everything). */
export const MAX_INTERVALS = 8192;

/** a.splice(i, 0, v) without splice's array of removed elements (an allocation per call). */
function insertAt(a: number[], i: number, v: number): void {
  let j = a.length;
  a.push(v);
  for (; j > i; j--) a[j] = a[j - 1]!;
  a[i] = v;
}

/** a.splice(i, 1) without the array it returns. */
function removeAt(a: number[], i: number): void {
  const n = a.length - 1;
  for (let j = i; j < n; j++) a[j] = a[j + 1]!;
  a.pop();
}

export class Calendar {
  private s: number[] = [];
  private e: number[] = [];
  private head = 0;

  /** Intervals held (for tests and assertions). */
  get size(): number {
    return this.s.length - this.head;
  }

  /** The end of the last reservation (0 when none). */
  get lastEnd(): number {
    const n = this.e.length;
    return n > this.head ? this.e[n - 1]! : 0;
  }

  /** The earliest start ≥ ready at which [start, start + dur) is free. */
  fit(ready: number, dur: number): number {
    // Nothing to reserve (a copyback page with no bytes over the channel) waits for nothing.
    if (dur <= 0) return ready;
    const n = this.s.length;
    if (n === this.head || ready >= this.e[n - 1]!) return ready;
    let i = this.firstEndingAfter(ready);
    let t = ready;
    for (; i < n; i++) {
      if (this.s[i]! >= t + dur) return t;
      if (this.e[i]! > t) t = this.e[i]!;
    }
    return t;
  }

  /** Whether [a, b) is free. */
  isFree(a: number, b: number): boolean {
    if (b <= a) return true;
    const n = this.s.length;
    if (n === this.head || a >= this.e[n - 1]!) return true;
    const i = this.firstEndingAfter(a);
    return i >= n || this.s[i]! >= b;
  }

  /** Reserves [start, start + dur); the caller found it free with fit() or isFree(). */
  take(start: number, dur: number): void {
    if (dur > 0) this.takeUntil(start, start + dur);
  }

  /**
   * Reserves [start, end) as given (a caller that checked [a, end) free with isFree() and starts
   * later than a: start + (end - start) may round past end and overlap the next interval).
   */
  takeUntil(start: number, end: number): void {
    if (!(end > start)) return;
    const n = this.s.length;
    if (n === this.head || start >= this.e[n - 1]!) {
      if (n > this.head && start === this.e[n - 1]!) this.e[n - 1] = end;
      else {
        this.s.push(start);
        this.e.push(end);
      }
    } else {
      const i = this.firstEndingAfter(start);
      const joinPrev = i > this.head && this.e[i - 1] === start;
      const joinNext = i < n && this.s[i] === end;
      if (joinPrev && joinNext) {
        this.e[i - 1] = this.e[i]!;
        removeAt(this.s, i);
        removeAt(this.e, i);
      } else if (joinPrev) this.e[i - 1] = end;
      else if (joinNext) this.s[i] = start;
      else {
        insertAt(this.s, i, start);
        insertAt(this.e, i, end);
      }
    }
    if (this.s.length - this.head > MAX_INTERVALS) {
      const h = this.head;
      this.e[h] = this.e[h + 1]!;
      removeAt(this.s, h + 1);
      removeAt(this.e, h + 1);
    }
  }

  /** Drops intervals that end at or before `horizon`. */
  prune(horizon: number): void {
    const n = this.s.length;
    while (this.head < n && this.e[this.head]! <= horizon) this.head++;
    if (this.head > 1024 && this.head * 2 > n) {
      this.s = this.s.slice(this.head);
      this.e = this.e.slice(this.head);
      this.head = 0;
    }
  }

  /** Checks the calendar's invariant: sorted, disjoint, non-empty intervals (tests, and debug runs). */
  check(): void {
    for (let i = this.head; i < this.s.length; i++) {
      if (!(this.e[i]! > this.s[i]!)) throw new Error(`calendar: empty interval at ${i}`);
      if (i > this.head && !(this.s[i]! >= this.e[i - 1]!)) throw new Error(`calendar: overlap at ${i}`);
    }
  }

  /** Index of the first interval (from head) whose end is after t; n when none. */
  private firstEndingAfter(t: number): number {
    let lo = this.head;
    let hi = this.s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.e[mid]! > t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
