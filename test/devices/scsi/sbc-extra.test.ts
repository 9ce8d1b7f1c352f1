/** SBC-3 commands added for libiscsi's conformance suite: WRITE AND VERIFY, PRE-FETCH, ORWRITE. */
import { describe, expect, it } from 'vitest';
import { Op } from '../../../devices/scsi/constants.js';
import { pattern } from '../../helpers.js';
import { HOST, fill, ok, readBack, sense, twoArrays } from './helpers.js';

function cdb10(op: number, lba: number, blocks: number, byte1 = 0): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = op;
  c[1] = byte1;
  new DataView(c.buffer).setUint32(2, lba);
  new DataView(c.buffer).setUint16(7, blocks);
  return c;
}

function cdb16(op: number, lba: number, blocks: number, byte1 = 0): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = op;
  c[1] = byte1;
  new DataView(c.buffer).setBigUint64(2, BigInt(lba));
  new DataView(c.buffer).setUint32(10, blocks);
  return c;
}

describe('SBC-3 WRITE AND VERIFY, PRE-FETCH, ORWRITE', () => {
  it('Block Limits VPD reports a MAXIMUM UNMAP LBA COUNT of at most 1 Mi blocks (libiscsi Inquiry.BlockLimits)', () => {
    const { a0 } = twoArrays();
    const bl = ok(a0.execute(HOST, 0, Uint8Array.of(0x12, 0x01, 0xb0, 0, 0xff, 0), undefined, 255)).dataIn;
    const maxUnmap = new DataView(bl.buffer, bl.byteOffset).getUint32(20);
    expect(maxUnmap).toBeGreaterThan(0);
    expect(maxUnmap).toBeLessThanOrEqual(1024 * 1024);
  });

  it('WRITE AND VERIFY (10/16) writes the blocks (BYTCHK 0 and 1); WRPROTECT and a range past the end are refused', () => {
    const { a0 } = twoArrays();
    const data = pattern(4 * 512, 11, 0);
    ok(a0.execute(HOST, 0, cdb10(Op.WRITE_AND_VERIFY_10, 8, 4, 0x02), data));
    expect(readBack(a0, 0, 8, 4)).toEqualBytes(data);
    const d2 = pattern(2 * 512, 12, 0);
    ok(a0.execute(HOST, 0, cdb16(Op.WRITE_AND_VERIFY_16, 100, 2), d2));
    expect(readBack(a0, 0, 100, 2)).toEqualBytes(d2);
    expect(sense(a0.execute(HOST, 0, cdb10(Op.WRITE_AND_VERIFY_10, 0, 1, 0x20), data)).asc).toBe(0x24);
    const end = a0.lus[0]!.blocks;
    expect(sense(a0.execute(HOST, 0, cdb10(Op.WRITE_AND_VERIFY_10, end - 1, 2), data)).asc).toBe(0x21);
  });

  it('PRE-FETCH (10/16) completes GOOD inside the LU and LBA OUT OF RANGE past it', () => {
    const { a0 } = twoArrays();
    const end = a0.lus[0]!.blocks;
    ok(a0.execute(HOST, 0, cdb10(Op.PRE_FETCH_10, end - 256, 256, 0x02)));
    ok(a0.execute(HOST, 0, cdb16(Op.PRE_FETCH_16, 0, 1)));
    expect(sense(a0.execute(HOST, 0, cdb16(Op.PRE_FETCH_16, end, 1))).asc).toBe(0x21);
  });

  it('ORWRITE (16) ORs the Data-Out into the medium', () => {
    const { a0 } = twoArrays();
    ok(a0.execute(HOST, 0, cdb16(Op.ORWRITE_16, 0, 1), new Uint8Array(512).fill(0xa5)));
    ok(a0.execute(HOST, 0, cdb16(Op.ORWRITE_16, 0, 1), new Uint8Array(512).fill(0x5a)));
    expect(readBack(a0, 0, 0, 1).every((b) => b === 0xff)).toBe(true);
    const before = fill(a0, 0, 10, 1, 5);
    expect(sense(a0.execute(HOST, 0, cdb16(Op.ORWRITE_16, 10, 1, 0x20), new Uint8Array(512))).asc).toBe(0x24);
    expect(readBack(a0, 0, 10, 1)).toEqualBytes(before);
  });
});
