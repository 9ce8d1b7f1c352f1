/**
 * Backing stores: where a device model keeps its media. Offsets are bytes; callers (device
 * models) have already checked bounds. A store may be asked to copy from another store: that is
 * the device moving data inside itself, with no host buffer involved.
 */
export interface Backing {
  readonly kind: 'memory' | 'sparse';
  readonly size: number;
  /** Bytes of memory the store holds for media (not counting bookkeeping). */
  readonly allocatedBytes: number;
  read(offset: number, out: Uint8Array): void;
  /** 0, or -ENOSPC when the store cannot grow. */
  write(offset: number, data: Uint8Array): number;
  /** Makes [offset, offset+length) read as zeros, freeing memory where the store can. */
  zero(offset: number, length: number): void;
  /**
   * Visits [offset, offset+length) as views of the store's own memory (no copy), or null for a
   * hole that reads as zeros. Views are valid only during the call.
   */
  extents(offset: number, length: number, visit: (view: Uint8Array | null, at: number, length: number) => void): void;
}

/** Copies between stores (or within one) without a host buffer; 0 or -ENOSPC. */
export function copyBetween(src: Backing, srcOffset: number, dst: Backing, dstOffset: number, length: number): number {
  let res = 0;
  src.extents(srcOffset, length, (view, at, len) => {
    if (res < 0) return;
    const d = dstOffset + (at - srcOffset);
    if (view) res = dst.write(d, view);
    else dst.zero(d, len);
  });
  return res;
}
