import { describe, expect, it } from 'vitest';
import { SparseBacking, SPARSE_CHUNK } from '../../devices/backing/sparse.js';
import { pattern } from '../helpers.js';

describe('sparse backing: zeros cost no memory (zero detection)', () => {
  it('zeros written where nothing is allocate nothing; a chunk rewritten with zeros is freed; zeros read back either way', () => {
    const b = new SparseBacking(16 * SPARSE_CHUNK, 4 * SPARSE_CHUNK);
    expect(b.write(0, new Uint8Array(8 * SPARSE_CHUNK))).toBe(0); // twice the memory limit, all zeros
    expect(b.allocatedChunks).toBe(0);
    const data = pattern(3 * SPARSE_CHUNK, 1);
    expect(b.write(SPARSE_CHUNK, data)).toBe(0);
    expect(b.allocatedChunks).toBe(3);
    // Part of a chunk zeroed: the chunk stays, its other bytes too.
    expect(b.write(SPARSE_CHUNK + 100, new Uint8Array(100))).toBe(0);
    const want = data.slice();
    want.fill(0, 100, 200);
    // A whole chunk rewritten with zeros goes.
    expect(b.write(2 * SPARSE_CHUNK, new Uint8Array(SPARSE_CHUNK))).toBe(0);
    want.fill(0, SPARSE_CHUNK, 2 * SPARSE_CHUNK);
    expect(b.allocatedChunks).toBe(2);
    const back = new Uint8Array(3 * SPARSE_CHUNK);
    b.read(SPARSE_CHUNK, back);
    expect(back).toEqualBytes(want);
    // A write mixing data and zeros pays only for the chunks with data: at the limit, it still fits.
    const mixed = new Uint8Array(4 * SPARSE_CHUNK);
    mixed.set(pattern(SPARSE_CHUNK, 2), 3 * SPARSE_CHUNK);
    expect(b.write(8 * SPARSE_CHUNK, mixed)).toBe(0);
    expect(b.allocatedChunks).toBe(3);
    expect(b.write(12 * SPARSE_CHUNK, pattern(2 * SPARSE_CHUNK, 3))).toBe(-28); // ENOSPC: two more chunks of data
  });
});
