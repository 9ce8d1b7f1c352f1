/**
 * Byte mutations for fuzzing, drawn from a seeded PRNG: bit flips, "interesting" values in
 * 1/2/4/8-byte big-endian fields (0, 1, all ones, sign boundaries, values near a limit),
 * truncation, extension, splices of random bytes. A valid input mutated a little reaches the
 * deep paths a random one never would.
 */
import type { Prng } from '../src/core/util/prng.js';
import { fillPattern } from '../src/core/util/pattern.js';

const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40];
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xffff, 0x10000, 0x1000, 512, 4096, 65535, 65536];

export function randomBytes(rng: Prng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const v = rng.nextU32();
    for (let k = 0; k < 4 && i + k < n; k++) b[i + k] = (v >>> (8 * k)) & 0xff;
  }
  return b;
}

export const pick = <T>(rng: Prng, xs: readonly T[]): T => xs[rng.below(xs.length)]!;
export const chance = (rng: Prng, p: number): boolean => rng.nextU32() / 2 ** 32 < p;

/** Returns a mutated copy of `input` (1-4 mutations), never longer than `maxLen`. */
export function mutate(rng: Prng, input: Uint8Array, maxLen = 1 << 16): Uint8Array {
  let b: Uint8Array = input.slice();
  const n = 1 + rng.below(4);
  for (let k = 0; k < n; k++) {
    const op = rng.below(8);
    if (b.length === 0 && op < 6) {
      b = randomBytes(rng, 1 + rng.below(64));
      continue;
    }
    const at = rng.below(Math.max(1, b.length));
    switch (op) {
      case 0:
        b[at] = b[at]! ^ (1 << rng.below(8));
        break;
      case 1:
        b[at] = pick(rng, INTERESTING_8);
        break;
      case 2: {
        const v = pick(rng, INTERESTING_32);
        if (at + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0);
        break;
      }
      case 3:
        if (at + 2 <= b.length) new DataView(b.buffer, b.byteOffset).setUint16(at, pick(rng, INTERESTING_32) & 0xffff);
        break;
      case 4:
        if (at + 8 <= b.length) new DataView(b.buffer, b.byteOffset).setBigUint64(at, pick(rng, [0n, 1n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 53n, 2n ** 32n]));
        break;
      case 5:
        b[at] = rng.below(256);
        break;
      case 6:
        b = b.slice(0, rng.below(b.length + 1)); // truncate
        break;
      default: {
        const extra = randomBytes(rng, 1 + rng.below(32)); // splice random bytes in at `at`
        const out = new Uint8Array(b.length + extra.length);
        out.set(b.subarray(0, at));
        out.set(extra, at);
        out.set(b.subarray(at), at + extra.length);
        b = out;
      }
    }
  }
  return b.length > maxLen ? b.slice(0, maxLen) : b;
}

/** A buffer of the lab's seeded pattern (canary contents). */
export function patterned(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  fillPattern(b, seed, 0);
  return b;
}
