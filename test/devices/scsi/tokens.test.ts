import { describe, expect, it } from 'vitest';
import { inquiryCdb, populateTokenList, tokenFromRrti, tpcInCdb, tpcOutCdb, writeUsingTokenList, zeroRodToken } from '../../../devices/scsi/build.js';
import { Rod, RodTypeFlag, Token, TpcInSa, TpcOutSa, TpcVpdDesc, Vpd } from '../../../devices/scsi/constants.js';
import { be16, be32 } from '../../../src/core/util/bytes.js';
import { TPC_LIMITS } from '../../../devices/scsi/tpc-limits.js';
import { eq } from '../../helpers.js';
import { HOST, fill, ok, readBack, sense, twoArrays } from './helpers.js';
import type { ScsiArray } from '../../../devices/scsi/array.js';
import { ROD_FEATURES } from '../../../devices/scsi/tpc-vpd.js';
import { decodeSense } from '../../../devices/scsi/sense.js';
import { addScsiArray } from '../../../devices/scsi/attach.js';
import { Lab } from '../../../src/app/lab.js';
import { NS_PER_MS } from '../../../src/core/time/clock.js';

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
    // Inactivity timeout: used within 5 s it lives on; 5 s idle and it is gone: TOKEN EXPIRED.
    now += 4000;
    ok(wut(a0, 1, token, [{ lba: 0, blocks: 8 }]));
    now += 5000;
    const expired = sense(wut(a0, 1, token, [{ lba: 0, blocks: 8 }]));
    expect([expired.key, expired.asc, expired.ascq]).toEqual([0x05, 0x23, 0x07]);
    // Change vulnerable: writing the source revokes the token.
    const t2 = populate(a0, 0, [{ lba: 0, blocks: 8 }], 3);
    fill(a0, 0, 4, 1, 9);
    expect(sense(wut(a0, 1, t2, [{ lba: 0, blocks: 8 }])).ascq).toBe(0x06);
    // DEL_TKN frees it after use: TOKEN DELETED.
    const t3 = populate(a0, 0, [{ lba: 0, blocks: 8 }], 4);
    ok(wut(a0, 1, t3, [{ lba: 0, blocks: 8 }], { delTkn: true }));
    expect(sense(wut(a0, 1, t3, [{ lba: 0, blocks: 8 }])).ascq).toBe(0x09);
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

  describe('lifetime (SBC-3 5.9.2, 5.35; SPC-4 5.17.6)', () => {
    const expiredSense = (r: ReturnType<ScsiArray['execute']>) => {
      const s = sense(r);
      return [s.key, s.asc, s.ascq];
    };
    const EXPIRED = [0x05, 0x23, 0x07];

    it('INACTIVITY TIMEOUT 0 takes the default (60 s), up to the maximum (600 s) is taken, beyond it is INVALID FIELD IN PARAMETER LIST at byte 4', () => {
      const { fabric, a0 } = twoArrays();
      let now = 5_000_000;
      fabric.now = () => now;
      fill(a0, 0, 0, 8, 1);
      const byDefault = populate(a0, 0, [{ lba: 0, blocks: 8 }], 1);
      const longest = populate(a0, 0, [{ lba: 0, blocks: 8 }], 2, { timeout: TPC_LIMITS.maxInactivityTimeout });
      const shortest = populate(a0, 0, [{ lba: 0, blocks: 8 }], 3, { timeout: TPC_LIMITS.minInactivityTimeout });
      now += TPC_LIMITS.minInactivityTimeout * 1000;
      expect(expiredSense(wut(a0, 1, shortest, [{ lba: 0, blocks: 8 }]))).toEqual(EXPIRED);
      now += TPC_LIMITS.defaultInactivityTimeout * 1000 - 1 - TPC_LIMITS.minInactivityTimeout * 1000;
      ok(wut(a0, 1, byDefault, [{ lba: 0, blocks: 8 }])); // 1 ms before the default timeout
      now += TPC_LIMITS.defaultInactivityTimeout * 1000;
      expect(expiredSense(wut(a0, 1, byDefault, [{ lba: 0, blocks: 8 }]))).toEqual(EXPIRED);
      now += (TPC_LIMITS.maxInactivityTimeout - 2 * TPC_LIMITS.defaultInactivityTimeout) * 1000 - 1;
      ok(wut(a0, 1, longest, [{ lba: 0, blocks: 8 }]));
      const p = populateTokenList([{ lba: 0, blocks: 1 }], { timeout: TPC_LIMITS.maxInactivityTimeout + 1 });
      const s = sense(a0.execute(HOST, 0, tpcOutCdb(TpcOutSa.POPULATE_TOKEN, p.length, 4), p));
      expect([s.key, s.asc, s.ascq, s.field, s.cd]).toEqual([0x05, 0x26, 0x00, Token.PT_OFF_INACTIVITY_TIMEOUT, false]);
    });

    it('VPD 8Fh reports the default and maximum inactivity timeout (Block Device ROD Token Limits) and the token lifetimes (ROD Token Features)', () => {
      const { a0 } = twoArrays();
      const page = ok(a0.execute(HOST, 0, inquiryCdb(Vpd.THIRD_PARTY_COPY, 4096), undefined, 4096)).dataIn;
      const found = new Map<number, number>();
      for (let at = 4; at + 4 <= page.length; at += 4 + be16(page, at + 2)) found.set(be16(page, at), at);
      const limits = found.get(TpcVpdDesc.BLOCK_DEVICE_ROD_LIMITS)!;
      expect([be32(page, limits + 12), be32(page, limits + 16)]).toEqual([TPC_LIMITS.maxInactivityTimeout, TPC_LIMITS.defaultInactivityTimeout]);
      const f = found.get(TpcVpdDesc.ROD_TOKEN_FEATURES);
      expect(f).toBeDefined();
      expect(be16(page, f! + 2)).toBe(ROD_FEATURES.OFF_TYPE_SPECIFIC + ROD_FEATURES.BLOCK_DESCRIPTOR_LENGTH - 4);
      expect([page[f! + 4], be32(page, f! + 16), be32(page, f! + 20), be32(page, f! + 24)]).toEqual([0, TPC_LIMITS.minInactivityTimeout, ROD_FEATURES.UNBOUNDED_LIFETIME, TPC_LIMITS.maxInactivityTimeout]);
      expect(be16(page, f! + 46)).toBe(ROD_FEATURES.BLOCK_DESCRIPTOR_LENGTH);
      // Descriptors in the order of their type codes (SPC-4 7.8.17.1).
      expect([...found.keys()]).toEqual([...found.keys()].sort((x, y) => x - y));
    });

    it('the timeout counts from the end of the last use; an expired or deleted token keeps its sense until newer ended tokens push it out (then TOKEN UNKNOWN)', () => {
      const { fabric, a0 } = twoArrays();
      let now = 1_000_000;
      fabric.now = () => now;
      fill(a0, 0, 0, 8, 2);
      const t = populate(a0, 0, [{ lba: 0, blocks: 8 }], 1, { timeout: 2 });
      for (let i = 0; i < 5; i++) {
        now += 1999;
        ok(wut(a0, 1, t, [{ lba: 0, blocks: 8 }]));
      }
      now += 2000;
      expect(expiredSense(wut(a0, 1, t, [{ lba: 0, blocks: 8 }]))).toEqual(EXPIRED);
      expect(a0.tokens.size).toBe(0);
      // More ended tokens than the array remembers: the oldest (t) is forgotten.
      for (let i = 0; i < TPC_LIMITS.maxEndedTokens; i++) {
        const d = populate(a0, 0, [{ lba: 0, blocks: 1 }], 100 + (i % 50));
        ok(wut(a0, 1, d, [{ lba: 8, blocks: 1 }], { delTkn: true }));
      }
      expect(a0.tokens.endedSize).toBe(TPC_LIMITS.maxEndedTokens);
      expect(sense(wut(a0, 1, t, [{ lba: 0, blocks: 8 }])).ascq).toBe(0x04);
    });

    it('a LOGICAL UNIT RESET and the loss of the maker\'s I_T nexus leave the token valid; REPORT ALL ROD TOKENS still lists it', () => {
      const { a0 } = twoArrays();
      fill(a0, 0, 0, 8, 3);
      const t = populate(a0, 0, [{ lba: 0, blocks: 8 }], 1);
      a0.logicalUnitReset(0, [HOST]);
      a0.nexusLoss(HOST);
      // The reset leaves a unit attention for the nexus (SAM-5 6.3.3); the token outlives both.
      a0.execute(HOST, 1, inquiryCdb(Vpd.THIRD_PARTY_COPY, 8), undefined, 8);
      const first = wut(a0, 1, t, [{ lba: 0, blocks: 8 }]);
      if (first.status !== 0) expect(sense(first).key).toBe(0x06);
      ok(wut(a0, 1, t, [{ lba: 0, blocks: 8 }]));
      const all = ok(a0.execute(HOST, 0, tpcInCdb(TpcInSa.REPORT_ALL_ROD_TOKENS), undefined, 8192)).dataIn;
      expect(all.subarray(8, 8 + 512)).toEqualBytes(t);
    });
  });

  it('a token in use by a copy on the clock does not expire under it; its timeout counts from the copy\'s end', async () => {
    const lab = new Lab();
    const LBS = 4096;
    // 16 MiB at 8 MB/s: the copy takes about 2 modeled seconds, the token's timeout is 1 s.
    const { array } = addScsiArray(lab, { name: 'arr0', timing: { preset: 'sas-array', xcopy_mbps: 8 } as never, lus: [{ name: 'sda', size: 64 << 20, lbs: LBS }, { name: 'sdb', size: 64 << 20, lbs: LBS }] });
    array.fabric.now = () => NaN; // a timed array counts on the lab's modeled clock, not wall time
    const blocks = (16 << 20) / LBS;
    const p = populateTokenList([{ lba: 0, blocks }], { timeout: 1 });
    expect((await array.executeAsync(HOST, 0, tpcOutCdb(TpcOutSa.POPULATE_TOKEN, p.length, 1), p)).status).toBe(0);
    const info = (await array.executeAsync(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 1), undefined, 1024)).dataIn;
    const token = tokenFromRrti(info)!;
    const w = writeUsingTokenList(token, [{ lba: 0, blocks }]);
    w[Token.WUT_OFF_FLAGS]! |= 0x01; // IMMED: the copy goes on in the background
    expect((await array.executeAsync(HOST, 1, tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, w.length, 2), w)).status).toBe(0);
    await lab.clock.sleep(1.5e9);
    // 1.5 s after its last lookup, but in use: a short WRITE USING TOKEN still takes it.
    const small = writeUsingTokenList(token, [{ lba: blocks, blocks: 1 }]);
    expect((await array.executeAsync(HOST, 1, tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, small.length, 3), small)).status).toBe(0);
    await lab.clock.sleep(2e9);
    const st = await array.executeAsync(HOST, 1, tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 2, 64), undefined, 64);
    expect([st.status, decodeSense(st.senseData), st.dataIn[5]]).toEqual([0, null, 0x01]); // the background copy completed
    // Idle for 2 s after the last use ended: expired.
    const late = await array.executeAsync(HOST, 1, tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, small.length, 4), small);
    expect(decodeSense(late.senseData)).toMatchObject({ key: 0x05, asc: 0x23, ascq: 0x07 });
    await lab.close();
  });

  it('refuses a token to an initiator that may not read its LU', () => {
    const { fabric } = twoArrays();
    const a = fabric.addArray({ name: 'acl', lus: [{ name: 's', size: 1 << 20 }, { name: 'd', size: 1 << 20 }], initiators: { [HOST]: [0, 1], guest: [1] } });
    const token = populate(a, 0, [{ lba: 0, blocks: 8 }], 1);
    const s = sense(wut(a, 1, token, [{ lba: 0, blocks: 8 }], {}, 'guest'));
    expect([s.asc, s.ascq]).toEqual([0x20, 0x02]);
  });
});
