/**
 * The final read-back on the tag-only device: every logical block reads back its latest write
 * (the tag at the block's physical place names it and its generation). A closure of its own
 * (src/core/util/specialize.ts): a random tag read per logical block, a quarter billion of them
 * in the terabyte run. The worker mover shares it (mover-protocol.ts verifyChunks).
 */
import { specialize } from '../../core/util/specialize.js';
import { GcIntegrityError, MAP_PHYS_MASK, TAG_LBA_BITS, describeTag } from './tag.js';

/** A read-back of [from, to): the blocks checked and the first bad block (−1). */
export type Verifier = (from: number, to: number) => { verified: number; bad: number };

export function makeVerifier(l2p: Uint32Array, tags: Uint32Array): Verifier {
  return specialize(verifierFactory)(l2p, tags, MAP_PHYS_MASK, TAG_LBA_BITS);
}

function verifierFactory(l2p: Uint32Array, tags: Uint32Array, PHYS: number, BITS: number): Verifier {
  return (from: number, to: number) => {
    let verified = 0;
    for (let lba = from; lba < to; lba++) {
      const e = l2p[lba]!;
      // Never written, or trimmed: nothing to read.
      if (e === 0) continue;
      if (tags[e & PHYS] !== (((e >>> BITS) << BITS) | lba) >>> 0) return { verified, bad: lba };
      verified++;
    }
    return { verified, bad: -1 };
  };
}

/**
 * The failure of a read-back, on either backend: logical block `lba` at physical block `p` read
 * back `got` (a tag; −1: a payload that carries none) where its latest write `want` should be.
 */
export function readBackFailure(lba: number, p: number, got: number, want: number): GcIntegrityError {
  return new GcIntegrityError(`verify: lba ${lba} at physical ${p} holds ${got < 0 ? 'a block that is not a tagged payload' : describeTag(got)}, expected ${describeTag(want)}`, lba, p);
}
