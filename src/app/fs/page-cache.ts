/**
 * The page cache of a copylab file system (docs/files.md): file pages of FS_BLOCK bytes, clean or
 * dirty, least recently used first out, its memory bounded (`cacheBytes`) and counted. A clean
 * page is dropped to make room; a dirty one must be written back first, which the file system
 * does (it knows where a page goes), as Linux's reclaim asks the file system to write back.
 * The 4 KiB buffers of pages that leave the cache are kept for the next pages (at most the
 * cache's worth), so a long copy through the cache does not allocate a buffer per page; nobody
 * holds a page's data past the synchronous code that looked the page up.
 */

/** Bytes of one page (and of one file-system block). */
export const FS_BLOCK = 4096;

export interface Page {
  readonly ino: number;
  readonly index: number;
  readonly data: Uint8Array;
  dirty: boolean;
  /** Times the page was dirtied: writeback cleans it only if no write came while its bio was in flight. */
  gen: number;
  prev: Page | null;
  next: Page | null;
}

export interface PageCacheStats {
  hits: number;
  misses: number;
  /** Reads of pages no block backs (a hole): zeros, no I/O. */
  holes: number;
  writebacks: number;
  invalidated: number;
  evicted: number;
}

/** Pages are keyed by inode and index: ino × 2^32 + index (both bounded far below). */
const key = (ino: number, index: number): number => ino * 2 ** 32 + index;

/** A doubly linked list of pages, most recent first. */
class PageList {
  head: Page | null = null;
  tail: Page | null = null;
  count = 0;

  pushFront(p: Page): void {
    p.prev = null;
    p.next = this.head;
    if (this.head) this.head.prev = p;
    this.head = p;
    if (!this.tail) this.tail = p;
    this.count++;
  }

  remove(p: Page): void {
    if (p.prev) p.prev.next = p.next;
    else this.head = p.next;
    if (p.next) p.next.prev = p.prev;
    else this.tail = p.prev;
    p.prev = null;
    p.next = null;
    this.count--;
  }
}

export class PageCache {
  private readonly pages = new Map<number, Page>();
  /** Clean pages, least recently used at the tail (dropped first); dirty pages, oldest dirtied at the tail (written back first). */
  private readonly clean = new PageList();
  private readonly dirty = new PageList();
  /** Buffers of pages that left the cache, for the next ones. */
  private readonly spare: Uint8Array[] = [];
  readonly stats: PageCacheStats = { hits: 0, misses: 0, holes: 0, writebacks: 0, invalidated: 0, evicted: 0 };

  constructor(readonly maxPages: number) {
    if (!(Number.isInteger(maxPages) && maxPages >= 4)) throw new RangeError('a page cache holds at least 4 pages');
  }

  get size(): number {
    return this.pages.size;
  }

  get dirtyPages(): number {
    return this.dirty.count;
  }

  get bytes(): number {
    return this.pages.size * FS_BLOCK;
  }

  get full(): boolean {
    return this.pages.size >= this.maxPages;
  }

  /** The cached page, made most recently used (a clean one; a dirty one keeps its age). */
  get(ino: number, index: number): Page | undefined {
    const p = this.pages.get(key(ino, index));
    if (p && !p.dirty && this.clean.head !== p) {
      this.clean.remove(p);
      this.clean.pushFront(p);
    }
    return p;
  }

  /** A page buffer: a spare one (zeroed when `zero`) or a new one. */
  buffer(zero: boolean): Uint8Array {
    const b = this.spare.pop();
    if (!b) return new Uint8Array(FS_BLOCK);
    if (zero) b.fill(0);
    return b;
  }

  /** Inserts a page (clean); the caller has made room. */
  insert(ino: number, index: number, data: Uint8Array): Page {
    const k = key(ino, index);
    if (this.pages.has(k)) throw new Error(`page cache: page ${ino}:${index} inserted twice`);
    const p: Page = { ino, index, data, dirty: false, gen: 0, prev: null, next: null };
    this.pages.set(k, p);
    this.clean.pushFront(p);
    return p;
  }

  setDirty(p: Page, dirty: boolean): void {
    if (p.dirty === dirty) return;
    (p.dirty ? this.dirty : this.clean).remove(p);
    p.dirty = dirty;
    (dirty ? this.dirty : this.clean).pushFront(p);
  }

  /** The least recently used clean page dropped; false when every page is dirty. */
  evictClean(): boolean {
    const p = this.clean.tail;
    if (!p) return false;
    this.remove(p);
    this.stats.evicted++;
    return true;
  }

  /** The page dirtied longest ago (to write back), or null. */
  oldestDirty(): Page | null {
    return this.dirty.tail;
  }

  /** Drops a page, dirty or not (invalidation: its contents are being replaced or freed). */
  drop(ino: number, index: number): Page | undefined {
    const p = this.pages.get(key(ino, index));
    if (!p) return undefined;
    this.remove(p);
    this.stats.invalidated++;
    return p;
  }

  private remove(p: Page): void {
    this.pages.delete(key(p.ino, p.index));
    (p.dirty ? this.dirty : this.clean).remove(p);
    if (this.spare.length < this.maxPages) this.spare.push(p.data);
  }
}
