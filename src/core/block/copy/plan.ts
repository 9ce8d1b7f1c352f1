/**
 * Plans a validated copy: gathers ranges whose destinations are contiguous into one
 * many-sources extent (NVMe Copy and GC want that shape), decides for every source whether
 * it can be offloaded, and cuts the result into pieces the devices take: offloaded pieces by
 * copy_max_bytes and copy_max_segments, emulated pieces by the bounce buffer.
 */
import type { BlockDevice } from '../device.js';
import type { CopySource } from '../bio.js';
import type { CopyPiece, CopyRange, EmulationReason } from './types.js';
import { SECTOR_SIZE } from '../ops.js';
import { isStacked } from '../remap.js';

/** The domain a device copies in: its declared copy_domain, or a domain of its own. */
export function copyDomainOf(dev: BlockDevice): string {
  return dev.limits.copy_domain ?? `${dev.name} (own)`;
}

/** Why `src` → `dst` cannot be offloaded, or null when it can. */
export function offloadRefusal(dst: BlockDevice, src: BlockDevice): EmulationReason | null {
  if (dst.limits.max_copy_sectors === 0) {
    return { code: 'no_offload', detail: `${dst.name} has copy offload disabled (copy_max_bytes = 0)` };
  }
  if (src !== dst && src.limits.max_copy_sectors === 0) {
    return { code: 'src_no_offload', detail: `source ${src.name} has copy offload disabled (copy_max_bytes = 0)` };
  }
  const sd = copyDomainOf(src);
  const dd = copyDomainOf(dst);
  if (sd !== dd) {
    return { code: 'cross_domain', detail: `${src.name} (domain ${sd}) and ${dst.name} (domain ${dd}) are not in one copy domain` };
  }
  const refusal = dst.copyOffloadRefusal?.(src);
  if (refusal) return { code: 'driver_refused', detail: refusal };
  return null;
}

interface Segment {
  readonly src: CopySource;
  readonly dstOffset: number;
  readonly reason: EmulationReason | null;
}

/** Consecutive ranges whose destinations follow each other, as one extent of sources. */
function gather(dst: BlockDevice, ranges: readonly CopyRange[]): Segment[][] {
  const groups: Segment[][] = [];
  let cur: Segment[] = [];
  let next = -1;
  for (const r of ranges) {
    if (r.length === 0) continue;
    const src = r.src ?? dst;
    if (r.dstOffset !== next && cur.length) {
      groups.push(cur);
      cur = [];
    }
    cur.push({ src: { dev: src, offset: r.srcOffset, length: r.length }, dstOffset: r.dstOffset, reason: offloadRefusal(dst, src) });
    next = r.dstOffset + r.length;
  }
  if (cur.length) groups.push(cur);
  return groups;
}

/** Splits a group into runs of segments that share one decision (offload, or emulate for one reason). */
function runs(group: Segment[]): Segment[][] {
  const out: Segment[][] = [];
  for (const s of group) {
    const last = out[out.length - 1];
    const prev = last?.[last.length - 1];
    if (last && prev && (prev.reason === null) === (s.reason === null) && prev.reason?.code === s.reason?.code) last.push(s);
    else out.push([s]);
  }
  return out;
}

/** Cuts a run into pieces of at most maxBytes (a multiple of align) and maxSegs sources. */
function cut(run: Segment[], maxBytes: number, maxSegs: number, align: number, offload: boolean, reason?: EmulationReason): CopyPiece[] {
  const pieces: CopyPiece[] = [];
  const limit = Math.floor(maxBytes / align) * align;
  let sources: CopySource[] = [];
  let start = run[0]!.dstOffset;
  let len = 0;
  const flush = (): void => {
    if (!sources.length) return;
    pieces.push({ dstOffset: start, length: len, sources, offload, ...(reason ? { reason } : {}) });
    start += len;
    sources = [];
    len = 0;
  };
  for (const seg of run) {
    let off = seg.src.offset;
    let left = seg.src.length;
    while (left > 0) {
      const take = Math.min(left, limit - len);
      sources.push({ dev: seg.src.dev, offset: off, length: take });
      len += take;
      off += take;
      left -= take;
      if (len === limit || sources.length === maxSegs) flush();
    }
  }
  flush();
  return pieces;
}

export interface PlanOptions {
  /** Bounce-buffer cap for emulated pieces (bytes). */
  readonly emulationBufferBytes: number;
}

/**
 * The smallest copy_max_bytes a user wrote on the stacked devices a copy passes through (bytes;
 * Infinity when none was written): each caps the pieces below it, as the block layer splits a
 * bio at every queue it enters. The devices at the bottom cap them with their own limits too.
 */
export function userCopyCap(...devs: readonly BlockDevice[]): number {
  let cap = Infinity;
  for (const d of devs) if (isStacked(d)) cap = Math.min(cap, d.limits.max_user_copy_sectors * SECTOR_SIZE);
  return cap;
}

/** Size of one emulation chunk: min(both queues' max_hw_sectors, the cap), as blkdev_copy_emulation. */
export function emulationChunk(dst: BlockDevice, srcs: Iterable<BlockDevice>, cap: number): number {
  let chunk = Math.min(cap, dst.limits.max_hw_sectors * SECTOR_SIZE);
  let align = dst.limits.logical_block_size;
  for (const s of srcs) {
    chunk = Math.min(chunk, s.limits.max_hw_sectors * SECTOR_SIZE);
    align = Math.max(align, s.limits.logical_block_size);
  }
  return Math.max(align, Math.floor(chunk / align) * align);
}

/** `capBytes`: a cap on offloaded pieces from the stacked devices above `dst` (userCopyCap). */
export function planCopy(dst: BlockDevice, ranges: readonly CopyRange[], opts: PlanOptions, capBytes = Infinity): CopyPiece[] {
  const pieces: CopyPiece[] = [];
  for (const group of gather(dst, ranges)) {
    for (const run of runs(group)) {
      const devs = new Set(run.map((s) => s.src.dev));
      let align = dst.limits.logical_block_size;
      for (const d of devs) align = Math.max(align, d.limits.logical_block_size);
      let reason = run[0]!.reason;
      if (reason === null) {
        let maxBytes = dst.limits.max_copy_sectors * SECTOR_SIZE;
        for (const d of devs) maxBytes = Math.min(maxBytes, d.limits.max_copy_sectors * SECTOR_SIZE);
        maxBytes = Math.min(maxBytes, capBytes);
        const runBytes = run.reduce((n, s) => n + s.src.length, 0);
        const min = dst.limits.copy_offload_min_bytes;
        if (maxBytes < align) {
          reason = { code: 'unaligned_limit', detail: `copy_max_bytes ${maxBytes} is below the ${align}-byte block of the devices involved` };
        } else if (runBytes < min) {
          reason = { code: 'below_min', detail: `${runBytes} bytes is below ${dst.name}'s copy_offload_min_bytes (${min})` };
        } else {
          pieces.push(...cut(run, maxBytes, dst.limits.max_copy_src_segments, align, true));
          continue;
        }
      }
      const chunk = emulationChunk(dst, devs, opts.emulationBufferBytes);
      pieces.push(...cut(run, chunk, Infinity, align, false, reason));
    }
  }
  return pieces;
}
