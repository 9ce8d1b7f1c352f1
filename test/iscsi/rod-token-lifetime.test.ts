/**
 * ROD token lifetime across a LOGICAL UNIT RESET and the end of the session that made the token
 * (docs/scsi.md, "ROD token lifetime"): the token stays valid until its inactivity timeout, a
 * write to its ranges or DEL_TKN; what goes with the I_T nexus is the copy operation records.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ISCSI_SCENARIO_YAML } from '../../src/app/iscsi/default-scenario.js';
import { FLAG_FINAL, Off, Op, RESERVED_TAG, Tmf, TmfResponse } from '../../src/app/iscsi/constants.js';
import { newBhs, opcodeOf } from '../../src/app/iscsi/pdu.js';
import { be32, putBe32 } from '../../src/core/util/bytes.js';
import * as b from '../../devices/scsi/build.js';
import { SenseKey, TpcInSa, TpcOutSa } from '../../devices/scsi/constants.js';
import { decodeSense } from '../../devices/scsi/sense.js';
import { pattern } from '../helpers.js';
import type { TestInitiator } from './initiator.js';
import { login, serve, unserve, type Served } from './fixture.js';

const INI = 'iqn.2024-01.org.copylab:maker';
let served: Served;
const open: TestInitiator[] = [];

beforeEach(async () => {
  served = await serve(DEFAULT_ISCSI_SCENARIO_YAML);
});

afterEach(() => unserve(served, open));

/** LOGICAL UNIT RESET (RFC 7143 11.5.1), immediate; the TMF response code. */
async function lunReset(i: TestInitiator, lun: number): Promise<number> {
  const t = newBhs(Op.TASK_MGMT_REQUEST | 0x40, FLAG_FINAL | Tmf.LOGICAL_UNIT_RESET);
  t[Off.LUN + 1] = lun;
  putBe32(t, Off.ITT, 0x7e57);
  putBe32(t, Tmf.OFF_REFERENCED_TASK_TAG, RESERVED_TAG);
  putBe32(t, Off.CMDSN, i.cmdSN);
  putBe32(t, Off.EXP_STATSN, i.expStatSN);
  i.send(t);
  for (;;) {
    const p = await i.next();
    if (!p) throw new Error('no TMF response');
    if (opcodeOf(p.bhs) === Op.TASK_MGMT_RESPONSE && be32(p.bhs, Off.ITT) === 0x7e57) {
      i.expStatSN = (be32(p.bhs, Off.STATSN) + 1) >>> 0;
      return p.bhs[Tmf.OFF_RESPONSE]!;
    }
  }
}

/** Waits (bounded) until the target has no session left: the first one's end has been processed. */
async function sessionsGone(): Promise<void> {
  for (let k = 0; k < 500 && served.target.sessionCount > 0; k++) await new Promise((r) => setTimeout(r, 10));
  expect(served.target.sessionCount).toBe(0);
}

describe('ROD tokens outlive a LOGICAL UNIT RESET and their maker\'s session', () => {
  it('WRITE USING TOKEN works after both; the copy records went with the session', async () => {
    const a = await login(served.port, open, { initiator: INI });
    const data = pattern(64 * 512, 11, 0);
    expect((await a.command(0, b.rw16Cdb(true, 0, 64), { dataOut: data })).status).toBe(0);
    const pt = b.populateTokenList([{ lba: 0, blocks: 64 }]);
    expect((await a.command(0, b.tpcOutCdb(TpcOutSa.POPULATE_TOKEN, pt.length, 21), { dataOut: pt })).status).toBe(0);
    const token = b.tokenFromRrti((await a.command(0, b.tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 21, 1024), { readLength: 1024 })).dataIn)!;
    expect(token).not.toBeNull();

    expect(await lunReset(a, 0)).toBe(TmfResponse.FUNCTION_COMPLETE);
    const ua = await a.command(0, b.testUnitReadyCdb());
    expect([ua.status, decodeSense(ua.sense)?.key, decodeSense(ua.sense)?.asc]).toEqual([2, SenseKey.UNIT_ATTENTION, 0x29]);
    const wut = b.writeUsingTokenList(token, [{ lba: 1000, blocks: 64 }]);
    expect((await a.command(1, b.tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, wut.length, 22), { dataOut: wut })).status).toBe(0);
    expect((await a.command(1, b.rw16Cdb(false, 1000, 64), { readLength: data.length })).dataIn).toEqualBytes(data);

    a.close();
    await sessionsGone();
    const again = await login(served.port, open, { initiator: INI });
    const wut2 = b.writeUsingTokenList(token, [{ lba: 2000, blocks: 64 }]);
    expect((await again.command(1, b.tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, wut2.length, 23), { dataOut: wut2 })).status).toBe(0);
    expect((await again.command(1, b.rw16Cdb(false, 2000, 64), { readLength: data.length })).dataIn).toEqualBytes(data);
    // The records of the first session's copy operations are gone with it.
    const rrti = await again.command(0, b.tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 21, 1024), { readLength: 1024 });
    expect([rrti.status, decodeSense(rrti.sense)?.asc]).toEqual([2, 0x24]);
    // REPORT ALL ROD TOKENS still lists the maker's token.
    const all = await again.command(0, b.tpcInCdb(TpcInSa.REPORT_ALL_ROD_TOKENS, 0, 4096), { readLength: 4096 });
    expect(all.dataIn.subarray(8, 8 + 512)).toEqualBytes(token);
    // A write to its range still revokes it (23h/06h): the token's own end conditions hold.
    expect((await again.command(0, b.rw16Cdb(true, 0, 1), { dataOut: new Uint8Array(512) })).status).toBe(0);
    const revoked = await again.command(1, b.tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, wut2.length, 24), { dataOut: wut2 });
    expect([revoked.status, decodeSense(revoked.sense)?.asc, decodeSense(revoked.sense)?.ascq]).toEqual([2, 0x23, 0x06]);
  });
});
