/**
 * The command table: every operation code and service action the model implements, its CDB
 * length, whether it reads or writes the medium (for reservation conflicts, SPC-4 5.13.1
 * table 62), whether it needs an LU, and its handler. REPORT SUPPORTED OPERATION CODES is built
 * from this table, so what is reported is what is executed.
 */
import { Op, MaintInSa, SaIn16, TpcInSa, TpcOutSa } from './constants.js';
import { be16, be32, putBe16, putBe32 } from '../../src/core/util/bytes.js';
import { invalidFieldInCdb } from './sense.js';
import type { CmdContext, Handler } from './context.js';
import * as spc from './spc.js';
import * as sbc from './sbc.js';
import { persistentReserveIn, persistentReserveOut } from './pr-commands.js';
import { readDefectData } from './defects.js';
import { populateToken, receiveRodTokenInformation, reportAllRodTokens, writeUsingToken } from './rod-tokens.js';

export interface CommandDef {
  readonly op: number;
  /** Service action, for opcodes that have them. */
  readonly sa?: number;
  readonly name: string;
  readonly cdbLength: number;
  readonly access: 'read' | 'write' | null;
  /** Runs without an LU at the addressed LUN (INQUIRY, REPORT LUNS, REQUEST SENSE). */
  readonly noLu?: boolean;
  /** Needs the array's copy manager. */
  readonly tpc?: boolean;
  readonly run: Handler;
}

const c = (op: number, name: string, cdbLength: number, access: CommandDef['access'], run: Handler, extra: Partial<CommandDef> = {}): CommandDef => ({ op, name, cdbLength, access, run, ...extra });

export const COMMANDS: readonly CommandDef[] = [
  c(Op.TEST_UNIT_READY, 'TEST UNIT READY', 6, null, spc.testUnitReady),
  c(Op.REQUEST_SENSE, 'REQUEST SENSE', 6, null, spc.requestSense, { noLu: true }),
  c(Op.READ_6, 'READ(6)', 6, 'read', sbc.read),
  c(Op.WRITE_6, 'WRITE(6)', 6, 'write', sbc.write),
  c(Op.INQUIRY, 'INQUIRY', 6, null, spc.inquiry, { noLu: true }),
  c(Op.MODE_SENSE_6, 'MODE SENSE(6)', 6, null, (x) => spc.modeSense(x, false)),
  c(Op.READ_CAPACITY_10, 'READ CAPACITY(10)', 10, null, sbc.readCapacity10),
  c(Op.READ_10, 'READ(10)', 10, 'read', sbc.read),
  c(Op.WRITE_10, 'WRITE(10)', 10, 'write', sbc.write),
  c(Op.VERIFY_10, 'VERIFY(10)', 10, 'read', sbc.verify),
  c(Op.SYNCHRONIZE_CACHE_10, 'SYNCHRONIZE CACHE(10)', 10, null, sbc.synchronizeCache),
  c(Op.WRITE_SAME_10, 'WRITE SAME(10)', 10, 'write', sbc.writeSame),
  c(Op.UNMAP, 'UNMAP', 10, 'write', sbc.unmap),
  c(Op.MODE_SENSE_10, 'MODE SENSE(10)', 10, null, (x) => spc.modeSense(x, true)),
  c(Op.PERSISTENT_RESERVE_IN, 'PERSISTENT RESERVE IN', 10, null, persistentReserveIn),
  c(Op.PERSISTENT_RESERVE_OUT, 'PERSISTENT RESERVE OUT', 10, null, persistentReserveOut),
  c(Op.READ_16, 'READ(16)', 16, 'read', sbc.read),
  c(Op.COMPARE_AND_WRITE, 'COMPARE AND WRITE', 16, 'write', sbc.compareAndWrite),
  c(Op.WRITE_16, 'WRITE(16)', 16, 'write', sbc.write),
  c(Op.VERIFY_16, 'VERIFY(16)', 16, 'read', sbc.verify),
  c(Op.SYNCHRONIZE_CACHE_16, 'SYNCHRONIZE CACHE(16)', 16, null, sbc.synchronizeCache),
  c(Op.WRITE_SAME_16, 'WRITE SAME(16)', 16, 'write', sbc.writeSame),
  c(Op.SERVICE_ACTION_IN_16, 'READ CAPACITY(16)', 16, null, sbc.readCapacity16, { sa: SaIn16.READ_CAPACITY_16 }),
  c(Op.SERVICE_ACTION_IN_16, 'GET LBA STATUS', 16, null, sbc.getLbaStatus, { sa: SaIn16.GET_LBA_STATUS }),
  c(Op.REPORT_LUNS, 'REPORT LUNS', 12, null, spc.reportLuns, { noLu: true }),
  c(Op.MAINTENANCE_IN, 'REPORT SUPPORTED OPERATION CODES', 12, null, reportSupportedOperationCodes, { sa: MaintInSa.REPORT_SUPPORTED_OPERATION_CODES }),
  c(Op.READ_12, 'READ(12)', 12, 'read', sbc.read),
  c(Op.WRITE_12, 'WRITE(12)', 12, 'write', sbc.write),
  c(Op.VERIFY_12, 'VERIFY(12)', 12, 'read', sbc.verify),
  c(Op.WRITE_AND_VERIFY_10, 'WRITE AND VERIFY(10)', 10, 'write', sbc.writeAndVerify),
  c(Op.WRITE_AND_VERIFY_12, 'WRITE AND VERIFY(12)', 12, 'write', sbc.writeAndVerify),
  c(Op.WRITE_AND_VERIFY_16, 'WRITE AND VERIFY(16)', 16, 'write', sbc.writeAndVerify),
  c(Op.PRE_FETCH_10, 'PRE-FETCH(10)', 10, 'read', sbc.preFetch),
  c(Op.PRE_FETCH_16, 'PRE-FETCH(16)', 16, 'read', sbc.preFetch),
  c(Op.ORWRITE_16, 'ORWRITE(16)', 16, 'write', sbc.orWrite),
  // READ DEFECT DATA conflicts with a reservation where a write does (SPC-2 table B.2, SBC-3).
  c(Op.READ_DEFECT_DATA_10, 'READ DEFECT DATA(10)', 10, 'write', readDefectData),
  c(Op.READ_DEFECT_DATA_12, 'READ DEFECT DATA(12)', 12, 'write', readDefectData),
  c(Op.THIRD_PARTY_COPY_OUT, 'EXTENDED COPY(LID1)', 16, null, (x) => x.array.copyManager.extendedCopy(x, false), { sa: TpcOutSa.EXTENDED_COPY_LID1, tpc: true }),
  c(Op.THIRD_PARTY_COPY_OUT, 'EXTENDED COPY(LID4)', 16, null, (x) => x.array.copyManager.extendedCopy(x, true), { sa: TpcOutSa.EXTENDED_COPY_LID4, tpc: true }),
  c(Op.THIRD_PARTY_COPY_OUT, 'POPULATE TOKEN', 16, null, (x) => populateToken(x, x.array.copyManager, x.array.tokens), { sa: TpcOutSa.POPULATE_TOKEN, tpc: true }),
  c(Op.THIRD_PARTY_COPY_OUT, 'WRITE USING TOKEN', 16, null, (x) => writeUsingToken(x, x.array.copyManager, x.array.tokens), { sa: TpcOutSa.WRITE_USING_TOKEN, tpc: true }),
  c(Op.THIRD_PARTY_COPY_OUT, 'COPY OPERATION ABORT', 16, null, (x) => x.array.copyManager.copyOperationAbort(x), { sa: TpcOutSa.COPY_OPERATION_ABORT, tpc: true }),
  ...[TpcInSa.RECEIVE_COPY_STATUS_LID1, TpcInSa.RECEIVE_COPY_OPERATING_PARAMETERS, TpcInSa.RECEIVE_COPY_FAILURE_DETAILS_LID1, TpcInSa.RECEIVE_COPY_STATUS_LID4].map((sa) =>
    c(Op.THIRD_PARTY_COPY_IN, `RECEIVE COPY RESULTS sa ${sa}`, 16, null, (x) => x.array.copyManager.receiveCopyResults(x, sa), { sa, tpc: true }),
  ),
  c(Op.THIRD_PARTY_COPY_IN, 'RECEIVE ROD TOKEN INFORMATION', 16, null, (x) => receiveRodTokenInformation(x, x.array.copyManager), { sa: TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, tpc: true }),
  c(Op.THIRD_PARTY_COPY_IN, 'REPORT ALL ROD TOKENS', 16, null, (x) => reportAllRodTokens(x, x.array.tokens), { sa: TpcInSa.REPORT_ALL_ROD_TOKENS, tpc: true }),
];

/** Opcodes whose CDB carries a service action (byte 1, bits 4-0). */
export const SA_OPCODES = new Set(COMMANDS.filter((d) => d.sa !== undefined).map((d) => d.op));

export function commandsOf(tpc: boolean): CommandDef[] {
  return COMMANDS.filter((d) => tpc || !d.tpc);
}

/** The CDB usage data of a command for REPORT SUPPORTED OPERATION CODES one-command formats: the bits a CDB may set. */
function usageData(d: CommandDef): Uint8Array {
  const u = new Uint8Array(d.cdbLength).fill(0xff);
  u[0] = d.op;
  if (d.sa !== undefined) u[1] = 0x1f;
  u[d.cdbLength - 1] = 0x07; // CONTROL: NACA is not supported (SAM-5 5.2)
  return u;
}

/** REPORT SUPPORTED OPERATION CODES (SPC-4 6.35). */
function reportSupportedOperationCodes(x: CmdContext): Uint8Array {
  const options = x.cdb[2]! & 0x07;
  const rctd = (x.cdb[2]! & 0x80) !== 0;
  const reqOp = x.cdb[3]!;
  const reqSa = be16(x.cdb, 4);
  const alloc = be32(x.cdb, 6);
  const table = commandsOf(x.array.copyManagerEnabled);
  const timeouts = rctd ? 12 : 0;
  let d: Uint8Array;
  if (options === 0) {
    d = new Uint8Array(4 + table.length * (8 + timeouts));
    putBe32(d, 0, d.length - 4);
    table.forEach((t, i) => {
      const o = 4 + i * (8 + timeouts);
      d[o] = t.op;
      putBe16(d, o + 2, t.sa ?? 0);
      d[o + 5] = (t.sa !== undefined ? 0x01 : 0) | (rctd ? 0x02 : 0); // SERVACTV, CTDP
      putBe16(d, o + 6, t.cdbLength);
      if (rctd) putBe16(d, o + 8, 0x0a);
    });
  } else if (options >= 1 && options <= 3) {
    if (options === 1 && SA_OPCODES.has(reqOp)) throw invalidFieldInCdb(2, 0);
    if (options === 2 && !SA_OPCODES.has(reqOp)) throw invalidFieldInCdb(2, 0);
    const t = table.find((e) => e.op === reqOp && (options === 1 || (options === 3 && !SA_OPCODES.has(reqOp)) ? true : e.sa === reqSa));
    if (!t) {
      d = new Uint8Array(4);
      d[1] = 0x01; // SUPPORT 001b: not supported
    } else {
      const usage = usageData(t);
      d = new Uint8Array(4 + usage.length + timeouts);
      d[1] = 0x03 | (rctd ? 0x80 : 0); // SUPPORT 011b: supported as the standard says
      putBe16(d, 2, usage.length);
      d.set(usage, 4);
      if (rctd) putBe16(d, 4 + usage.length, 0x0a);
    }
  } else {
    throw invalidFieldInCdb(2, 0);
  }
  return d.subarray(0, Math.min(d.length, alloc));
}
