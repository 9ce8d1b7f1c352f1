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

/**
 * The ROD Token Features descriptor's body (SPC-4 7.8.17, type 0106h; offsets below are of the
 * whole descriptor, as the standard numbers them): byte 4 REMOTE TOKENS (0: this copy manager
 * neither makes nor takes tokens of other copy managers), 16-19 MINIMUM TOKEN LIFETIME, 20-23
 * MAXIMUM TOKEN LIFETIME, 24-27 MAXIMUM TOKEN INACTIVITY TIMEOUT (seconds), 46-47 the length of
 * the ROD device type specific features descriptors that follow: one for block devices (SBC-3
 * 6.5.5.3), with its MAXIMUM BYTES IN BLOCK ROD and OPTIMAL BYTES IN BLOCK ROD TRANSFER.
 */
export const ROD_FEATURES = {
  OFF_REMOTE_TOKENS: 4,
  OFF_MIN_LIFETIME: 16,
  OFF_MAX_LIFETIME: 20,
  OFF_MAX_INACTIVITY: 24,
  OFF_TYPE_SPECIFIC_LENGTH: 46,
  OFF_TYPE_SPECIFIC: 48,
  /** The block ROD device type specific features descriptor: 48 bytes, its length field 2Ch. */
  BLOCK_DESCRIPTOR_LENGTH: 48,
  /** Its offsets: peripheral device type, length, then the byte counts. */
  BLOCK_OFF_LENGTH: 2,
  BLOCK_OFF_MAX_BYTES: 8,
  BLOCK_OFF_OPTIMAL_BYTES: 16,
  /**
   * MAXIMUM TOKEN LIFETIME: no bound beyond the inactivity timeout (a token in use lives on), as
   * FreeBSD CTL reports it.
   */
  UNBOUNDED_LIFETIME: 0xffffffff,
} as const;

function rodTokenFeatures(): Uint8Array {
  const F = ROD_FEATURES;
  const at = (off: number): number => off - 4; // body offsets: the descriptor's type and length come first
  const b = new Uint8Array(at(F.OFF_TYPE_SPECIFIC) + F.BLOCK_DESCRIPTOR_LENGTH);
  b[at(F.OFF_REMOTE_TOKENS)] = 0;
  putBe32(b, at(F.OFF_MIN_LIFETIME), TPC_LIMITS.minInactivityTimeout);
  putBe32(b, at(F.OFF_MAX_LIFETIME), F.UNBOUNDED_LIFETIME);
  putBe32(b, at(F.OFF_MAX_INACTIVITY), TPC_LIMITS.maxInactivityTimeout);
  putBe16(b, at(F.OFF_TYPE_SPECIFIC_LENGTH), F.BLOCK_DESCRIPTOR_LENGTH);
  const blk = at(F.OFF_TYPE_SPECIFIC);
  b[blk] = 0x00; // peripheral device type: direct access block device
  putBe16(b, blk + F.BLOCK_OFF_LENGTH, F.BLOCK_DESCRIPTOR_LENGTH - 4);
  putBe64(b, blk + F.BLOCK_OFF_MAX_BYTES, TPC_LIMITS.maxTokenBytes);
  putBe64(b, blk + F.BLOCK_OFF_OPTIMAL_BYTES, TPC_LIMITS.chunkBytes);
  return b;
}

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
  // ROD Token Features (SPC-4 7.8.17, descriptor type 0106h): how long tokens live.
  parts.push(desc(TpcVpdDesc.ROD_TOKEN_FEATURES, rodTokenFeatures()));
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
