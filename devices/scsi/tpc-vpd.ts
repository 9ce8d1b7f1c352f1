/**
 * The Third-party Copy VPD page (SPC-4 7.8.17; SBC-3 6.5.5 for the block device ROD limits):
 * what the copy manager supports and its limits, the same numbers RECEIVE COPY OPERATING
 * PARAMETERS reports and the copy manager enforces (all from TPC_LIMITS).
 */
import { Op, Rod, RodTypeFlag, TpcInSa, TpcOutSa, TpcVpdDesc, XcopyDesc } from './constants.js';
import { concatBytes, putBe16, putBe32, putBe64 } from '../../src/core/util/bytes.js';
import { TPC_LIMITS } from './tpc-limits.js';
import type { LogicalUnit } from './lu.js';

function desc(type: number, body: Uint8Array): Uint8Array {
  const len = (body.length + 3) & ~3; // descriptors are padded to a multiple of 4
  const d = new Uint8Array(4 + len);
  putBe16(d, 0, type);
  putBe16(d, 2, len);
  d.set(body, 4);
  return d;
}

export const SUPPORTED_TPC_COMMANDS: readonly (readonly [number, readonly number[]])[] = [
  [Op.THIRD_PARTY_COPY_OUT, [TpcOutSa.EXTENDED_COPY_LID1, TpcOutSa.EXTENDED_COPY_LID4, TpcOutSa.POPULATE_TOKEN, TpcOutSa.WRITE_USING_TOKEN, TpcOutSa.COPY_OPERATION_ABORT]],
  [Op.THIRD_PARTY_COPY_IN, [
    TpcInSa.RECEIVE_COPY_STATUS_LID1, TpcInSa.RECEIVE_COPY_OPERATING_PARAMETERS, TpcInSa.RECEIVE_COPY_FAILURE_DETAILS_LID1,
    TpcInSa.RECEIVE_COPY_STATUS_LID4, TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, TpcInSa.REPORT_ALL_ROD_TOKENS,
  ]],
];

/** ROD type descriptor length and its flags byte (SPC-4 7.8.17.7). */
const ROD_TYPE_DESCRIPTOR_LENGTH = 64;
const ROD_TYPE_OFF_FLAGS = 4;

/**
 * The ROD types the copy manager advertises, with what it does with each: POPULATE TOKEN creates
 * point-in-time, change-vulnerable tokens (TOKEN_OUT) and WRITE USING TOKEN accepts them (TOKEN_IN);
 * the block device zero ROD token (SBC-3 4.26.4) is accepted by WRITE USING TOKEN but never made by
 * POPULATE TOKEN, so it is TOKEN_IN alone (as FreeBSD CTL advertises it).
 */
export const SUPPORTED_ROD_TYPES: readonly { readonly type: number; readonly flags: number }[] = [
  { type: Rod.TYPE_PIT_CHANGE_VULNERABLE, flags: RodTypeFlag.TOKEN_IN | RodTypeFlag.TOKEN_OUT },
  { type: Rod.TYPE_BLOCK_ZERO, flags: RodTypeFlag.TOKEN_IN },
];

export function tpcVpdPage(lu: LogicalUnit): Uint8Array {
  const parts: Uint8Array[] = [];
  // Block Device ROD Token Limits (SBC-3 6.5.5.2).
  {
    const b = new Uint8Array(0x20);
    putBe16(b, 6, TPC_LIMITS.maxRangeDescriptors);
    putBe32(b, 8, TPC_LIMITS.maxInactivityTimeout);
    putBe32(b, 12, TPC_LIMITS.defaultInactivityTimeout);
    putBe64(b, 16, Math.floor(TPC_LIMITS.maxTokenBytes / lu.lbs));
    putBe64(b, 24, Math.floor(TPC_LIMITS.chunkBytes / lu.lbs));
    parts.push(desc(TpcVpdDesc.BLOCK_DEVICE_ROD_LIMITS, b));
  }
  // Supported Commands (SPC-4 7.8.17.3).
  {
    const list: number[] = [];
    for (const [op, sas] of SUPPORTED_TPC_COMMANDS) list.push(op, sas.length, ...sas);
    parts.push(desc(TpcVpdDesc.SUPPORTED_COMMANDS, Uint8Array.from([list.length, ...list])));
  }
  // Parameter Data (SPC-4 7.8.17.4).
  {
    const b = new Uint8Array(0x1c);
    putBe16(b, 4, TPC_LIMITS.maxCscdDescriptors);
    putBe16(b, 6, TPC_LIMITS.maxSegmentDescriptors);
    putBe32(b, 8, TPC_LIMITS.maxDescriptorListLength);
    putBe32(b, 12, TPC_LIMITS.maxInlineData);
    parts.push(desc(TpcVpdDesc.PARAMETER_DATA, b));
  }
  // Supported Descriptors (SPC-4 7.8.17.5).
  parts.push(desc(TpcVpdDesc.SUPPORTED_DESCRIPTORS, Uint8Array.from([2, XcopyDesc.SEG_BLOCK_TO_BLOCK, XcopyDesc.CSCD_IDENTIFICATION])));
  // Supported CSCD Descriptor IDs (SPC-4 7.8.17.6): none beyond list indexes.
  parts.push(desc(TpcVpdDesc.SUPPORTED_CSCD_IDS, new Uint8Array(2)));
  // Supported ROD Types (SPC-4 7.8.17.7): one 64-byte ROD type descriptor per type.
  {
    const b = new Uint8Array(4 + ROD_TYPE_DESCRIPTOR_LENGTH * SUPPORTED_ROD_TYPES.length);
    putBe16(b, 2, ROD_TYPE_DESCRIPTOR_LENGTH * SUPPORTED_ROD_TYPES.length);
    SUPPORTED_ROD_TYPES.forEach(({ type, flags }, i) => {
      putBe32(b, 4 + ROD_TYPE_DESCRIPTOR_LENGTH * i, type);
      b[4 + ROD_TYPE_DESCRIPTOR_LENGTH * i + ROD_TYPE_OFF_FLAGS] = flags;
    });
    parts.push(desc(TpcVpdDesc.SUPPORTED_ROD_TYPES, b));
  }
  // General Copy Operations (SPC-4 7.8.17.9).
  {
    const b = new Uint8Array(0x20);
    putBe32(b, 0, TPC_LIMITS.totalConcurrentCopies);
    putBe32(b, 4, TPC_LIMITS.maxConcurrentCopies); // MAXIMUM IDENTIFIED CONCURRENT COPIES, as RECEIVE COPY OPERATING PARAMETERS says
    putBe32(b, 8, TPC_LIMITS.maxSegmentBytes);
    b[12] = Math.log2(lu.lbs); // DATA SEGMENT GRANULARITY (log2)
    b[13] = 0;
    parts.push(desc(TpcVpdDesc.GENERAL_COPY_OPERATIONS, b));
  }
  return concatBytes(parts);
}
