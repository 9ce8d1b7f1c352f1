/**
 * Generation tags: what the tag-only backing stores per block instead of a payload. A tag is
 * (generation << 28) | logical block: the logical block is the block's owner, as F2FS's summary
 * entry records it (the SSA), and the generation counts the writes of that logical block modulo
 * 15 (1..15; 0 marks a block never written). A GC that reads a block and finds another owner, an
 * older generation, or nothing, has lost or misplaced a block.
 */
export const TAG_LBA_BITS = 28;
export const TAG_LBA_MASK = (1 << TAG_LBA_BITS) - 1;
/** Most logical blocks a tag can name: 2^28 (1 TiB of 4 KiB blocks). */
export const TAG_MAX_LBAS = 1 << TAG_LBA_BITS;
export const TAG_GEN_MAX = 15;

export function makeTag(lba: number, gen: number): number {
  return ((gen << TAG_LBA_BITS) | lba) >>> 0;
}

/** Latest generation per logical block, 4 bits each (half a byte per block). */
export class Generations {
  readonly nibbles: Uint8Array;
  constructor(readonly blocks: number) {
    this.nibbles = new Uint8Array((blocks + 1) >>> 1);
  }

  get(lba: number): number {
    const b = this.nibbles[lba >>> 1]!;
    return lba & 1 ? b >>> 4 : b & 15;
  }

  /** Advances the block's generation (1..15, wrapping past 15 to 1); returns the new one. */
  bump(lba: number): number {
    const i = lba >>> 1;
    const b = this.nibbles[i]!;
    if (lba & 1) {
      const g = (b >>> 4) % TAG_GEN_MAX + 1;
      this.nibbles[i] = (b & 15) | (g << 4);
      return g;
    }
    const g = (b & 15) % TAG_GEN_MAX + 1;
    this.nibbles[i] = (b & 0xf0) | g;
    return g;
  }

  /** The tag the latest write of `lba` carried (0 when never written). */
  latest(lba: number): number {
    const g = this.get(lba);
    return g === 0 ? 0 : makeTag(lba, g);
  }
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
