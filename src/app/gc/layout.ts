/**
 * The on-device layout of the log-structured layer, as F2FS lays out its main area: 4 KiB
 * blocks, 2 MiB segments, and sections as the GC unit: one zone on a zoned device (its usable
 * part: zone capacity may be below zone size, F2FS's f2fs_usable_blks_in_seg), N segments on a
 * conventional one. Physical block numbers are dense (section × sectionBlocks + offset); the
 * device address of one adds the gap between zone capacity and zone size.
 */
import { GC_BLOCK_BYTES, GC_LIMITS, GC_SEGMENT_BLOCKS } from './constants.js';

export interface LayoutOptions {
  /** Device bytes given to the layer (the namespace's size). */
  readonly bytes: number;
  /** Zoned: zone size and capacity in bytes (capacity ≤ size). Conventional: omit. */
  readonly zoneBytes?: number;
  readonly zoneCapacityBytes?: number;
  /** Conventional devices: segments per section (F2FS segs_per_sec), default 1. */
  readonly segsPerSection?: number;
  /** Spare factor (T − U)/T: the share of physical blocks the user cannot address. */
  readonly spareFactor: number;
}

export interface Layout {
  readonly zoned: boolean;
  /** Usable blocks per section (zone capacity or segs × 512). */
  readonly sectionBlocks: number;
  /** Device blocks from one section start to the next (zone size, or sectionBlocks). */
  readonly sectionStrideBlocks: number;
  readonly sections: number;
  /** Physical blocks T (usable). */
  readonly physBlocks: number;
  /** User (logical) blocks U = floor(T·(1 − Sf)). */
  readonly userBlocks: number;
  readonly spareFactor: number;
  /** Segments per section (informational). */
  readonly segsPerSection: number;
}

export class LayoutError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
  }
}

export function makeLayout(o: LayoutOptions): Layout {
  if (!Number.isFinite(o.bytes) || o.bytes < GC_LIMITS.minBytes || o.bytes > GC_LIMITS.maxBytes) throw new LayoutError('--size', `must be ${GC_LIMITS.minBytes / 2 ** 20} MiB … ${GC_LIMITS.maxBytes / 2 ** 40} TiB`);
  if (!(o.spareFactor >= GC_LIMITS.minSpareFactor && o.spareFactor <= GC_LIMITS.maxSpareFactor)) throw new LayoutError('--spare-factor', `must be ${GC_LIMITS.minSpareFactor} … ${GC_LIMITS.maxSpareFactor}`);
  let sectionBlocks: number;
  let stride: number;
  let segs: number;
  const zoned = o.zoneBytes !== undefined;
  if (zoned) {
    const zs = o.zoneBytes!;
    const zc = o.zoneCapacityBytes ?? zs;
    if (zs % GC_BLOCK_BYTES || zc % GC_BLOCK_BYTES || zc <= 0 || zc > zs) throw new LayoutError('--zone-size', 'zone size and capacity must be multiples of 4 KiB with 0 < capacity ≤ size');
    stride = zs / GC_BLOCK_BYTES;
    sectionBlocks = zc / GC_BLOCK_BYTES;
    segs = Math.ceil(sectionBlocks / GC_SEGMENT_BLOCKS);
  } else {
    segs = o.segsPerSection ?? 1;
    if (!Number.isInteger(segs) || segs < 1) throw new LayoutError('--segs-per-section', 'segments per section must be a positive integer');
    sectionBlocks = segs * GC_SEGMENT_BLOCKS;
    stride = sectionBlocks;
  }
  if (sectionBlocks > GC_LIMITS.maxSectionBlocks) throw new LayoutError('--zone-size', `a section may hold at most ${GC_LIMITS.maxSectionBlocks} blocks`);
  const sections = Math.floor(o.bytes / GC_BLOCK_BYTES / stride);
  if (sections < 16) throw new LayoutError('--size', `the device holds ${sections} sections; at least 16 are needed`);
  const physBlocks = sections * sectionBlocks;
  if (physBlocks >= 2 ** 32 - 1) throw new LayoutError('--size', 'too many blocks for 32-bit map entries');
  const userBlocks = Math.floor(physBlocks * (1 - o.spareFactor));
  return { zoned, sectionBlocks, sectionStrideBlocks: stride, sections, physBlocks, userBlocks, spareFactor: o.spareFactor, segsPerSection: segs };
}

/** Device byte offset of a dense physical block number. */
export function physToDeviceOffset(l: Layout, p: number): number {
  const sec = Math.floor(p / l.sectionBlocks);
  return (sec * l.sectionStrideBlocks + (p - sec * l.sectionBlocks)) * GC_BLOCK_BYTES;
}
