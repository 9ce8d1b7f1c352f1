/** READ DEFECT DATA (10)/(12): the defect list header of a medium without defects. */
import { describe, expect, it } from 'vitest';
import { HOST, ok, sense, twoArrays } from './helpers.js';

const rdd10 = (flags: number, alloc: number) => new Uint8Array([0x37, 0, flags, 0, 0, 0, 0, alloc >> 8, alloc & 0xff, 0]);
const rdd12 = (flags: number, alloc: number) => new Uint8Array([0xb7, flags, 0, 0, 0, 0, 0, 0, alloc >> 8, alloc & 0xff, 0, 0]);

describe('READ DEFECT DATA', () => {
  it('(10) answers the 4-byte header: the lists asked for are valid and empty, in the format asked for', () => {
    const { a0 } = twoArrays();
    expect([...ok(a0.execute(HOST, 0, rdd10(0x00, 32), undefined, 32)).dataIn]).toEqual([0, 0, 0, 0]);
    expect([...ok(a0.execute(HOST, 0, rdd10(0x18 | 0x05, 32), undefined, 32)).dataIn]).toEqual([0, 0x1d, 0, 0]); // PLIST, GLIST, physical sector format
    expect([...ok(a0.execute(HOST, 0, rdd10(0x08 | 0x03, 2), undefined, 2)).dataIn]).toEqual([0, 0x0b]); // cut to the allocation length
  });

  it('(12) answers the 8-byte header; reserved bits and format 111b are INVALID FIELD IN CDB', () => {
    const { a0 } = twoArrays();
    expect([...ok(a0.execute(HOST, 0, rdd12(0x08, 32), undefined, 32)).dataIn]).toEqual([0, 0x08, 0, 0, 0, 0, 0, 0]);
    expect(sense(a0.execute(HOST, 0, rdd12(0x07, 32), undefined, 32)).field).toBe(1);
    expect(sense(a0.execute(HOST, 0, rdd10(0x20, 32), undefined, 32)).field).toBe(2);
  });
});
