/**
 * Queue limits: the kernel's struct queue_limits (include/linux/blkdev.h) with the copy fields
 * of the copy-offload series (max_copy_hw_sectors, max_user_copy_sectors, max_copy_sectors) and
 * the source-segment limit of the 2026 revival (max_copy_src_segments, shown in sysfs as
 * copy_max_segments). Sizes in 512-byte sectors as in the kernel, except block sizes in bytes.
 */
import { SECTOR_SIZE } from './ops.js';

export type ZonedModel = 'none' | 'host-aware' | 'host-managed';

export interface QueueLimits {
  logical_block_size: number;
  physical_block_size: number;
  /** Largest request the hardware takes (sectors). */
  max_hw_sectors: number;
  /** Largest request the block layer builds (sectors, ≤ max_hw_sectors; user-tunable). */
  max_sectors: number;
  max_segments: number;
  max_segment_size: number;
  max_hw_discard_sectors: number;
  max_discard_sectors: number;
  discard_granularity: number;
  max_write_zeroes_sectors: number;
  /** Copy length the device takes in one command (sectors; 0 = no copy offload). */
  max_copy_hw_sectors: number;
  /** The user's cap from sysfs copy_max_bytes (sectors; Infinity until written). */
  max_user_copy_sectors: number;
  /** Effective: min(max_copy_hw_sectors, max_user_copy_sectors). */
  max_copy_sectors: number;
  /** Source ranges one copy command may carry. */
  max_copy_src_segments: number;
  /** Devices that share a copy domain can copy between each other in hardware. */
  copy_domain: string | null;
  /** The size heuristic: pieces shorter than this are emulated even when offload is possible. */
  copy_offload_min_bytes: number;
  zoned: ZonedModel;
}

/** BLK_COPY_MAX_BYTES of the copy-offload series: "arbitrary" 128 MiB cap on one copy bio. */
export const BLK_COPY_MAX_BYTES = 128 * 1024 * 1024;
/** BLK_DEF_MAX_SECTORS_CAP (blkdev.h): 2560 sectors, 1280 KiB. */
export const BLK_DEF_MAX_SECTORS_CAP = 2560;
/** BLK_MAX_SEGMENTS (blkdev.h). */
export const BLK_MAX_SEGMENTS = 128;
/** BLK_MAX_SEGMENT_SIZE (blkdev.h). */
export const BLK_MAX_SEGMENT_SIZE = 65536;

/**
 * Default for copy_offload_min_bytes. Measured with `npm run bench -- --heuristic` on a
 * nullblk device (docs/heuristics.md): offload beats read+write emulation from the smallest
 * copy (one 4 KiB block) upward, so the default lets every copy offload; raise it per queue in
 * sysfs for devices whose copy command has a high fixed cost.
 */
export const DEFAULT_COPY_OFFLOAD_MIN_BYTES = 0;

/** The limits of a device that declares nothing: the kernel's blk_set_default_limits-like values. */
export function defaultLimits(lbs = 512): QueueLimits {
  return {
    logical_block_size: lbs,
    physical_block_size: lbs,
    max_hw_sectors: BLK_DEF_MAX_SECTORS_CAP,
    max_sectors: BLK_DEF_MAX_SECTORS_CAP,
    max_segments: BLK_MAX_SEGMENTS,
    max_segment_size: BLK_MAX_SEGMENT_SIZE,
    max_hw_discard_sectors: 0,
    max_discard_sectors: 0,
    discard_granularity: lbs,
    max_write_zeroes_sectors: 0,
    max_copy_hw_sectors: 0,
    max_user_copy_sectors: Infinity,
    max_copy_sectors: 0,
    max_copy_src_segments: 1,
    copy_domain: null,
    copy_offload_min_bytes: DEFAULT_COPY_OFFLOAD_MIN_BYTES,
    zoned: 'none',
  };
}

/** Recomputes the effective copy limit after hw or user changed. */
export function updateCopyLimit(l: QueueLimits): void {
  l.max_copy_sectors = Math.min(l.max_copy_hw_sectors, l.max_user_copy_sectors);
}

export function copyMaxBytes(l: QueueLimits): number {
  return l.max_copy_sectors * SECTOR_SIZE;
}

/** min() where 0 means "no limit" (the kernel's min_not_zero). */
function minNotZero(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

/**
 * Stacks the limits of a lower device `b` into the top limits `t` (blk_stack_limits,
 * block/blk-settings.c): the stricter limit wins. For copies, 0 means "cannot copy", so a plain
 * min is used: a stack copies only if every device below it does. Devices in different copy
 * domains leave the stack without a domain (copies between them cannot be offloaded).
 * `t` must have been started from `stackingLimits()`, whose copy fields mean "unlimited".
 */
export function stackLimits(t: QueueLimits, b: Readonly<QueueLimits>): void {
  t.logical_block_size = Math.max(t.logical_block_size, b.logical_block_size);
  t.physical_block_size = Math.max(t.physical_block_size, b.physical_block_size);
  t.max_hw_sectors = minNotZero(t.max_hw_sectors, b.max_hw_sectors);
  t.max_sectors = minNotZero(t.max_sectors, b.max_sectors);
  t.max_segments = minNotZero(t.max_segments, b.max_segments);
  t.max_segment_size = minNotZero(t.max_segment_size, b.max_segment_size);
  t.max_hw_discard_sectors = Math.min(t.max_hw_discard_sectors, b.max_hw_discard_sectors);
  t.max_discard_sectors = Math.min(t.max_discard_sectors, b.max_discard_sectors);
  t.discard_granularity = Math.max(t.discard_granularity, b.discard_granularity);
  t.max_write_zeroes_sectors = Math.min(t.max_write_zeroes_sectors, b.max_write_zeroes_sectors);
  t.max_copy_hw_sectors = Math.min(t.max_copy_hw_sectors, b.max_copy_hw_sectors);
  t.max_copy_src_segments = Math.min(t.max_copy_src_segments, b.max_copy_src_segments);
  t.copy_offload_min_bytes = Math.max(t.copy_offload_min_bytes, b.copy_offload_min_bytes);
  if (t.copy_domain === STACK_ANY_DOMAIN) t.copy_domain = b.copy_domain;
  else if (t.copy_domain !== b.copy_domain) t.copy_domain = null;
  if (b.zoned !== 'none') t.zoned = b.zoned;
  updateCopyLimit(t);
}

/** Marker for "no device stacked yet": the first device's domain is taken as is. */
const STACK_ANY_DOMAIN = '\u0000any';

/** The starting point for stacking (blk_set_stacking_limits): everything unlimited. */
export function stackingLimits(): QueueLimits {
  return {
    logical_block_size: 512,
    physical_block_size: 512,
    max_hw_sectors: 0,
    max_sectors: 0,
    max_segments: 0,
    max_segment_size: 0,
    max_hw_discard_sectors: Infinity,
    max_discard_sectors: Infinity,
    discard_granularity: 0,
    max_write_zeroes_sectors: Infinity,
    max_copy_hw_sectors: Infinity,
    max_user_copy_sectors: Infinity,
    max_copy_sectors: Infinity,
    max_copy_src_segments: Infinity,
    copy_domain: STACK_ANY_DOMAIN,
    copy_offload_min_bytes: 0,
    zoned: 'none',
  };
}

/** Checks the invariants a driver's limits must hold; returns a message or null. */
export function checkLimits(l: Readonly<QueueLimits>): string | null {
  const lbs = l.logical_block_size;
  if (lbs < 512 || lbs > 65536 || (lbs & (lbs - 1)) !== 0) return `logical_block_size ${lbs} is not a power of two in 512..65536`;
  if (l.physical_block_size < lbs || (l.physical_block_size & (l.physical_block_size - 1)) !== 0) return `physical_block_size ${l.physical_block_size} must be a power of two ≥ logical_block_size`;
  if (l.max_sectors > l.max_hw_sectors) return 'max_sectors exceeds max_hw_sectors';
  if ((l.max_hw_sectors * SECTOR_SIZE) < lbs) return 'max_hw_sectors is smaller than one logical block';
  if (l.max_copy_hw_sectors !== 0 && (l.max_copy_hw_sectors * SECTOR_SIZE) % lbs !== 0) return 'copy_max_hw_bytes is not a multiple of logical_block_size';
  if (l.max_copy_src_segments < 1) return 'copy_max_segments must be at least 1';
  return null;
}
