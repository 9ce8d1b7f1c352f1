/**
 * The F2FS numbers the GC lab follows, each with where it comes from (Linux fs/f2fs/, 6.x).
 * The lab's own limits sit at the end.
 */

/** F2FS_BLKSIZE (include/linux/f2fs_fs.h): 4 KiB blocks. */
export const GC_BLOCK_BYTES = 4096;
/** F2FS segments are 2 MiB: 512 blocks (log_blocks_per_seg 9, include/linux/f2fs_fs.h). */
export const GC_SEGMENT_BLOCKS = 512;
export const GC_SEGMENT_BYTES = GC_BLOCK_BYTES * GC_SEGMENT_BLOCKS;

/** DEF_MAX_VICTIM_SEARCH (fs/f2fs/gc.h): background victim search looks at most at 4096 sections. */
export const MAX_VICTIM_SEARCH = 4096;

/**
 * Zoned background GC (fs/f2fs/gc.h, Linux 6.10+): no background GC above 60% free sections
 * (LIMIT_NO_ZONED_GC), boosted below 25% (LIMIT_BOOST_ZONED_GC), and sections more than 95%
 * valid are skipped (DEF_GC_THREAD_VALID_THRESH_RATIO).
 */
export const LIMIT_NO_ZONED_GC = 60;
export const LIMIT_BOOST_ZONED_GC = 25;
export const DEF_GC_THREAD_VALID_THRESH_RATIO = 95;

/**
 * ATGC (fs/f2fs/gc.h): age threshold (7 days in F2FS; here in units of the lab's modification
 * clock, see age-threshold policy), candidate ratio 20%, at most 10 candidates, age weight 60%.
 */
export const DEF_GC_THREAD_CANDIDATE_RATIO = 20;
export const DEF_GC_THREAD_MAX_CANDIDATE_COUNT = 10;
export const DEF_GC_THREAD_AGE_WEIGHT = 60;

/**
 * Free sections the foreground GC keeps in reserve before a user write may take one (F2FS's
 * reserved sections / has_not_enough_free_secs). Two suffice for the GC itself: a victim needs
 * at most one new cold section and gives one back. Every section held back lowers the effective
 * spare factor.
 */
export const GC_RESERVED_SECTIONS = 2;
/**
 * Devices of more than 2 × this many sections reserve one section per this many (1 TiB of 2 MiB
 * sections: 128, 0.02% of the device): a freed victim then waits behind that many free sections
 * before it is written again, the time a second thread has to finish moving its blocks
 * (worker-mover.ts). F2FS reserves far more (mkfs.f2fs sizes reserved segments from the overprovision
 * ratio: several percent); 0.02% moves the WAF of a spare factor 0.1 run by about 0.3%.
 */
export const GC_SECTIONS_PER_RESERVED = 4096;

/** Free sections the foreground GC keeps for a device of `sections` sections. */
export function gcReserve(sections: number): number {
  return Math.max(GC_RESERVED_SECTIONS, Math.floor(sections / GC_SECTIONS_PER_RESERVED));
}

/** Lab limits (a limit on everything). */
export const GC_LIMITS = {
  /** Largest simulated device: 16 TiB (2^32 blocks is the L2P entry's range). */
  maxBytes: 16 * 1024 ** 4,
  minBytes: 16 * 1024 * 1024,
  /** Section (zone capacity) from one segment to 4 GiB. */
  maxSectionBlocks: 1 << 20,
  minSpareFactor: 0.01,
  maxSpareFactor: 0.9,
  /** Overwrites in capacities of the user space. */
  maxOverwrites: 1000,
  /** Blocks per host request on the lab-device paths (a read or write command's size). */
  maxIoBlocks: 128,
  /** Samples in a time series. */
  maxSeriesPoints: 100_000,
} as const;
