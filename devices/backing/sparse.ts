/**
 * Sparse backing: fixed-size chunks allocated on first write; holes read as zeros; a chunk
 * wholly zeroed (discard, write zeroes, or a write of zeros: zero detection, as thin pools and
 * arrays reclaim zero pages) is freed, and zeros written where nothing is allocated allocate
 * nothing. A 1 TiB device costs memory only for the chunks holding data, up to a memory limit
 * past which writes fail with -ENOSPC.
 */
import type { Backing } from './backing.js';
import { Errno } from '../../src/core/util/errno.js';
import { zeroFill } from '../../src/core/util/bytes.js';

/** Allocation unit: 64 KiB, so 1 GiB of writes costs 16 Ki chunks. */
export const SPARSE_CHUNK = 64 * 1024;
/** Default cap on allocated chunk memory per device. */
export const SPARSE_DEFAULT_LIMIT = 4 * 1024 ** 3;

const ZEROS = Buffer.alloc(SPARSE_CHUNK);

/** Whether every byte of `b` is 0 (a native compare against a zero chunk). */
function allZero(b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(b.buffer, b.byteOffset, b.byteLength), ZEROS.subarray(0, b.byteLength)) === 0;
}

export class SparseBacking implements Backing {
  readonly kind = 'sparse' as const;
  private readonly chunks = new Map<number, Uint8Array>();

  constructor(readonly size: number, readonly memoryLimit = SPARSE_DEFAULT_LIMIT) {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError('sparse backing size must be a positive integer');
  }

  get allocatedBytes(): number {
    return this.chunks.size * SPARSE_CHUNK;
  }

  get allocatedChunks(): number {
    return this.chunks.size;
  }

  /** Calls fn for each chunk-bounded piece of [offset, offset+length). */
  private each(offset: number, length: number, fn: (index: number, within: number, len: number, at: number) => void): void {
    let at = offset;
    const end = offset + length;
    while (at < end) {
      const index = Math.floor(at / SPARSE_CHUNK);
      const within = at - index * SPARSE_CHUNK;
      const len = Math.min(SPARSE_CHUNK - within, end - at);
      fn(index, within, len, at);
      at += len;
    }
  }

  read(offset: number, out: Uint8Array): void {
    this.each(offset, out.length, (index, within, len, at) => {
      const c = this.chunks.get(index);
      const o = at - offset;
      if (c) out.set(c.subarray(within, within + len), o);
      else zeroFill(out, o, o + len);
    });
  }

  write(offset: number, data: Uint8Array): number {
    // Check the whole write fits before touching anything: a refused write writes nothing.
    let needed = 0;
    this.each(offset, data.length, (index, _within, len, at) => {
      if (!this.chunks.has(index) && !allZero(data.subarray(at - offset, at - offset + len))) needed++;
    });
    if ((this.chunks.size + needed) * SPARSE_CHUNK > this.memoryLimit) return -Errno.ENOSPC;
    this.each(offset, data.length, (index, within, len, at) => {
      const o = at - offset;
      const piece = data.subarray(o, o + len);
      let c = this.chunks.get(index);
      if (allZero(piece)) {
        // Zeros: nothing to allocate where nothing is; a chunk wholly rewritten with zeros is freed.
        if (!c) return;
        if (len === SPARSE_CHUNK) {
          this.chunks.delete(index);
          return;
        }
      }
      if (!c) {
        c = new Uint8Array(SPARSE_CHUNK);
        this.chunks.set(index, c);
      }
      c.set(piece, within);
    });
    return 0;
  }

  zero(offset: number, length: number): void {
    this.each(offset, length, (index, within, len) => {
      const c = this.chunks.get(index);
      if (!c) return;
      if (len === SPARSE_CHUNK) this.chunks.delete(index);
      else c.fill(0, within, within + len);
    });
  }

  extents(offset: number, length: number, visit: (view: Uint8Array | null, at: number, length: number) => void): void {
    this.each(offset, length, (index, within, len, at) => {
      const c = this.chunks.get(index);
      visit(c ? c.subarray(within, within + len) : null, at, len);
    });
  }
}
