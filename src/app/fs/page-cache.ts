/**
 * The page cache of a copylab file system (docs/files.md): file pages of FS_BLOCK bytes, clean or
 * dirty, least recently used first out, its memory bounded (`cacheBytes`) and counted. A clean
 * page is dropped to make room; a dirty one must be written back first, which the file system
 * does (it knows where a page goes), as Linux's reclaim asks the file system to write back.
 */

/** Bytes of one page (and of one file-system block). */
export const FS_BLOCK = 4096;

export interface Page {
  readonly ino: number;
  readonly index: number;
  readonly data: Uint8Array;
  dirty: boolean;
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

export class PageCache {
  private readonly pages = new Map<number, Page>();
  /** Most recent first. */
  private head: Page | null = null;
  private tail: Page | null = null;
  private dirtyCount = 0;
  readonly stats: PageCacheStats = { hits: 0, misses: 0, holes: 0, writebacks: 0, invalidated: 0, evicted: 0 };

  constructor(readonly maxPages: number) {
    if (!(Number.isInteger(maxPages) && maxPages >= 4)) throw new RangeError('a page cache holds at least 4 pages');
  }

  get size(): number {
    return this.pages.size;
  }

  get dirtyPages(): number {
    return this.dirtyCount;
  }

  get bytes(): number {
    return this.pages.size * FS_BLOCK;
  }

  get(ino: number, index: number): Page | undefined {
    const p = this.pages.get(key(ino, index));
    if (p) this.touch(p);
    return p;
  }

  /** Inserts a page (clean); the caller has made room (`full` tells when it must). */
  insert(ino: number, index: number, data: Uint8Array): Page {
    const k = key(ino, index);
    if (this.pages.has(k)) throw new Error(`page cache: page ${ino}:${index} inserted twice`);
    const p: Page = { ino, index, data, dirty: false, prev: null, next: null };
    this.pages.set(k, p);
    this.linkFront(p);
    return p;
  }

  get full(): boolean {
    return this.pages.size >= this.maxPages;
  }

  setDirty(p: Page, dirty: boolean): void {
    if (p.dirty === dirty) return;
    p.dirty = dirty;
    this.dirtyCount += dirty ? 1 : -1;
  }

  /** The least recently used clean page dropped; false when every page is dirty. */
  evictClean(): boolean {
    for (let p = this.tail; p; p = p.prev) {
      if (p.dirty) continue;
      this.remove(p);
      this.stats.evicted++;
      return true;
    }
    return false;
  }

  /** The least recently used dirty page (to write back), or null. */
  oldestDirty(): Page | null {
    for (let p = this.tail; p; p = p.prev) if (p.dirty) return p;
    return null;
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
    if (p.dirty) this.dirtyCount--;
    this.pages.delete(key(p.ino, p.index));
    this.unlink(p);
  }

  private touch(p: Page): void {
    if (this.head === p) return;
    this.unlink(p);
    this.linkFront(p);
  }

  private unlink(p: Page): void {
    if (p.prev) p.prev.next = p.next;
    else this.head = p.next;
    if (p.next) p.next.prev = p.prev;
    else this.tail = p.prev;
    p.prev = null;
    p.next = null;
  }

  private linkFront(p: Page): void {
    p.next = this.head;
    if (this.head) this.head.prev = p;
    this.head = p;
    if (!this.tail) this.tail = p;
  }
}
