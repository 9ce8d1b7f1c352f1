import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { zeroFill } from '../../src/core/util/bytes.js';

describe('zeroFill (src/core/util/bytes.ts)', () => {
  it('zeroes exactly [from, to) on shared and ordinary memory, any size', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 200_000 }), (shared, a, b) => {
        const size = 200_001;
        const buf = new Uint8Array(shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size)).fill(0xa5);
        const [from, to] = a <= b ? [a, b] : [b, a];
        zeroFill(buf, from, to);
        expect(buf.subarray(from, to).every((x) => x === 0)).toBe(true);
        expect(buf.subarray(0, from).every((x) => x === 0xa5)).toBe(true);
        expect(buf.subarray(to).every((x) => x === 0xa5)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
