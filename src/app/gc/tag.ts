/**
 * Generation tags: what the tag-only backing stores per block instead of a payload. A tag is
 * (generation << 28) | logical block: the logical block is the block's owner, as F2FS's summary
 * entry records it (the SSA), and the generation counts the writes of that logical block modulo
 * 15 (1..15; 0 marks a block never written); the map entry (lfs.ts) carries the same generation. A GC that reads a block and finds another owner, an
 * older generation, or nothing, has lost or misplaced a block.
 */
export const TAG_LBA_BITS = 28;
export const TAG_LBA_MASK = (1 << TAG_LBA_BITS) - 1;
/** Most logical blocks a tag can name: 2^28 (1 TiB of 4 KiB blocks). */
export const TAG_MAX_LBAS = 1 << TAG_LBA_BITS;
export const TAG_GEN_MAX = 15;

/**
 * A map entry packs the block's generation with its physical address the same way:
 * (generation << 28) | physical block; 0 (generation 0) is unmapped. One 32-bit read gives both
 * where the block is and which write of it must be there.
 */
export const MAP_PHYS_MASK = TAG_LBA_MASK;
export const MAP_UNMAPPED = 0;
/** Most physical blocks a map entry can address: 2^28 (1 TiB of 4 KiB blocks). */
export const MAP_MAX_PHYS = 1 << TAG_LBA_BITS;

export function makeTag(lba: number, gen: number): number {
  return ((gen << TAG_LBA_BITS) | lba) >>> 0;
}

/** Thrown when a GC read or the final verification finds a block that is not the latest write. */
export class GcIntegrityError extends Error {
  constructor(
    message: string,
    readonly lba: number,
    readonly physical: number,
  ) {
    super(message);
  }
}

export function describeTag(t: number): string {
  return t === 0 ? 'nothing (never written or reset)' : `lba ${t & TAG_LBA_MASK} generation ${t >>> TAG_LBA_BITS}`;
}
