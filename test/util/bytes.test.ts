import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as B from '../../src/core/util/bytes.js';

type Reader = (b: Uint8Array, o: number) => number;
type Writer = (b: Uint8Array, o: number, v: number) => void;

const FIELDS: [string, number, Reader, Writer, 'be' | 'le'][] = [
  ['be16', 16, B.be16, B.putBe16, 'be'],
  ['be24', 24, B.be24, B.putBe24, 'be'],
  ['be32', 32, B.be32, B.putBe32, 'be'],
  ['be48', 48, B.be48, B.putBe48, 'be'],
  ['be64', 64, B.be64, B.putBe64, 'be'],
  ['le16', 16, B.le16, B.putLe16, 'le'],
  ['le24', 24, B.le24, B.putLe24, 'le'],
  ['le32', 32, B.le32, B.putLe32, 'le'],
  ['le48', 48, B.le48, B.putLe48, 'le'],
  ['le64', 64, B.le64, B.putLe64, 'le'],
];

/** The value every field width can hold exactly as a number. */
const valueOf = (bits: number): fc.Arbitrary<number> => (bits <= 48 ? fc.integer({ min: 0, max: 2 ** bits - 1 }) : fc.bigInt({ min: 0n, max: BigInt(Number.MAX_SAFE_INTEGER) }).map(Number));

describe('src/core/util/bytes: one bytes module for every layer', () => {
  for (const [name, bits, read, write, order] of FIELDS) {
    const n = bits / 8;
    it(`${name}: write then read gives the value back, at any offset, touching only its bytes`, () => {
      fc.assert(
        fc.property(valueOf(bits), fc.nat(16), fc.nat(16), (v, o, tail) => {
          const b = new Uint8Array(o + n + tail).fill(0xa5);
          write(b, o, v);
          expect(read(b, o)).toBe(v);
          for (let i = 0; i < b.length; i++) if (i < o || i >= o + n) expect(b[i]).toBe(0xa5);
        }),
      );
    });

    it(`${name}: the bytes are in ${order === 'be' ? 'big' : 'little'}-endian order (as Buffer writes them)`, () => {
      fc.assert(
        fc.property(valueOf(bits), (v) => {
          const b = new Uint8Array(n);
          write(b, 0, v);
          const ref = Buffer.alloc(8);
          if (order === 'be') ref.writeBigUInt64BE(BigInt(v));
          else ref.writeBigUInt64LE(BigInt(v));
          const want = order === 'be' ? ref.subarray(8 - n) : ref.subarray(0, n);
          expect(b).toEqualBytes(new Uint8Array(want));
        }),
      );
    });

    it(`${name}: a field past either end, or a value that does not fit, throws RangeError and writes nothing`, () => {
      fc.assert(
        fc.property(fc.nat(32), fc.integer({ min: 1, max: n }), (len, over) => {
          const b = new Uint8Array(len);
          const o = len - n + over; // the last `over` bytes of the field lie past the end
          expect(() => read(b, o)).toThrow(RangeError);
          expect(() => write(b, o, 0)).toThrow(RangeError);
          expect(b.every((x) => x === 0)).toBe(true);
        }),
      );
      const b = new Uint8Array(16);
      expect(() => read(b, -1)).toThrow(RangeError);
      expect(() => read(b, 0.5)).toThrow(RangeError);
      expect(() => write(b, 0, -1)).toThrow(RangeError);
      expect(() => write(b, 0, 1.5)).toThrow(RangeError);
      expect(() => write(b, 0, NaN)).toThrow(RangeError);
      expect(() => write(b, 0, 2 ** bits)).toThrow(RangeError);
      expect(b.every((x) => x === 0)).toBe(true);
      write(b, 0, 2 ** bits - (bits === 64 ? 2048 : 1)); // the largest value a number holds exactly
      expect(read(b, 0)).toBe(2 ** bits - (bits === 64 ? 2048 : 1));
    });
  }

  it('a 64-bit field above 2^53 reads as a number that is not a safe integer (so bounds checks refuse it)', () => {
    const b = new Uint8Array(8).fill(0xff);
    expect(Number.isSafeInteger(B.be64(b, 0))).toBe(false);
    expect(Number.isSafeInteger(B.le64(b, 0))).toBe(false);
    expect(B.le64(b, 0)).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
  });

  it('reads a field of a subarray relative to the subarray, not the buffer', () => {
    const whole = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const sub = whole.subarray(2, 6);
    expect(B.be32(sub, 0)).toBe(0x03040506);
    expect(B.le16(sub, 2)).toBe(0x0605);
    expect(() => B.be32(sub, 1)).toThrow(RangeError);
    expect(B.dataView(sub).getUint8(0)).toBe(3);
  });

  describe('hex', () => {
    it('toHex then parseHex gives the bytes back', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(B.parseHex(B.toHex(b))).toEqualBytes(b);
      }));
    });

    it('accepts what the SCSI and NVMe options accepted: 0x prefixes, either case, spaces, colons, commas, underscores, dashes', () => {
      const want = Uint8Array.from([0x0a, 0xbc, 0xde, 0x0f]);
      for (const text of ['0abcde0f', '0ABCDE0F', '0x0abcde0f', '0x0a 0xbc 0xde 0x0f', '0a bc de 0f', '0a:bc:de:0f', '0a,bc,de,0f', '0a, bc, de, 0f', '0a_bc_de_0f', '0a-bc-de-0f', '  0abc\tde0f\n', '0a0Xbcde0f'])
        expect(B.parseHex(text), text).toEqualBytes(want);
      expect(B.parseHex('')).toEqualBytes(new Uint8Array(0));
      expect(B.parseHex(' : ')).toEqualBytes(new Uint8Array(0));
      expect(B.parseHex('0x')).toEqualBytes(new Uint8Array(0));
    });

    it('refuses what is not hex bytes with null', () => {
      for (const text of ['0', 'abc', 'zz', '0a;0b', '0a.0b', 'g0', '0x0', '+0a', '0a 0']) expect(B.parseHex(text), text).toBeNull();
    });
  });

  it('ASCII fields are space padded and cut to their width; reading drops trailing spaces and NULs', () => {
    const b = new Uint8Array(10).fill(0xee);
    B.putAscii(b, 1, 8, 'COPYLAB');
    expect(b).toEqualBytes(Uint8Array.from([0xee, 0x43, 0x4f, 0x50, 0x59, 0x4c, 0x41, 0x42, 0x20, 0xee]));
    expect(B.getAscii(b, 1, 8)).toBe('COPYLAB');
    B.putAscii(b, 0, 4, 'TOO LONG');
    expect(B.getAscii(b, 0, 4)).toBe('TOO');
    expect(() => B.putAscii(b, 4, 8, 'x')).toThrow(RangeError);
  });

  it('concatBytes joins the parts in order', () => {
    expect(B.concatBytes([Uint8Array.from([1]), new Uint8Array(0), Uint8Array.from([2, 3])])).toEqualBytes(Uint8Array.from([1, 2, 3]));
  });
});
