/**
 * A least-recently-used table of integer keys to numbers, bounded at `capacity` entries (the
 * cached mapping table of a page-mapped FTL: logical page → when its entry is known), each entry
 * with a second number (`aux`: the mapping cache keeps when the entry was last changed, to tell a
 * dirty entry from a clean one). `set` reports the entry it evicted (evictedKey, evictedAux).
 *
 * A Map from key to slot plus a doubly linked recency list in typed arrays that grow as entries
 * arrive. (A Map alone, deleting and re-inserting to refresh, is slow to evict from: V8 keeps the
 * deleted entries at the front of its insertion order and an iterator steps over each.)
 */

/** Most entries any table holds (a limit on everything: 2^27 entries take about 4.5 GiB here, allocated as they arrive). */
export const LRU_MAX_ENTRIES = 1 << 27;

export class Lru {
  private readonly slot = new Map<number, number>();
  private keys = new Float64Array(0);
  private vals = new Float64Array(0);
  private auxs = new Float64Array(0);
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  /** Most recent and least recent slot (-1: empty). */
  private head = -1;
  private tail = -1;
  private used = 0;
  /** The key the last set() evicted (NaN: none) and its aux. */
  evictedKey = NaN;
  evictedAux = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1 && capacity <= LRU_MAX_ENTRIES)) {
      throw new RangeError(`an LRU table holds 1..${LRU_MAX_ENTRIES} entries, not ${capacity}`);
    }
  }

  get size(): number {
    return this.slot.size;
  }

  /** The value of `key`, made most recent; undefined when absent. */
  get(key: number): number | undefined {
    const s = this.slot.get(key);
    if (s === undefined) return undefined;
    this.toFront(s);
    return this.vals[s];
  }

  /** The aux of `key` (recency unchanged); undefined when absent. */
  auxOf(key: number): number | undefined {
    const s = this.slot.get(key);
    return s === undefined ? undefined : this.auxs[s];
  }

  /**
   * Sets `key` (most recent), evicting the least recent entry when full (its key and aux in
   * evictedKey / evictedAux; evictedKey NaN when nothing was evicted). `aux` undefined keeps an
   * existing entry's aux (0 for a new one).
   */
  set(key: number, value: number, aux?: number): void {
    this.evictedKey = NaN;
    let s = this.slot.get(key);
    if (s !== undefined) {
      this.vals[s] = value;
      if (aux !== undefined) this.auxs[s] = aux;
      this.toFront(s);
      return;
    }
    if (this.slot.size >= this.capacity) {
      // Reuse the least recent entry's slot.
      s = this.tail;
      this.unlink(s);
      this.evictedKey = this.keys[s]!;
      this.evictedAux = this.auxs[s]!;
      this.slot.delete(this.keys[s]!);
    } else {
      if (this.used === this.keys.length) this.grow();
      s = this.used++;
    }
    this.keys[s] = key;
    this.vals[s] = value;
    this.auxs[s] = aux ?? 0;
    this.slot.set(key, s);
    this.linkFront(s);
  }

  private grow(): void {
    const n = Math.min(this.capacity, Math.max(1024, this.keys.length * 2));
    const copy = <T extends Float64Array | Int32Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.keys = copy(this.keys, new Float64Array(n));
    this.vals = copy(this.vals, new Float64Array(n));
    this.auxs = copy(this.auxs, new Float64Array(n));
    this.prev = copy(this.prev, new Int32Array(n));
    this.next = copy(this.next, new Int32Array(n));
  }

  private toFront(s: number): void {
    if (s === this.head) return;
    this.unlink(s);
    this.linkFront(s);
  }

  private unlink(s: number): void {
    const p = this.prev[s]!;
    const n = this.next[s]!;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
  }

  private linkFront(s: number): void {
    this.prev[s] = -1;
    this.next[s] = this.head;
    if (this.head >= 0) this.prev[this.head] = s;
    this.head = s;
    if (this.tail < 0) this.tail = s;
  }
}
