/**
 * A shadow model of a block device for the fault campaigns: what every block must hold, kept as
 * a tag per block (the seed of the pattern written there and the block it was written at), so
 * a copy moves tags, not bytes. A block never written holds zeros (tag seed 0). The campaigns
 * update it when a write or copy completes successfully and compare every block read back.
 */
import { fillPattern } from '../../core/util/pattern.js';

export interface BlockMismatch {
  /** Block index on the device. */
  readonly block: number;
  /** What the model says the block holds: `zeros` or `seed S written at block B`. */
  readonly want: string;
}

export class ShadowDisk {
  private readonly seeds: Uint32Array;
  private readonly origins: Float64Array;

  constructor(readonly blocks: number, readonly blockSize: number) {
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
    if (seed < 1) throw new RangeError('pattern seeds start at 1 (0 means zeros)');
    this.check(block, count);
    for (let i = 0; i < count; i++) {
      this.seeds[block + i] = seed;
      this.origins[block + i] = block + i;
    }
  }

  /** A copy of `count` blocks from `src` to `dst` completed. */
  copy(src: number, dst: number, count: number): void {
    this.check(src, count);
    this.check(dst, count);
    const s = this.seeds.slice(src, src + count);
    const o = this.origins.slice(src, src + count);
    this.seeds.set(s, dst);
    this.origins.set(o, dst);
  }

  /** The model's tags of a range, to apply elsewhere later (a copy's source, read when it starts). */
  tags(block: number, count: number): { seeds: Uint32Array; origins: Float64Array } {
    this.check(block, count);
    return { seeds: this.seeds.slice(block, block + count), origins: this.origins.slice(block, block + count) };
  }

  /** Applies tags taken with tags() at `block`. */
  setTags(block: number, t: { seeds: Uint32Array; origins: Float64Array }): void {
    this.check(block, t.seeds.length);
    this.seeds.set(t.seeds, block);
    this.origins.set(t.origins, block);
  }

  /** What block `block` must hold. */
  expected(block: number, out = new Uint8Array(this.blockSize)): Uint8Array {
    const seed = this.seeds[block]!;
    if (seed === 0) out.fill(0);
    else fillPattern(out, seed, this.origins[block]! * this.blockSize);
    return out;
  }

  /** Compares `data` (blocks from `block` on) with the model; returns the blocks that differ. */
  compare(block: number, data: Uint8Array): BlockMismatch[] {
    const bs = this.blockSize;
    const count = data.length / bs;
    this.check(block, count);
    const want = new Uint8Array(bs);
    const bad: BlockMismatch[] = [];
    for (let i = 0; i < count; i++) {
      this.expected(block + i, want);
      const got = data.subarray(i * bs, (i + 1) * bs);
      if (!Buffer.from(got.buffer, got.byteOffset, bs).equals(want)) bad.push({ block: block + i, want: this.describe(block + i) });
    }
    return bad;
  }

  describe(block: number): string {
    const seed = this.seeds[block]!;
    return seed === 0 ? 'zeros' : `seed ${seed} written at block ${this.origins[block]}`;
  }

  private check(block: number, count: number): void {
    if (!Number.isSafeInteger(block) || !Number.isSafeInteger(count) || block < 0 || count < 0 || block + count > this.blocks) {
      throw new RangeError(`blocks [${block}, +${count}) are outside the model's ${this.blocks}`);
    }
  }
}
