/**
 * Unsolicited data and the F bit (RFC 7143 11.3.1, 11.7.1, 13.10, 13.14), with raw PDUs over a
 * real socket: with InitialR2T=No the unsolicited data of a write ends at FirstBurstLength or at
 * the F bit, whichever comes first — on the SCSI Command when no Data-Out follows, or on the last
 * unsolicited Data-Out — and the target solicits the rest with R2Ts, in increasing offsets.
 * Before issue 24 a write whose unsolicited data ended early got neither an R2T nor a response.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ISCSI_SCENARIO_YAML } from '../../src/app/iscsi/default-scenario.js';
import { Data, FLAG_FINAL, Off, Op, R2t, RESERVED_TAG, RejectReason, Rsp } from '../../src/app/iscsi/constants.js';
import { dataOutForR2t, newBhs, opcodeOf } from '../../src/app/iscsi/pdu.js';
import { be32, putBe32 } from '../../src/core/util/bytes.js';
import * as b from '../../devices/scsi/build.js';
import { pattern } from '../helpers.js';
import type { TestInitiator } from './initiator.js';
import { login, serve, unserve, type Served } from './fixture.js';

const BLOCK = 512;
/** FirstBurstLength the test initiator negotiates (and the target's default). */
const FIRST_BURST = 65536;

let served: Served;
const open: TestInitiator[] = [];

beforeEach(async () => {
  served = await serve(DEFAULT_ISCSI_SCENARIO_YAML);
});

afterEach(() => unserve(served, open));

/** An unsolicited Data-Out (TTT FFFFFFFFh, RFC 7143 11.7). */
function unsolicitedDataOut(i: TestInitiator, itt: number, offset: number, data: Uint8Array, dataSN: number, final: boolean): void {
  const d = newBhs(Op.DATA_OUT, final ? FLAG_FINAL : 0);
  putBe32(d, Off.ITT, itt);
  putBe32(d, Off.TTT, RESERVED_TAG);
  putBe32(d, Off.EXP_STATSN, i.expStatSN);
  putBe32(d, Data.OFF_DATASN, dataSN);
  putBe32(d, Data.OFF_BUFFER_OFFSET, offset);
  i.send(d, data);
}

/**
 * A WRITE(16) of `data` at `lba`: `immediate` bytes in the command, its F bit as given, then the
 * unsolicited Data-Out PDUs given as [offset, length, final]; then every R2T answered until the
 * SCSI Response. Returns the R2Ts' [offset, length] and the status.
 */
async function write(i: TestInitiator, lba: number, data: Uint8Array, o: { immediate: number; final: boolean; unsolicited?: [number, number, boolean][] }): Promise<{ r2ts: [number, number][]; status: number }> {
  const cmd = i.commandBhs(0, b.rw16Cdb(true, lba, data.length / BLOCK), data.length, false, true);
  if (!o.final) cmd[Off.FLAGS]! &= ~FLAG_FINAL;
  const itt = be32(cmd, Off.ITT);
  i.send(cmd, data.subarray(0, o.immediate));
  (o.unsolicited ?? []).forEach(([off, len, fin], sn) => unsolicitedDataOut(i, itt, off, data.subarray(off, off + len), sn, fin));
  const r2ts: [number, number][] = [];
  for (;;) {
    const p = await i.next();
    if (!p) throw new Error(`no answer after R2Ts ${JSON.stringify(r2ts)}`);
    if (be32(p.bhs, Off.ITT) !== itt) continue;
    if (opcodeOf(p.bhs) === Op.R2T) {
      r2ts.push([be32(p.bhs, R2t.OFF_BUFFER_OFFSET), be32(p.bhs, R2t.OFF_DESIRED_LENGTH)]);
      for (const d of dataOutForR2t(p.bhs, itt, i.expStatSN, data, 65536)) i.send(d.bhs, d.data);
      continue;
    }
    expect(opcodeOf(p.bhs)).toBe(Op.SCSI_RESPONSE);
    i.expStatSN = (be32(p.bhs, Off.STATSN) + 1) >>> 0;
    return { r2ts, status: p.bhs[Rsp.OFF_STATUS]! };
  }
}

async function readBack(i: TestInitiator, lba: number, bytes: number): Promise<Uint8Array> {
  const r = await i.command(0, b.rw16Cdb(false, lba, bytes / BLOCK), { readLength: bytes });
  expect(r.status).toBe(0);
  return r.dataIn;
}

describe('InitialR2T=No: unsolicited data ends at the F bit or at FirstBurstLength', () => {
  it('F=1 on the command with no data: the whole write is solicited', async () => {
    const i = await login(served.port, open, { initialR2T: false });
    expect(i.keys.get('InitialR2T')).toBe('No');
    const data = pattern(16 * 1024, 1, 0);
    expect(await write(i, 0, data, { immediate: 0, final: true })).toEqual({ r2ts: [[0, data.length]], status: 0 });
    expect(await readBack(i, 0, data.length)).toEqualBytes(data);
  });

  it('F=1 on the command with part of the first burst as immediate data: the rest is solicited', async () => {
    const i = await login(served.port, open, { initialR2T: false });
    const data = pattern(16 * 1024, 2, 0);
    expect(await write(i, 100, data, { immediate: 4096, final: true })).toEqual({ r2ts: [[4096, data.length - 4096]], status: 0 });
    expect(await readBack(i, 100, data.length)).toEqualBytes(data);
  });

  it('an unsolicited Data-Out with F=1 that ends before FirstBurstLength: the rest is solicited from there', async () => {
    const i = await login(served.port, open, { initialR2T: false });
    const data = pattern(32 * 1024, 3, 0);
    const r = await write(i, 200, data, { immediate: 4096, final: false, unsolicited: [[4096, 2048, false], [6144, 2048, true]] });
    expect(r).toEqual({ r2ts: [[8192, data.length - 8192]], status: 0 });
    expect(await readBack(i, 200, data.length)).toEqualBytes(data);
  });

  it('the whole first burst unsolicited, then R2Ts for what lies past FirstBurstLength (one without a final F bit too)', async () => {
    const i = await login(served.port, open, { initialR2T: false });
    const data = pattern(2 * FIRST_BURST + 8192, 4, 0);
    const r = await write(i, 400, data, { immediate: 16384, final: false, unsolicited: [[16384, 32768, false], [49152, 16384, true]] });
    expect(r).toEqual({ r2ts: [[FIRST_BURST, data.length - FIRST_BURST]], status: 0 });
    expect(await readBack(i, 400, data.length)).toEqualBytes(data);
    // The last unsolicited PDU reaching FirstBurstLength ends the unsolicited data even with F=0.
    const more = pattern(FIRST_BURST + 4096, 5, 0);
    const r2 = await write(i, 1000, more, { immediate: 0, final: false, unsolicited: [[0, FIRST_BURST, false]] });
    expect(r2).toEqual({ r2ts: [[FIRST_BURST, 4096]], status: 0 });
    expect(await readBack(i, 1000, more.length)).toEqualBytes(more);
  });

  it('unsolicited Data-Out after the F bit ended the unsolicited data is a protocol error (Reject); the session goes on', async () => {
    const i = await login(served.port, open, { initialR2T: false });
    const data = pattern(8192, 6, 0);
    const cmd = i.commandBhs(0, b.rw16Cdb(true, 0, data.length / BLOCK), data.length, false, true); // F=1, no data
    const itt = be32(cmd, Off.ITT);
    i.send(cmd);
    const r2t = await i.next();
    expect(r2t && opcodeOf(r2t.bhs)).toBe(Op.R2T);
    unsolicitedDataOut(i, itt, 0, data.subarray(0, 4096), 0, true);
    const rej = await i.next();
    expect([rej && opcodeOf(rej.bhs), rej?.bhs[2]]).toEqual([Op.REJECT, RejectReason.PROTOCOL_ERROR]);
    expect(await i.ping()).not.toBeNull();
    // With InitialR2T=Yes no unsolicited Data-Out may follow either, whatever the F bit.
    const y = await login(served.port, open, { initiator: 'iqn.2024-01.org.copylab:yes' });
    const c2 = y.commandBhs(0, b.rw16Cdb(true, 0, data.length / BLOCK), data.length, false, true);
    c2[Off.FLAGS]! &= ~FLAG_FINAL;
    y.send(c2, data.subarray(0, 1024));
    const r2 = await y.next();
    expect([r2 && opcodeOf(r2.bhs), r2 && be32(r2.bhs, R2t.OFF_BUFFER_OFFSET)]).toEqual([Op.R2T, 1024]);
  });
});
