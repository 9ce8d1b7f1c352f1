/**
 * Host-side builders: CDBs and parameter lists as an initiator (the sd driver, the CLI, tests,
 * sg3_utils/ddpt) sends them. Same layouts as the device parses (constants.ts), built with DataView.
 */
import { Lid1, Lid4, Op, Rod, TpcInSa, TpcOutSa, MaintInSa, SaIn16, Token, XcopyDesc, Desig } from './constants.js';
import { concatBytes, dataView, putBe16, putBe32, putBe64 } from '../../src/core/util/bytes.js';

export function cdb6(op: number, b: number[] = []): Uint8Array {
  const c = new Uint8Array(6);
  c[0] = op;
  b.forEach((v, i) => (c[1 + i] = v));
  return c;
}

export const testUnitReadyCdb = (): Uint8Array => cdb6(Op.TEST_UNIT_READY);

export function inquiryCdb(page: number | null, alloc = 0xff): Uint8Array {
  const c = new Uint8Array(6);
  c[0] = Op.INQUIRY;
  if (page !== null) {
    c[1] = 1;
    c[2] = page;
  }
  putBe16(c, 3, alloc);
  return c;
}

export function readCapacity16Cdb(alloc = 32): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = Op.SERVICE_ACTION_IN_16;
  c[1] = SaIn16.READ_CAPACITY_16;
  putBe32(c, 10, alloc);
  return c;
}

export function readCapacity10Cdb(): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = Op.READ_CAPACITY_10;
  return c;
}

export function rw16Cdb(write: boolean, lba: number, blocks: number): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = write ? Op.WRITE_16 : Op.READ_16;
  putBe64(c, 2, lba);
  putBe32(c, 10, blocks);
  return c;
}

export function rw10Cdb(write: boolean, lba: number, blocks: number): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = write ? Op.WRITE_10 : Op.READ_10;
  putBe32(c, 2, lba);
  putBe16(c, 7, blocks);
  return c;
}

export function syncCache10Cdb(): Uint8Array {
  return new Uint8Array([Op.SYNCHRONIZE_CACHE_10, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
}

export function writeSame16Cdb(lba: number, blocks: number, unmap: boolean, ndob = false): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = Op.WRITE_SAME_16;
  c[1] = (unmap ? 0x08 : 0) | (ndob ? 0x01 : 0);
  putBe64(c, 2, lba);
  putBe32(c, 10, blocks);
  return c;
}

/** UNMAP CDB and its parameter list (SBC-3 5.28). */
export function unmap(ranges: readonly { lba: number; blocks: number }[]): { cdb: Uint8Array; data: Uint8Array } {
  const data = new Uint8Array(8 + 16 * ranges.length);
  putBe16(data, 0, data.length - 2);
  putBe16(data, 2, 16 * ranges.length);
  ranges.forEach((r, i) => {
    putBe64(data, 8 + 16 * i, r.lba);
    putBe32(data, 16 + 16 * i, r.blocks);
  });
  const cdb = new Uint8Array(10);
  cdb[0] = Op.UNMAP;
  putBe16(cdb, 7, data.length);
  return { cdb, data };
}

export function reportLunsCdb(alloc = 4096): Uint8Array {
  const c = new Uint8Array(12);
  c[0] = Op.REPORT_LUNS;
  putBe32(c, 6, alloc);
  return c;
}

/** REPORT SUPPORTED OPERATION CODES, one command (options 1 or 2) or all (0). */
export function rsocCdb(op?: number, sa?: number, alloc = 8192): Uint8Array {
  const c = new Uint8Array(12);
  c[0] = Op.MAINTENANCE_IN;
  c[1] = MaintInSa.REPORT_SUPPORTED_OPERATION_CODES;
  if (op !== undefined) {
    c[2] = sa !== undefined ? 2 : 1;
    c[3] = op;
    putBe16(c, 4, sa ?? 0);
  }
  putBe32(c, 6, alloc);
  return c;
}

export function tpcOutCdb(sa: number, paramLength: number, listId = 0): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = Op.THIRD_PARTY_COPY_OUT;
  c[1] = sa;
  if (sa === TpcOutSa.POPULATE_TOKEN || sa === TpcOutSa.WRITE_USING_TOKEN) putBe32(c, 6, listId);
  if (sa === TpcOutSa.COPY_OPERATION_ABORT) putBe32(c, 2, listId);
  putBe32(c, 10, paramLength);
  return c;
}

/** PERSISTENT RESERVE OUT parameter list length for every service action but REGISTER AND MOVE (SPC-4 6.16.3). */
export const PR_OUT_PARAMETER_LENGTH = 24;

/**
 * PERSISTENT RESERVE OUT (SPC-4 6.16): CDB (byte 1 service action, byte 2 scope 0 and type,
 * bytes 5-8 parameter list length) and its basic parameter list (bytes 0-7 RESERVATION KEY,
 * 8-15 SERVICE ACTION RESERVATION KEY).
 */
export function prOut(sa: number, type: number, key: bigint, saKey: bigint): { cdb: Uint8Array; data: Uint8Array } {
  const cdb = new Uint8Array(10);
  cdb[0] = Op.PERSISTENT_RESERVE_OUT;
  cdb[1] = sa;
  cdb[2] = type & 0x0f;
  putBe32(cdb, 5, PR_OUT_PARAMETER_LENGTH);
  const data = new Uint8Array(PR_OUT_PARAMETER_LENGTH);
  dataView(data).setBigUint64(0, key);
  dataView(data).setBigUint64(8, saKey);
  return { cdb, data };
}

/** RECEIVE COPY RESULTS / RECEIVE ROD TOKEN INFORMATION / REPORT ALL ROD TOKENS. */
export function tpcInCdb(sa: number, listId = 0, alloc = 4096): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = Op.THIRD_PARTY_COPY_IN;
  c[1] = sa;
  if (sa === TpcInSa.RECEIVE_COPY_STATUS_LID1 || sa === TpcInSa.RECEIVE_COPY_FAILURE_DETAILS_LID1 || sa === TpcInSa.RECEIVE_COPY_DATA_LID1) c[2] = listId & 0xff;
  else putBe32(c, 2, listId);
  putBe32(c, 10, alloc);
  return c;
}

/** An identification CSCD descriptor (E4h) naming an LU by its NAA designator (SPC-4 6.4.5.2.4). */
export function e4Descriptor(naa: Uint8Array, blockLength: number): Uint8Array {
  const d = new Uint8Array(XcopyDesc.CSCD_LENGTH);
  d[0] = XcopyDesc.CSCD_IDENTIFICATION;
  d[4] = Desig.CODE_SET_BINARY;
  d[5] = (Desig.ASSOC_LU << 4) | Desig.TYPE_NAA;
  d[7] = naa.length;
  d.set(naa, 8);
  d[29] = (blockLength >> 16) & 0xff;
  d[30] = (blockLength >> 8) & 0xff;
  d[31] = blockLength & 0xff;
  return d;
}

export interface B2BSegment {
  readonly src: number;
  readonly dst: number;
  readonly blocks: number;
  readonly srcLba: number;
  readonly dstLba: number;
  readonly dc?: boolean;
}

/** A block → block segment descriptor (02h, SPC-4 6.4.6.5). */
export function b2bSegment(s: B2BSegment): Uint8Array {
  const d = new Uint8Array(XcopyDesc.SEG_B2B_LENGTH);
  d[0] = XcopyDesc.SEG_BLOCK_TO_BLOCK;
  d[1] = s.dc ? 0x02 : 0;
  putBe16(d, 2, XcopyDesc.SEG_B2B_DESCRIPTOR_LENGTH);
  putBe16(d, 4, s.src);
  putBe16(d, 6, s.dst);
  putBe16(d, 10, s.blocks);
  putBe64(d, 12, s.srcLba);
  putBe64(d, 20, s.dstLba);
  return d;
}

/** NUMBER OF BLOCKS of a block → block segment descriptor is 16 bits wide (SPC-4 6.4.6.5). */
export const B2B_MAX_BLOCKS = 0xffff;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * One block → block copy as consecutive segment descriptors, as sg_xcopy/ddpt split a copy: each
 * moves at most `maxBlocks` source blocks (the 16-bit field, or fewer for the copy manager's
 * MAXIMUM SEGMENT LENGTH) and a whole number of destination blocks (the device refuses a segment
 * that ends inside one). Nothing is truncated to fit a field.
 */
export function b2bSegmentsSplit(s: B2BSegment, blockLengths: { src: number; dst: number }, maxBlocks = B2B_MAX_BLOCKS): Uint8Array[] {
  const per = b2bBlocksPerSegment(blockLengths, maxBlocks);
  if (per === 0) throw new RangeError('a segment cannot hold one destination block');
  const out: Uint8Array[] = [];
  let done = 0;
  do {
    const n = Math.min(per, s.blocks - done);
    const dstDone = (done * blockLengths.src) / blockLengths.dst;
    out.push(b2bSegment({ ...s, srcLba: s.srcLba + done, dstLba: s.dstLba + dstDone, blocks: n }));
    done += n;
  } while (done < s.blocks);
  return out;
}

/** Source blocks one split segment moves: a whole number of destination blocks, at most maxBlocks (0: none fits). */
export function b2bBlocksPerSegment(blockLengths: { src: number; dst: number }, maxBlocks = B2B_MAX_BLOCKS): number {
  const unit = blockLengths.dst / gcd(blockLengths.src, blockLengths.dst);
  return Math.floor(Math.min(maxBlocks, B2B_MAX_BLOCKS) / unit) * unit;
}

/** How many descriptors b2bSegmentsSplit makes, without making them. */
export function b2bSegmentCount(blocks: number, blockLengths: { src: number; dst: number }, maxBlocks = B2B_MAX_BLOCKS): number {
  const per = b2bBlocksPerSegment(blockLengths, maxBlocks);
  return per === 0 ? Infinity : Math.max(1, Math.ceil(blocks / per));
}

export interface XcopyList {
  readonly listId?: number;
  /** LIST ID USAGE (default 00b: hold, so RECEIVE COPY RESULTS can find it). */
  readonly usage?: number;
  readonly priority?: number;
  readonly cscds: readonly Uint8Array[];
  readonly segments: readonly Uint8Array[];
  /** Bytes of zero padding after the segment descriptors, counted in the segment list length. */
  readonly segmentPad?: number;
  readonly immed?: boolean;
}

const concat = concatBytes;

/** An EXTENDED COPY(LID1) parameter list (SPC-4 6.5 table 172). */
export function xcopyLid1(l: XcopyList): Uint8Array {
  const cscd = concat(l.cscds);
  const seg = concat([...l.segments, new Uint8Array(l.segmentPad ?? 0)]);
  const h = new Uint8Array(Lid1.HEADER_LENGTH);
  h[Lid1.OFF_LIST_ID] = l.listId ?? 0;
  h[Lid1.OFF_FLAGS] = ((l.usage ?? 0) << 3) | (l.priority ?? 0);
  putBe16(h, Lid1.OFF_CSCD_LIST_LENGTH, cscd.length);
  putBe32(h, Lid1.OFF_SEGMENT_LIST_LENGTH, seg.length);
  return concat([h, cscd, seg]);
}

/** An EXTENDED COPY(LID4) parameter list (SPC-4 6.4 table 126). */
export function xcopyLid4(l: XcopyList): Uint8Array {
  const cscd = concat(l.cscds);
  const seg = concat([...l.segments, new Uint8Array(l.segmentPad ?? 0)]);
  const h = new Uint8Array(Lid4.HEADER_LENGTH);
  h[Lid4.OFF_LIST_FORMAT] = Lid4.LIST_FORMAT;
  h[Lid4.OFF_FLAGS] = ((l.usage ?? 0) << 3) | (l.priority ?? 0);
  if (l.immed) h[Lid4.OFF_FLAGS2] = 0x01;
  putBe32(h, Lid4.OFF_LIST_ID, l.listId ?? 0);
  putBe16(h, Lid4.OFF_CSCD_LIST_LENGTH, cscd.length);
  putBe16(h, Lid4.OFF_SEGMENT_LIST_LENGTH, seg.length);
  return concat([h, cscd, seg]);
}

/** POPULATE TOKEN parameter list (SBC-3 5.9 table 43). */
export function populateTokenList(ranges: readonly { lba: number; blocks: number }[], o: { timeout?: number; rodType?: number } = {}): Uint8Array {
  const p = new Uint8Array(Token.PT_HEADER_LENGTH + Token.RANGE_DESCRIPTOR_LENGTH * ranges.length);
  putBe16(p, 0, p.length - 2);
  if (o.rodType !== undefined) {
    p[Token.PT_OFF_FLAGS] = 0x02; // RTV
    putBe32(p, Token.PT_OFF_ROD_TYPE, o.rodType);
  }
  putBe32(p, Token.PT_OFF_INACTIVITY_TIMEOUT, o.timeout ?? 0);
  putBe16(p, Token.PT_OFF_RANGE_LIST_LENGTH, Token.RANGE_DESCRIPTOR_LENGTH * ranges.length);
  ranges.forEach((r, i) => {
    putBe64(p, Token.PT_HEADER_LENGTH + 16 * i, r.lba);
    putBe32(p, Token.PT_HEADER_LENGTH + 16 * i + 8, r.blocks);
  });
  return p;
}

/** WRITE USING TOKEN parameter list (SBC-3 5.35 table 121). */
export function writeUsingTokenList(token: Uint8Array, ranges: readonly { lba: number; blocks: number }[], o: { offset?: number; delTkn?: boolean } = {}): Uint8Array {
  const p = new Uint8Array(Token.WUT_HEADER_LENGTH + Token.RANGE_DESCRIPTOR_LENGTH * ranges.length);
  putBe16(p, 0, p.length - 2);
  if (o.delTkn) p[Token.WUT_OFF_FLAGS] = 0x02;
  putBe64(p, Token.WUT_OFF_OFFSET_INTO_ROD, o.offset ?? 0);
  p.set(token.subarray(0, Rod.TOKEN_LENGTH), Token.WUT_OFF_TOKEN);
  putBe16(p, Token.WUT_OFF_RANGE_LIST_LENGTH, Token.RANGE_DESCRIPTOR_LENGTH * ranges.length);
  ranges.forEach((r, i) => {
    putBe64(p, Token.WUT_HEADER_LENGTH + 16 * i, r.lba);
    putBe32(p, Token.WUT_HEADER_LENGTH + 16 * i + 8, r.blocks);
  });
  return p;
}

/** The block device zero ROD token (SBC-3 4.26.4; ddpt builds it this way). */
export function zeroRodToken(): Uint8Array {
  const t = new Uint8Array(Rod.TOKEN_LENGTH);
  putBe32(t, 0, Rod.TYPE_BLOCK_ZERO);
  putBe16(t, 6, Rod.TOKEN_LENGTH_FIELD);
  return t;
}

/** The ROD token in a RECEIVE ROD TOKEN INFORMATION response, or null. */
export function tokenFromRrti(data: Uint8Array): Uint8Array | null {
  if (data.length < 32) return null;
  const senseLen = data[13]!;
  const at = 32 + senseLen;
  if (data.length < at + 6 + Rod.TOKEN_LENGTH) return null;
  return data.slice(at + 6, at + 6 + Rod.TOKEN_LENGTH);
}
