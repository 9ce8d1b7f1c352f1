/**
 * The host DMA arena: host memory a device reaches only by bus address, in pages of
 * NVME_PAGE_SIZE. Addresses start at ARENA_BASE (above 4 GiB, so that the upper dword of every
 * PRP entry is exercised) and address 0 is never valid. The host allocates pages; the device reads
 * and writes through `read`/`write`, which refuse anything outside the arena.
 *
 * PRPs (Base 4.1.1): PRP1 points at the first page (with an offset), PRP2 at the second page when
 * the transfer spans two pages, or at a PRP list otherwise. A PRP list page holds
 * NVME_PAGE_SIZE / 8 entries; the last entry of a full list page points to the next list page.
 */
import { NVME_PAGE_SIZE } from './spec.js';

export const ARENA_BASE = 0x1_0000_0000;
export const ARENA_DEFAULT_BYTES = 64 * 1024 * 1024;
export const ARENA_MAX_BYTES = 1024 * 1024 * 1024;
const ENTRIES_PER_LIST = NVME_PAGE_SIZE / 8;

export class DmaArena {
  readonly bytes: Uint8Array;
  readonly pages: number;
  private readonly used: Uint8Array;
  private cursor = 0;
  private free: number;
  /** Bytes the device moved through this arena (reads + writes): the "host bytes" of DMA. */
  dmaBytes = 0;

  /**
   * The arena lives in a SharedArrayBuffer, as host memory a device reaches by DMA: a controller
   * on a worker thread maps the same pages (`shared`: that buffer, on the device's side).
   */
  constructor(size = ARENA_DEFAULT_BYTES, shared?: SharedArrayBuffer) {
    if (!Number.isSafeInteger(size) || size < NVME_PAGE_SIZE * 4 || size > ARENA_MAX_BYTES || size % NVME_PAGE_SIZE) {
      throw new RangeError(`DMA arena size must be a multiple of ${NVME_PAGE_SIZE} in ${NVME_PAGE_SIZE * 4}..${ARENA_MAX_BYTES}`);
    }
    if (shared && shared.byteLength !== size) throw new RangeError('shared arena buffer does not match the arena size');
    this.bytes = new Uint8Array(shared ?? new SharedArrayBuffer(size));
    this.pages = size / NVME_PAGE_SIZE;
    this.used = new Uint8Array(this.pages);
    this.free = this.pages;
  }

  /** The shared memory behind the arena (what a device worker maps). */
  get buffer(): SharedArrayBuffer {
    return this.bytes.buffer as SharedArrayBuffer;
  }

  get freePages(): number {
    return this.free;
  }

  addrOf(page: number): number {
    return ARENA_BASE + page * NVME_PAGE_SIZE;
  }

  /** `n` pages wherever they are free (scattered, as a kernel's bio pages), or null. */
  allocPages(n: number): number[] | null {
    if (n > this.free) return null;
    const out: number[] = [];
    for (let scanned = 0; out.length < n && scanned < this.pages; scanned++) {
      const p = this.cursor;
      this.cursor = (this.cursor + 1) % this.pages;
      if (!this.used[p]) {
        this.used[p] = 1;
        out.push(this.addrOf(p));
      }
    }
    this.free -= out.length;
    return out;
  }

  /** `n` physically contiguous pages (queues need them), or null. */
  allocContiguous(n: number): number | null {
    let run = 0;
    for (let p = 0; p < this.pages; p++) {
      run = this.used[p] ? 0 : run + 1;
      if (run === n) {
        const first = p - n + 1;
        this.used.fill(1, first, p + 1);
        this.free -= n;
        return this.addrOf(first);
      }
    }
    return null;
  }

  freePagesAt(addrs: readonly number[]): void {
    for (const a of addrs) {
      const p = (a - ARENA_BASE) / NVME_PAGE_SIZE;
      if (Number.isInteger(p) && p >= 0 && p < this.pages && this.used[p]) {
        this.used[p] = 0;
        this.free++;
      }
    }
  }

  freeContiguous(addr: number, n: number): void {
    const first = (addr - ARENA_BASE) / NVME_PAGE_SIZE;
    this.freePagesAt(Array.from({ length: n }, (_, i) => this.addrOf(first + i)));
  }

  /** A view of [addr, addr+len) or null when any of it is outside the arena. */
  view(addr: number, len: number): Uint8Array | null {
    const off = addr - ARENA_BASE;
    if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > this.bytes.length) return null;
    return this.bytes.subarray(off, off + len);
  }
}

/** A transfer described by PRPs, resolved to arena views in order. */
export type Segments = Uint8Array[];

/**
 * Walks PRP1/PRP2 for a transfer of `len` bytes (the device side, Base 4.1.1). Returns the
 * segments, or a status: PRP_OFFSET_INVALID for a list entry with an offset, DATA_TRANSFER_ERROR
 * for an address outside the arena. The walk is bounded by the pages the length needs.
 */
export function walkPrps(arena: DmaArena, prp1: number, prp2: number, len: number): Segments | 'offset' | 'fault' {
  if (len === 0) return [];
  const segs: Segments = [];
  const off1 = prp1 % NVME_PAGE_SIZE;
  const first = Math.min(len, NVME_PAGE_SIZE - off1);
  const v1 = arena.view(prp1, first);
  if (!v1) return 'fault';
  segs.push(v1);
  let left = len - first;
  if (left === 0) return segs;
  if (left <= NVME_PAGE_SIZE) {
    if (prp2 % NVME_PAGE_SIZE) return 'offset';
    const v2 = arena.view(prp2, left);
    if (!v2) return 'fault';
    segs.push(v2);
    return segs;
  }
  // PRP2 is a list pointer; it may carry an offset inside its page (entries are 8-byte aligned).
  if (prp2 % 8) return 'offset';
  let list = prp2;
  let idx = (list % NVME_PAGE_SIZE) / 8;
  let listPage = arena.view(list - (list % NVME_PAGE_SIZE), NVME_PAGE_SIZE);
  if (!listPage) return 'fault';
  const maxPages = Math.ceil(left / NVME_PAGE_SIZE) + Math.ceil(left / NVME_PAGE_SIZE / (ENTRIES_PER_LIST - 1)) + 1;
  for (let steps = 0; left > 0 && steps < maxPages; steps++) {
    const lv = new DataView(listPage.buffer, listPage.byteOffset, listPage.byteLength);
    const entry = lv.getUint32(idx * 8, true) + lv.getUint32(idx * 8 + 4, true) * 2 ** 32;
    if (idx === ENTRIES_PER_LIST - 1 && left > NVME_PAGE_SIZE) {
      // The last entry of a list page chains to the next list page.
      if (entry % NVME_PAGE_SIZE) return 'offset';
      list = entry;
      listPage = arena.view(list, NVME_PAGE_SIZE);
      if (!listPage) return 'fault';
      idx = 0;
      continue;
    }
    if (entry % NVME_PAGE_SIZE) return 'offset';
    const n = Math.min(left, NVME_PAGE_SIZE);
    const v = arena.view(entry, n);
    if (!v) return 'fault';
    segs.push(v);
    left -= n;
    idx++;
  }
  return left === 0 ? segs : 'fault';
}

/** Host side: a buffer of `len` bytes in arena pages with its PRP1/PRP2 (and list pages). */
export interface DmaBuffer {
  readonly prp1: number;
  readonly prp2: number;
  readonly len: number;
  /** Data pages in transfer order. */
  readonly pages: readonly number[];
  /** Every page to free when the command completes (data and list pages). */
  readonly owned: readonly number[];
}

export function allocDmaBuffer(arena: DmaArena, len: number): DmaBuffer | null {
  const n = Math.max(1, Math.ceil(len / NVME_PAGE_SIZE));
  const lists = n > 2 ? Math.ceil((n - 1) / (ENTRIES_PER_LIST - 1)) : 0;
  const got = arena.allocPages(n + lists);
  if (!got || got.length < n + lists) {
    if (got) arena.freePagesAt(got);
    return null;
  }
  const pages = got.slice(0, n);
  const listPages = got.slice(n);
  let prp2 = 0;
  if (n === 2) prp2 = pages[1]!;
  else if (n > 2) {
    prp2 = listPages[0]!;
    let li = 0;
    let idx = 0;
    for (let i = 1; i < n; i++) {
      const remaining = n - i;
      let lv = arena.view(listPages[li]!, NVME_PAGE_SIZE)!;
      if (idx === ENTRIES_PER_LIST - 1 && remaining > 1) {
        new DataView(lv.buffer, lv.byteOffset, NVME_PAGE_SIZE).setBigUint64(idx * 8, BigInt(listPages[li + 1]!), true);
        li++;
        idx = 0;
        lv = arena.view(listPages[li]!, NVME_PAGE_SIZE)!;
      }
      new DataView(lv.buffer, lv.byteOffset, NVME_PAGE_SIZE).setBigUint64(idx * 8, BigInt(pages[i]!), true);
      idx++;
    }
  }
  return { prp1: pages[0]!, prp2, len, pages, owned: got };
}

export function copyToDma(arena: DmaArena, buf: DmaBuffer, data: Uint8Array): void {
  let at = 0;
  for (const p of buf.pages) {
    const n = Math.min(NVME_PAGE_SIZE, data.length - at);
    if (n <= 0) break;
    arena.view(p, n)!.set(data.subarray(at, at + n));
    at += n;
  }
}

export function copyFromDma(arena: DmaArena, buf: DmaBuffer, out: Uint8Array): void {
  let at = 0;
  for (const p of buf.pages) {
    const n = Math.min(NVME_PAGE_SIZE, out.length - at);
    if (n <= 0) break;
    out.set(arena.view(p, n)!, at);
    at += n;
  }
}

/** Device side: gather segments into one buffer / scatter one buffer into segments. */
export function gather(segs: Segments, out: Uint8Array): void {
  let at = 0;
  for (const s of segs) {
    out.set(s.subarray(0, Math.min(s.length, out.length - at)), at);
    at += s.length;
  }
}

export function scatter(segs: Segments, data: Uint8Array): void {
  let at = 0;
  for (const s of segs) {
    const n = Math.min(s.length, data.length - at);
    s.set(data.subarray(at, at + n));
    at += n;
  }
}
