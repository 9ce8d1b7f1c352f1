import { describe, expect, it } from 'vitest';
import { inquiryCdb, populateTokenList, tokenFromRrti, tpcInCdb, tpcOutCdb, writeUsingTokenList, zeroRodToken } from '../../../devices/scsi/build.js';
import { Rod, RodTypeFlag, Token, TpcInSa, TpcOutSa, TpcVpdDesc, Vpd } from '../../../devices/scsi/constants.js';
import { be16, be32 } from '../../../src/core/util/bytes.js';
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

/** The ROD type descriptors of VPD 8Fh's Supported ROD Types descriptor (SPC-4 7.8.17.7), as read off the wire. */
function advertisedRodTypes(a: ScsiArray): { type: number; flags: number }[] {
  const page = ok(a.execute(HOST, 0, inquiryCdb(Vpd.THIRD_PARTY_COPY, 4096), undefined, 4096)).dataIn;
  for (let at = 4; at + 4 <= page.length; at += 4 + be16(page, at + 2)) {
    if (be16(page, at) !== TpcVpdDesc.SUPPORTED_ROD_TYPES) continue;
    const out: { type: number; flags: number }[] = [];
    for (let d = at + 8; d < at + 8 + be16(page, at + 6); d += 64) out.push({ type: be32(page, d), flags: page[d + 4]! });
    return out;
  }
  throw new Error('VPD 8Fh has no Supported ROD Types descriptor');
}

describe('ROD tokens', () => {
  it('advertises in VPD 8Fh what it does: TOKEN_OUT types come out of POPULATE TOKEN, TOKEN_IN types go into WRITE USING TOKEN', () => {
    const { a0 } = twoArrays();
    const types = advertisedRodTypes(a0);
    expect(types).toEqual([
      { type: Rod.TYPE_PIT_CHANGE_VULNERABLE, flags: RodTypeFlag.TOKEN_IN | RodTypeFlag.TOKEN_OUT },
      { type: Rod.TYPE_BLOCK_ZERO, flags: RodTypeFlag.TOKEN_IN },
    ]);
    let listId = 10;
    for (const { type, flags } of types) {
      const name = `ROD type ${type.toString(16)}`;
      const src = fill(a0, 0, 0, 16, type & 0xff);
      fill(a0, 1, 0, 64, 99);
      // POPULATE TOKEN asking for this ROD type (RTV): made if and only if TOKEN_OUT.
      const p = populateTokenList([{ lba: 0, blocks: 16 }], { rodType: type });
      const r = a0.execute(HOST, 0, tpcOutCdb(TpcOutSa.POPULATE_TOKEN, p.length, ++listId), p);
      let token: Uint8Array | null = null;
      if (flags & RodTypeFlag.TOKEN_OUT) {
        ok(r);
        const info = ok(a0.execute(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, listId), undefined, 1024)).dataIn;
        token = tokenFromRrti(info);
        expect([name, be32(token!, 0)]).toEqual([name, type]);
      } else {
        const s = sense(r);
        expect([name, s.key, s.asc, s.ascq, s.field, s.cd]).toEqual([name, 0x05, 0x26, 0x00, 8, false]);
      }
      // WRITE USING TOKEN with a token of this type: accepted if and only if TOKEN_IN.
      if (!token && type === Rod.TYPE_BLOCK_ZERO) token = zeroRodToken();
      if (!token) throw new Error(`${name}: advertised without TOKEN_OUT and the test cannot make one`);
      const w = wut(a0, 1, token, [{ lba: 8, blocks: 16 }]);
      if (flags & RodTypeFlag.TOKEN_IN) {
        ok(w);
        const back = readBack(a0, 1, 8, 16);
        expect([name, type === Rod.TYPE_BLOCK_ZERO ? back.every((b) => b === 0) : eq(back, src)]).toEqual([name, true]);
      } else {
        expect([name, w.status]).toEqual([name, 0x02]);
      }
    }
    // A ROD type it does not advertise (point in time, persistent: 00800002h) is refused by POPULATE TOKEN.
    const p = populateTokenList([{ lba: 0, blocks: 8 }], { rodType: 0x00800002 });
    expect(sense(a0.execute(HOST, 0, tpcOutCdb(TpcOutSa.POPULATE_TOKEN, p.length, 99), p)).field).toBe(Token.PT_OFF_ROD_TYPE);
  });

  it('copies through POPULATE TOKEN + WRITE USING TOKEN, with and without an offset into the ROD', () => {
    const { a0 } = twoArrays();
    const s1 = fill(a0, 0, 10, 8, 1);
    const s2 = fill(a0, 0, 100, 8, 2);
    const token = populate(a0, 0, [{ lba: 10, blocks: 8 }, { lba: 100, blocks: 8 }], 1);
    expect(token.length).toBe(512);
    ok(wut(a0, 1, token, [{ lba: 0, blocks: 16 }]));
    expect(readBack(a0, 1, 0, 8)).toEqualBytes(s1);
    expect(readBack(a0, 1, 8, 8)).toEqualBytes(s2);
    // Offset 4 blocks: the ROD from its 5th block, into two destination ranges.
    ok(wut(a0, 1, token, [{ lba: 500, blocks: 6 }, { lba: 600, blocks: 6 }], { offset: 4 }));
    expect(readBack(a0, 1, 500, 4)).toEqualBytes(s1.subarray(4 * 512));
    expect(readBack(a0, 1, 504, 2)).toEqualBytes(s2.subarray(0, 2 * 512));
    expect(readBack(a0, 1, 600, 6)).toEqualBytes(s2.subarray(2 * 512));
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
    expect(t4).not.toEqualBytes(t5);
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
