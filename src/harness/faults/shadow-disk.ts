/**
 * A shadow model of a block device for the fault campaigns: what every block must hold. It keeps
 * the bytes (compared block by block) and, per block, a tag naming where they came from (the seed
 * of the pattern written and the block it was written at) for the messages. A block never written
 * holds zeros. The campaigns update it when a write or copy completes successfully and compare
 * every block read back.
 */
import { fillPattern } from '../../core/util/pattern.js';

export interface BlockMismatch {
  /** Block index on the device. */
  readonly block: number;
  /** What the model says the block holds: `zeros` or `seed S written at block B`. */
  readonly want: string;
}

/** What a range of blocks held when it was taken (ShadowDisk.snapshot): its bytes and tags. */
export interface BlockSnapshot {
  readonly bytes: Uint8Array;
  readonly seeds: Uint32Array;
  readonly origins: Float64Array;
}

export class ShadowDisk {
  private readonly image: Uint8Array;
  private readonly seeds: Uint32Array;
  private readonly origins: Float64Array;

  constructor(readonly blocks: number, readonly blockSize: number) {
    this.image = new Uint8Array(blocks * blockSize);
    this.seeds = new Uint32Array(blocks);
    this.origins = new Float64Array(blocks);
  }

  /** The bytes of a write of `count` blocks at `block` with `seed` (seed ≥ 1). */
  data(block: number, count: number, seed: number): Uint8Array {
    const b = new Uint8Array(count * this.blockSize);
    fillPattern(b, seed, block * this.blockSize);
    return b;
  }

  /** A write of `data(block, count, seed)` completed. */
  write(block: number, count: number, seed: number): void {
    this.setSnapshot(block, this.written(block, count, seed));
  }

  /** What a write of `data(block, count, seed)` leaves, without applying it. */
  written(block: number, count: number, seed: number): BlockSnapshot {
    if (seed < 1) throw new RangeError('pattern seeds start at 1 (0 means zeros)');
    this.check(block, count);
    return { bytes: this.data(block, count, seed), seeds: new Uint32Array(count).fill(seed), origins: Float64Array.from({ length: count }, (_, i) => block + i) };
  }

  /** A copy of `count` blocks from `src` to `dst` completed. */
  copy(src: number, dst: number, count: number): void {
    this.setSnapshot(dst, this.snapshot(src, count));
  }

  /** What a range holds now, to apply elsewhere later (a copy's source, taken when it starts) or to settle on. */
  snapshot(block: number, count: number): BlockSnapshot {
    this.check(block, count);
    const bs = this.blockSize;
    return { bytes: this.image.slice(block * bs, (block + count) * bs), seeds: this.seeds.slice(block, block + count), origins: this.origins.slice(block, block + count) };
  }

  /** Applies a snapshot at `block`. */
  setSnapshot(block: number, s: BlockSnapshot): void {
    this.check(block, s.seeds.length);
    this.image.set(s.bytes, block * this.blockSize);
    this.seeds.set(s.seeds, block);
    this.origins.set(s.origins, block);
  }

  /**
   * After an operation that failed part way (its blocks may hold the old or the new content):
   * each block of `data` (read from `block` on) must hold what one of `choices` holds there;
   * the model takes that one. Returns the blocks that hold none of them.
   */
  settle(block: number, data: Uint8Array, choices: readonly BlockSnapshot[]): BlockMismatch[] {
    const bs = this.blockSize;
    const count = data.length / bs;
    this.check(block, count);
    const bad: BlockMismatch[] = [];
    for (let i = 0; i < count; i++) {
      const got = Buffer.from(data.buffer, data.byteOffset + i * bs, bs);
      const match = choices.find((c) => got.equals(c.bytes.subarray(i * bs, (i + 1) * bs)));
      if (!match) {
        bad.push({ block: block + i, want: choices.map((c) => tagText(c.seeds[i]!, c.origins[i]!)).join(' or ') });
        continue;
      }
      this.image.set(match.bytes.subarray(i * bs, (i + 1) * bs), (block + i) * bs);
      this.seeds[block + i] = match.seeds[i]!;
      this.origins[block + i] = match.origins[i]!;
    }
    return bad;
  }

  /** What block `block` must hold. */
  expected(block: number): Uint8Array {
    this.check(block, 1);
    return this.image.slice(block * this.blockSize, (block + 1) * this.blockSize);
  }

  /** Compares `data` (blocks from `block` on) with the model; returns the blocks that differ. */
  compare(block: number, data: Uint8Array): BlockMismatch[] {
    const bs = this.blockSize;
    const count = data.length / bs;
    this.check(block, count);
    const bad: BlockMismatch[] = [];
    const img = Buffer.from(this.image.buffer, this.image.byteOffset + block * bs, count * bs);
    const got = Buffer.from(data.buffer, data.byteOffset, count * bs);
    if (img.equals(got)) return bad;
    for (let i = 0; i < count; i++) {
      if (!got.subarray(i * bs, (i + 1) * bs).equals(img.subarray(i * bs, (i + 1) * bs))) bad.push({ block: block + i, want: this.describe(block + i) });
    }
    return bad;
  }

  describe(block: number): string {
    return tagText(this.seeds[block]!, this.origins[block]!);
  }

  private check(block: number, count: number): void {
    if (!Number.isSafeInteger(block) || !Number.isSafeInteger(count) || block < 0 || count < 0 || block + count > this.blocks) {
      throw new RangeError(`blocks [${block}, +${count}) are outside the model's ${this.blocks}`);
    }
  }
}

function tagText(seed: number, origin: number): string {
  return seed === 0 ? 'zeros' : `seed ${seed} written at block ${origin}`;
}
