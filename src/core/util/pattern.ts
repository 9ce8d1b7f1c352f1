/**
 * Seeded data patterns. A byte's value depends only on the seed and its pattern offset, so a
 * copy's destination can be verified against the pattern of its source (verify with
 * pattern_offset = source offset). Each 4-byte word is a hash of (seed, word index): cheap,
 * position-dependent (a misplaced block never verifies), reproducible everywhere.
 */

/** murmur3's 32-bit finaliser: a bijective mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function wordAt(seedMix: number, index: number): number {
  const hi = Math.floor(index / 2 ** 32);
  const lo = index >>> 0;
  return fmix32(lo ^ fmix32(seedMix + hi));
}

/** Fills `out` with the pattern bytes for pattern offsets [offset, offset + out.length). */
export function fillPattern(out: Uint8Array, seed: number, offset: number): void {
  const seedMix = fmix32((seed >>> 0) ^ 0x9e3779b9);
  const first = Math.floor(offset / 4);
  const skip = offset - first * 4;
  const last = Math.floor((offset + out.length + 3) / 4); // exclusive
  let pos = -skip;
  // Word-aligned fast path for the common case (offset and buffer aligned to 4).
  if (skip === 0 && out.byteOffset % 4 === 0 && out.length % 4 === 0) {
    const words = new Uint32Array(out.buffer, out.byteOffset, out.length / 4);
    for (let i = 0; i < words.length; i++) words[i] = wordAt(seedMix, first + i);
    if (!isLittleEndian) for (let i = 0; i < words.length; i++) words[i] = swap32(words[i]!);
    return;
  }
  for (let w = first; w < last; w++, pos += 4) {
    const v = wordAt(seedMix, w);
    for (let b = 0; b < 4; b++) {
      const p = pos + b;
      if (p >= 0 && p < out.length) out[p] = (v >>> (8 * b)) & 0xff;
    }
  }
}

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** Returns the index of the first byte of `data` that differs from the pattern, or -1. */
export function findPatternMismatch(data: Uint8Array, seed: number, offset: number): number {
  const chunk = 64 * 1024;
  const expect = new Uint8Array(Math.min(chunk, data.length));
  for (let start = 0; start < data.length; start += chunk) {
    const n = Math.min(chunk, data.length - start);
    const e = expect.subarray(0, n);
    fillPattern(e, seed, offset + start);
    const got = data.subarray(start, start + n);
    if (Buffer.compare(Buffer.from(got.buffer, got.byteOffset, n), Buffer.from(e.buffer, e.byteOffset, n)) !== 0) {
      for (let i = 0; i < n; i++) if (got[i] !== e[i]) return start + i;
    }
  }
  return -1;
}
