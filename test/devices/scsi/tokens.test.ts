import { describe, expect, it } from 'vitest';
import { populateTokenList, tokenFromRrti, tpcInCdb, tpcOutCdb, writeUsingTokenList, zeroRodToken } from '../../../devices/scsi/build.js';
import { TpcInSa, TpcOutSa } from '../../../devices/scsi/constants.js';
import { TPC_LIMITS } from '../../../devices/scsi/tpc-limits.js';
import { eq } from '../../helpers.js';
import { HOST, fill, ok, readBack, sense, twoArrays } from './helpers.js';
import type { ScsiArray } from '../../../devices/scsi/array.js';

function populate(a: ScsiArray, lun: number, ranges: { lba: number; blocks: number }[], listId: number, o: { timeout?: number } = {}): Uint8Array {
  const p = populateTokenList(ranges, o);
  ok(a.execute(HOST, lun, tpcOutCdb(TpcOutSa.POPULATE_TOKEN, p.length, listId), p));
  const info = ok(a.execute(HOST, lun, tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, listId), undefined, 1024)).dataIn;
  expect(info[5]).toBe(0x01);
  return tokenFromRrti(info)!;
}

const wut = (a: ScsiArray, lun: number, token: Uint8Array, ranges: { lba: number; blocks: number }[], o: { offset?: number; delTkn?: boolean } = {}, who = HOST) => {
  const p = writeUsingTokenList(token, ranges, o);
  return a.execute(who, lun, tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, p.length, 77), p);
};

describe('ROD tokens', () => {
  it('copies through POPULATE TOKEN + WRITE USING TOKEN, with and without an offset into the ROD', () => {
    const { a0 } = twoArrays();
    const s1 = fill(a0, 0, 10, 8, 1);
    const s2 = fill(a0, 0, 100, 8, 2);
    const token = populate(a0, 0, [{ lba: 10, blocks: 8 }, { lba: 100, blocks: 8 }], 1);
    expect(token.length).toBe(512);
    ok(wut(a0, 1, token, [{ lba: 0, blocks: 16 }]));
    expect(eq(readBack(a0, 1, 0, 8), s1)).toBe(true);
    expect(eq(readBack(a0, 1, 8, 8), s2)).toBe(true);
    // Offset 4 blocks: the ROD from its 5th block, into two destination ranges.
    ok(wut(a0, 1, token, [{ lba: 500, blocks: 6 }, { lba: 600, blocks: 6 }], { offset: 4 }));
    expect(eq(readBack(a0, 1, 500, 4), s1.subarray(4 * 512))).toBe(true);
    expect(eq(readBack(a0, 1, 504, 2), s2.subarray(0, 2 * 512))).toBe(true);
    expect(eq(readBack(a0, 1, 600, 6), s2.subarray(2 * 512))).toBe(true);
    const info = ok(a0.execute(HOST, 1, tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 77), undefined, 1024)).dataIn;
    expect(info[4]).toBe(TpcOutSa.WRITE_USING_TOKEN);
    expect(Number(new DataView(info.buffer).getBigUint64(16))).toBe(12);
    // An offset past the ROD is an invalid field.
    expect(sense(wut(a0, 1, token, [{ lba: 0, blocks: 1 }], { offset: 16 })).asc).toBe(0x26);
  });

  it('the block device zero token zeroes the ranges', () => {
    const { a0 } = twoArrays();
    fill(a0, 1, 0, 32, 3);
    ok(wut(a0, 1, zeroRodToken(), [{ lba: 4, blocks: 8 }, { lba: 20, blocks: 4 }]));
    expect(readBack(a0, 1, 4, 8).every((b) => b === 0)).toBe(true);
    expect(readBack(a0, 1, 20, 4).every((b) => b === 0)).toBe(true);
    expect(readBack(a0, 1, 0, 4).some((b) => b !== 0)).toBe(true);
  });

  it('refuses unknown, forged, revoked, expired, deleted and foreign tokens', () => {
    const { fabric, a0, a1 } = twoArrays();
    let now = 1_000_000;
    fabric.now = () => now;
    fill(a0, 0, 0, 8, 4);
    const token = populate(a0, 0, [{ lba: 0, blocks: 8 }], 2, { timeout: 5 });
    const forged = token.slice();
    forged[300]! ^= 1;
    expect([sense(wut(a0, 1, forged, [{ lba: 0, blocks: 8 }])).asc, sense(wut(a0, 1, forged, [{ lba: 0, blocks: 8 }])).ascq]).toEqual([0x23, 0x04]);
    const badLen = token.slice();
    badLen[7] = 0;
    expect(sense(wut(a0, 1, badLen, [{ lba: 0, blocks: 8 }])).ascq).toBe(0x0a);
    // Another array does not know the token.
    expect(sense(wut(a1, 0, token, [{ lba: 0, blocks: 8 }])).ascq).toBe(0x04);
    // Inactivity timeout: used within 5 s it lives on; 5 s idle and it is gone.
    now += 4000;
    ok(wut(a0, 1, token, [{ lba: 0, blocks: 8 }]));
    now += 5000;
    expect(sense(wut(a0, 1, token, [{ lba: 0, blocks: 8 }])).ascq).toBe(0x04);
    // Change vulnerable: writing the source revokes the token.
    const t2 = populate(a0, 0, [{ lba: 0, blocks: 8 }], 3);
    fill(a0, 0, 4, 1, 9);
    expect(sense(wut(a0, 1, t2, [{ lba: 0, blocks: 8 }])).ascq).toBe(0x06);
    // DEL_TKN frees it after use.
    const t3 = populate(a0, 0, [{ lba: 0, blocks: 8 }], 4);
    ok(wut(a0, 1, t3, [{ lba: 0, blocks: 8 }], { delTkn: true }));
    expect(sense(wut(a0, 1, t3, [{ lba: 0, blocks: 8 }])).ascq).toBe(0x04);
    // Timeouts outside 1..600 s and too many ranges are refused.
    const p = populateTokenList([{ lba: 0, blocks: 1 }], { timeout: TPC_LIMITS.maxInactivityTimeout + 1 });
    expect(sense(a0.execute(HOST, 0, tpcOutCdb(TpcOutSa.POPULATE_TOKEN, p.length, 5), p)).field).toBe(4);
    const many = populateTokenList(Array.from({ length: TPC_LIMITS.maxRangeDescriptors + 1 }, (_, i) => ({ lba: i, blocks: 1 })));
    const s = sense(a0.execute(HOST, 0, tpcOutCdb(TpcOutSa.POPULATE_TOKEN, many.length, 6), many));
    expect([s.asc, s.ascq]).toEqual([0x26, 0x08]);
    // Tokens are random: two populates of the same range differ.
    const t4 = populate(a0, 0, [{ lba: 0, blocks: 8 }], 7);
    const t5 = populate(a0, 0, [{ lba: 0, blocks: 8 }], 8);
    expect(eq(t4, t5)).toBe(false);
    const all = ok(a0.execute(HOST, 0, tpcInCdb(TpcInSa.REPORT_ALL_ROD_TOKENS), undefined, 8192)).dataIn;
    expect(all.length).toBe(8 + 2 * 512);
  });

  it('refuses a token to an initiator that may not read its LU', () => {
    const { fabric } = twoArrays();
    const a = fabric.addArray({ name: 'acl', lus: [{ name: 's', size: 1 << 20 }, { name: 'd', size: 1 << 20 }], initiators: { [HOST]: [0, 1], guest: [1] } });
    const token = populate(a, 0, [{ lba: 0, blocks: 8 }], 1);
    const s = sense(wut(a, 1, token, [{ lba: 0, blocks: 8 }], {}, 'guest'));
    expect([s.asc, s.ascq]).toEqual([0x20, 0x02]);
  });
});
