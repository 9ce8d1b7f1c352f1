/**
 * Memory backing: the whole medium in one SharedArrayBuffer (so that a device worker can map
 * it later), zero-filled by the allocator and committed by the OS page by page as it is touched.
 */
import type { Backing } from './backing.js';
import { zeroFill } from '../../src/core/util/bytes.js';

/** Largest memory-backed medium; larger devices use sparse backing. */
export const MEMORY_BACKING_MAX = 4 * 1024 ** 3;

export class MemoryBacking implements Backing {
  readonly kind = 'memory' as const;
  readonly bytes: Uint8Array;

  constructor(readonly size: number, buffer?: SharedArrayBuffer) {
    if (!Number.isSafeInteger(size) || size <= 0 || size > MEMORY_BACKING_MAX) {
      throw new RangeError(`memory backing size must be 1..${MEMORY_BACKING_MAX} bytes (use sparse backing for more)`);
    }
    this.bytes = new Uint8Array(buffer ?? new SharedArrayBuffer(size), 0, size);
  }

  get allocatedBytes(): number {
    return this.size;
  }

  read(offset: number, out: Uint8Array): void {
    out.set(this.bytes.subarray(offset, offset + out.length));
  }

  write(offset: number, data: Uint8Array): number {
    this.bytes.set(data, offset);
    return 0;
  }

  zero(offset: number, length: number): void {
    zeroFill(this.bytes, offset, offset + length);
  }

  extents(offset: number, length: number, visit: (view: Uint8Array | null, at: number, length: number) => void): void {
    visit(this.bytes.subarray(offset, offset + length), offset, length);
  }
}
