/**
 * The copy manager of an array (SPC-4 5.17): EXTENDED COPY (LID1 and LID4) with identification
 * CSCD descriptors (E4h) and block → block segment descriptors (02h), RECEIVE COPY RESULTS
 * (operating parameters, copy status LID1/LID4, failure details) and COPY OPERATION ABORT.
 * Limits are in tpc-limits.ts. As in FreeBSD CTL, a parameter list is parsed completely before
 * anything moves; then segments run in order, each in chunks, so a failing segment leaves the
 * earlier ones copied and reports COPY ABORTED with its number and residual.
 *
 * Reading of the segment descriptor list (pinned by a test): the header's lengths define the
 * lists and the parameter list length may exceed their sum (bytes after the lists are not
 * read); a parameter list shorter than header + lists is truncated (PARAMETER LIST LENGTH
 * ERROR, SPC-4 6.4.1). Inside the segment list each descriptor is 4 + DESCRIPTOR LENGTH bytes
 * (SPC-4 6.4.6.1). Trailing bytes of the list that are all zero are padding and are ignored (the
 * SNIA paper pads a 28-byte descriptor to 32; SBC-3 treats an incomplete trailing range
 * descriptor the same way); any other remainder that does not hold a whole descriptor is a
 * truncated descriptor: PARAMETER LIST LENGTH ERROR, nothing copied.
 */
import {
  ASC, CopyStatus, copyInProgress, Desig, Lid1, Lid4, ListIdUsage, SenseKey, Status, TpcInSa, TpcOutSa, XcopyDesc,
} from './constants.js';
import { be16, be24, be32, be64, putBe16, putBe32, putBe64 } from '../../src/core/util/bytes.js';
import {
  ScsiCheck, failed, illegal, invalidFieldInCdb, invalidFieldInParam, paramListLengthError, reservationConflict,
} from './sense.js';
import type { CmdContext } from './context.js';
import type { LogicalUnit } from './lu.js';
import { TPC_LIMITS } from './tpc-limits.js';
import { mediaMove, mediaOperation, type MediaRun } from './media.js';
import type { ScsiArray } from './array.js';
import { nexusReaches } from './copy-access.js';
import { ListTable, type ListRecord } from './copy-lists.js';

/** A parsed identification CSCD descriptor (SPC-4 6.4.5.2.4). */
export interface Cscd {
  readonly offset: number;
  readonly codeSet: number;
  readonly association: number;
  readonly designatorType: number;
  readonly designator: Uint8Array;
  readonly blockLength: number;
}

/** A parsed block → block segment descriptor (SPC-4 6.4.6.5). */
export interface Segment {
  readonly offset: number;
  readonly dc: boolean;
  readonly src: number;
  readonly dst: number;
  readonly blocks: number;
  readonly srcLba: number;
  readonly dstLba: number;
}

export interface ParsedList {
  readonly lid4: boolean;
  readonly listId: number;
  readonly usage: number;
  readonly priority: number;
  readonly immed: boolean;
  readonly gSense: boolean;
  readonly cscds: readonly Cscd[];
  readonly segments: readonly Segment[];
}

/** Parses an EXTENDED COPY parameter list; throws the standard's sense for anything wrong. */
export function parseXcopyList(p: Uint8Array, lid4: boolean): ParsedList {
  const H = lid4 ? Lid4.HEADER_LENGTH : Lid1.HEADER_LENGTH;
  if (p.length < H) throw paramListLengthError();
  if (p.length > H + TPC_LIMITS.maxDescriptorListLength + TPC_LIMITS.maxInlineData) throw paramListLengthError();
  let listId: number, flags: number, cscdLen: number, segLen: number, inlineLen: number;
  let immed = false;
  let gSense = false;
  if (lid4) {
    if (p[Lid4.OFF_LIST_FORMAT] !== Lid4.LIST_FORMAT) throw invalidFieldInParam(Lid4.OFF_LIST_FORMAT);
    flags = p[Lid4.OFF_FLAGS]!;
    immed = (p[Lid4.OFF_FLAGS2]! & 0x01) !== 0;
    gSense = (p[Lid4.OFF_FLAGS2]! & 0x02) !== 0;
    listId = be32(p, Lid4.OFF_LIST_ID);
    cscdLen = be16(p, Lid4.OFF_CSCD_LIST_LENGTH);
    segLen = be16(p, Lid4.OFF_SEGMENT_LIST_LENGTH);
    inlineLen = be16(p, Lid4.OFF_INLINE_LENGTH);
  } else {
    listId = p[Lid1.OFF_LIST_ID]!;
    flags = p[Lid1.OFF_FLAGS]!;
    cscdLen = be16(p, Lid1.OFF_CSCD_LIST_LENGTH);
    segLen = be32(p, Lid1.OFF_SEGMENT_LIST_LENGTH);
    inlineLen = be32(p, Lid1.OFF_INLINE_LENGTH);
  }
  const usage = (flags >> 3) & 0x3;
  const priority = flags & 0x7;
  const flagsOff = lid4 ? Lid4.OFF_FLAGS : Lid1.OFF_FLAGS;
  // Counts first (SPC-4 6.4.3.4, 6.4.3.5), as libiscsi's DescrLimits expects.
  if (cscdLen / XcopyDesc.CSCD_LENGTH > TPC_LIMITS.maxCscdDescriptors) throw illegal(ASC.TOO_MANY_TARGET_DESCRIPTORS);
  if (Math.floor(segLen / XcopyDesc.SEG_B2B_LENGTH) > TPC_LIMITS.maxSegmentDescriptors) throw illegal(ASC.TOO_MANY_SEGMENT_DESCRIPTORS);
  if (cscdLen + segLen > TPC_LIMITS.maxDescriptorListLength) throw paramListLengthError();
  if (inlineLen > TPC_LIMITS.maxInlineData) throw invalidFieldInParam(lid4 ? Lid4.OFF_INLINE_LENGTH : Lid1.OFF_INLINE_LENGTH);
  if (p.length < H + cscdLen + segLen + inlineLen) throw paramListLengthError();
  if (usage === 0b01) throw invalidFieldInParam(flagsOff, 3);
  if (usage === ListIdUsage.NONE && listId !== 0) throw invalidFieldInParam(lid4 ? Lid4.OFF_LIST_ID : Lid1.OFF_LIST_ID);
  if (lid4 && immed && (gSense || usage === ListIdUsage.NONE)) throw invalidFieldInParam(Lid4.OFF_FLAGS2);
  if (cscdLen % XcopyDesc.CSCD_LENGTH !== 0) throw paramListLengthError();

  const cscds: Cscd[] = [];
  for (let off = H; off < H + cscdLen; off += XcopyDesc.CSCD_LENGTH) {
    if (p[off] !== XcopyDesc.CSCD_IDENTIFICATION) throw illegal(ASC.UNSUPPORTED_TARGET_DESCRIPTOR_TYPE, { field: off, cd: false });
    if (p[off + 1]! & 0x20) throw invalidFieldInParam(off + 1, 5); // NUL: null CSCDs are not supported
    if ((p[off + 1]! & 0x1f) !== 0) throw invalidFieldInParam(off + 1); // peripheral device type: block only
    const dlen = p[off + 7]!;
    if (dlen === 0 || dlen > 20) throw invalidFieldInParam(off + 7);
    cscds.push({
      offset: off,
      codeSet: p[off + 4]! & 0x0f,
      association: (p[off + 5]! >> 4) & 0x3,
      designatorType: p[off + 5]! & 0x0f,
      designator: p.slice(off + 8, off + 8 + dlen),
      blockLength: be24(p, off + 29),
    });
  }

  const segments: Segment[] = [];
  const base = H + cscdLen;
  let off = 0;
  while (off < segLen) {
    const abs = base + off;
    const remaining = segLen - off;
    if (p.subarray(abs, base + segLen).every((b) => b === 0)) break; // trailing zero padding
    if (remaining < XcopyDesc.SEG_HEADER_LENGTH) throw paramListLengthError();
    const type = p[abs]!;
    const total = XcopyDesc.SEG_HEADER_LENGTH + be16(p, abs + 2);
    if (total > remaining) throw paramListLengthError();
    if (type !== XcopyDesc.SEG_BLOCK_TO_BLOCK) throw illegal(ASC.UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE, { field: abs, cd: false });
    if (segments.length >= TPC_LIMITS.maxSegmentDescriptors) throw illegal(ASC.TOO_MANY_SEGMENT_DESCRIPTORS);
    if (be16(p, abs + 2) !== XcopyDesc.SEG_B2B_DESCRIPTOR_LENGTH) throw invalidFieldInParam(abs + 2);
    const src = be16(p, abs + 4);
    const dst = be16(p, abs + 6);
    // An index past the CSCD list names no copy target: COPY ABORTED, COPY TARGET DEVICE NOT
    // REACHABLE (the answer libiscsi's ExtendedCopy.ValidSegDescr accepts; FreeBSD CTL likewise
    // aborts the copy when a CSCD cannot be resolved).
    if (src >= cscds.length) throw new ScsiCheck(SenseKey.COPY_ABORTED, ASC.COPY_TARGET_DEVICE_NOT_REACHABLE, { csi: segments.length, field: abs + 4, cd: false });
    if (dst >= cscds.length) throw new ScsiCheck(SenseKey.COPY_ABORTED, ASC.COPY_TARGET_DEVICE_NOT_REACHABLE, { csi: segments.length, field: abs + 6, cd: false });
    segments.push({
      offset: abs,
      dc: (p[abs + 1]! & 0x02) !== 0,
      src,
      dst,
      blocks: be16(p, abs + 10),
      srcLba: be64(p, abs + 12),
      dstLba: be64(p, abs + 20),
    });
    off += total;
  }
  return { lid4, listId, usage, priority, immed, gSense, cscds, segments };
}

/** COPY ABORTED sense for a failing segment (SPC-4 5.17.7.3; CTL tpc_process_b2b). */
function copyAborted(code: typeof ASC.COPY_TARGET_DEVICE_NOT_REACHABLE, seg: Segment, index: number, residual: number, field: number): ScsiCheck {
  return new ScsiCheck(SenseKey.COPY_ABORTED, code, { information: residual, csi: index, field, cd: false });
}

export class CopyManager {
  /** Records of copy operations, bounded (copy-lists.ts). */
  readonly lists = new ListTable();

  constructor(private readonly array: ScsiArray) {}

  /**
   * I_T nexus loss (SAM-5 6.3.4; an iSCSI session ending): the copy results held for that
   * initiator are discarded, as the copy manager holds them per I_T nexus (SPC-4 5.17.4.3).
   */
  nexusLoss(initiator: string): void {
    this.lists.dropNexus(initiator);
  }

  private key(c: CmdContext, space: 1 | 4, listId: number): string {
    return `${c.initiator}|${c.lun}|${space}|${listId}`;
  }

  find(c: CmdContext, space: 1 | 4, listId: number): ListRecord | undefined {
    return this.lists.get(this.key(c, space, listId));
  }

  /** Records an operation that ended inside its command (POPULATE TOKEN); OPERATION IN PROGRESS if its identifier is held. */
  recordEnded(c: CmdContext, space: 1 | 4, listId: number, rec: ListRecord): void {
    this.lists.add(c.initiator, this.key(c, space, listId), rec);
  }

  /**
   * Runs a copy operation that holds a list identifier (SPC-4 5.17.4.3): its record is taken
   * first (OPERATION IN PROGRESS, INSUFFICIENT RESOURCES: refused, nothing moves), the
   * operation is announced to the runner (media.ts; on the clock it may go on in the
   * background), then `body` runs. However the command ends, the record ends with it: GOOD is
   * completed (01h); a CHECK CONDITION, another status (RESERVATION CONFLICT) or an exception
   * is completed with error (02h) with that status and sense; a program stopped from outside
   * (COPY OPERATION ABORT or I_T nexus loss on the clock) is aborted (60h). `errorsInStatus`:
   * the command completes GOOD and the error is reported through the record alone (IMMED).
   */
  *operation<T>(c: CmdContext, space: 1 | 4, listId: number, rec: ListRecord, immed: boolean, errorsInStatus: boolean, body: MediaRun<T>): MediaRun<T | undefined> {
    const entry = this.lists.open(c.initiator, this.key(c, space, listId), rec);
    let started = false;
    try {
      yield* mediaOperation(rec, immed);
      started = true;
    } finally {
      if (!started) this.lists.drop(entry);
    }
    try {
      const v = yield* body;
      rec.status = CopyStatus.COMPLETED_GOOD;
      return v;
    } catch (err) {
      const r = failed(err);
      rec.status = CopyStatus.COMPLETED_ERROR;
      rec.commandStatus = r.status;
      rec.sense = r.senseData.length ? r.senseData : null;
      if (errorsInStatus) return undefined;
      throw err;
    } finally {
      if (copyInProgress(rec.status)) rec.status = CopyStatus.LID4_ABORTED;
      rec.estimatedDelayMs = undefined;
      this.lists.finish(entry);
    }
  }

  /** EXTENDED COPY (LID1) and (LID4) (SPC-4 6.4, 6.5). */
  *extendedCopy(c: CmdContext, lid4: boolean): MediaRun<void> {
    const len = be32(c.cdb, 10);
    if (len === 0) return; // SPC-4 6.4.1: not an error, nothing transferred (a discovery method)
    if (c.dataOut.length < len) throw paramListLengthError();
    const list = parseXcopyList(c.dataOut.subarray(0, len), lid4);

    // Resolve the CSCDs to LUs this nexus may address (copy-access.ts); the checks of every
    // segment run in copySegments before anything moves (the paper's section 3).
    const lus = list.cscds.map((d) => this.resolve(c, d));
    if (list.usage === ListIdUsage.NONE) return yield* this.copySegments(c, list, lus, null);
    const rec: ListRecord = {
      sa: lid4 ? TpcOutSa.EXTENDED_COPY_LID4 : TpcOutSa.EXTENDED_COPY_LID1,
      status: CopyStatus.LID4_IN_PROGRESS_FOREGROUND,
      commandStatus: Status.GOOD,
      segmentsProcessed: 0,
      transferCount: 0,
      units: 'bytes',
      sense: null,
    };
    // With IMMED (LID4) the error is reported through RECEIVE COPY STATUS; on a timed array the
    // operation runs on the clock, in the background.
    const immed = lid4 && list.immed;
    yield* this.operation(c, lid4 ? 4 : 1, list.listId, rec, immed, immed, this.copySegments(c, list, lus, rec));
  }

  /** The checks of every segment, then the segments in order; `rec` counts what moved. */
  private *copySegments(c: CmdContext, list: ParsedList, lus: readonly (LogicalUnit | null)[], rec: ListRecord | null): MediaRun<void> {
    this.preflight(c, list, lus);
    for (const [i, seg] of list.segments.entries()) {
      const moved = yield* this.runSegment(seg, i, lus);
      if (rec) {
        rec.transferCount += moved;
        rec.segmentsProcessed = i + 1;
      }
    }
  }

  /**
   * Every segment's CSCDs resolved, readable/writable by the initiator and free of another's
   * reservation, before anything moves: refused here means nothing was transferred. An
   * unresolved CSCD is COPY ABORTED 0Dh/02h (segment number, field pointer on the index).
   */
  private preflight(c: CmdContext, list: ParsedList, lus: readonly (LogicalUnit | null)[]): void {
    for (const [i, seg] of list.segments.entries()) {
      for (const [idx, access, field] of [[seg.src, 'read', 4], [seg.dst, 'write', 6]] as const) {
        const lu = lus[idx];
        if (!lu) throw copyAborted(ASC.COPY_TARGET_DEVICE_NOT_REACHABLE, seg, i, seg.blocks, seg.offset + field);
        if (!this.array.fabric.mayAccess(c.initiator, lu)) {
          throw illegal(ASC.ACCESS_DENIED_NO_ACCESS_RIGHTS, { field: list.cscds[idx]!.offset, cd: false });
        }
        if (lu.pr.conflicts(c.initiator, access)) throw reservationConflict();
      }
    }
  }

  /**
   * Resolves an E4 descriptor by its VPD 83h designator to an LU the requesting nexus may
   * address through its own path (copy-access.ts); null otherwise, as for an unknown designator.
   */
  private resolve(c: CmdContext, d: Cscd): LogicalUnit | null {
    if (d.association !== Desig.ASSOC_LU) return null;
    const lu = this.array.fabric.findByDesignator(d.codeSet, d.designatorType, d.designator);
    return lu && nexusReaches(c, lu) ? lu : null;
  }

  /** Runs one block → block segment; returns bytes moved or throws COPY ABORTED. */
  private *runSegment(seg: Segment, index: number, lus: readonly (LogicalUnit | null)[]): MediaRun<number> {
    const src = lus[seg.src];
    const dst = lus[seg.dst];
    if (!src) throw copyAborted(ASC.COPY_TARGET_DEVICE_NOT_REACHABLE, seg, index, seg.blocks, seg.offset + 4);
    if (!dst) throw copyAborted(ASC.COPY_TARGET_DEVICE_NOT_REACHABLE, seg, index, seg.blocks, seg.offset + 6);
    const unit = seg.dc ? dst.lbs : src.lbs;
    const bytes = seg.blocks * unit;
    if (bytes % src.lbs !== 0 || bytes % dst.lbs !== 0) {
      throw new ScsiCheck(SenseKey.COPY_ABORTED, ASC.INVALID_FIELD_IN_PARAMETER_LIST, { information: seg.blocks, csi: index, field: seg.offset + 10, cd: false });
    }
    if (bytes > TPC_LIMITS.maxSegmentBytes) throw invalidFieldInParam(seg.offset + 10);
    // A segment past an LU's end: the copy target cannot take it, COPY ABORTED 0Dh/02h with the
    // field pointer on the LBA (libiscsi's ValidSegDescr accepts COPY ABORTED with 00h/00h,
    // 08h/04h or 0Dh/02h only).
    if (!src.inRange(seg.srcLba, bytes / src.lbs)) throw copyAborted(ASC.COPY_TARGET_DEVICE_NOT_REACHABLE, seg, index, seg.blocks, seg.offset + 12);
    if (!dst.inRange(seg.dstLba, bytes / dst.lbs)) throw copyAborted(ASC.COPY_TARGET_DEVICE_NOT_REACHABLE, seg, index, seg.blocks, seg.offset + 20);
    const r = yield* mediaMove(src, seg.srcLba * src.lbs, dst, seg.dstLba * dst.lbs, bytes);
    if (r.error < 0) {
      const residual = (bytes - r.bytes) / unit;
      throw copyAborted(ASC.COPY_TARGET_DEVICE_NOT_REACHABLE, seg, index, residual, seg.offset);
    }
    return bytes;
  }

  /** RECEIVE COPY RESULTS service actions 00h, 03h, 04h, 05h (SPC-4 6.18-6.24). */
  receiveCopyResults(c: CmdContext, sa: number): Uint8Array {
    const alloc = be32(c.cdb, 10);
    const cut = (d: Uint8Array): Uint8Array => d.subarray(0, Math.min(d.length, alloc));
    switch (sa) {
      case TpcInSa.RECEIVE_COPY_OPERATING_PARAMETERS:
        return cut(operatingParameters());
      case TpcInSa.RECEIVE_COPY_STATUS_LID1: {
        const rec = this.find(c, 1, c.cdb[2]!);
        if (!rec) throw invalidFieldInCdb(2);
        const d = new Uint8Array(12);
        putBe32(d, 0, 8);
        // COPY MANAGEMENT STATUS (SPC-4 6.18 table 263, LID1): in progress, completed, or
        // completed with error, which an aborted operation is (FreeBSD CTL reports it so too).
        d[4] = copyInProgress(rec.status) ? CopyStatus.IN_PROGRESS : rec.status === CopyStatus.COMPLETED_GOOD ? CopyStatus.COMPLETED_GOOD : CopyStatus.COMPLETED_ERROR;
        putBe16(d, 5, Math.min(rec.segmentsProcessed, 0xffff));
        const [units, count] = transferUnits(rec.transferCount);
        d[7] = units;
        putBe32(d, 8, count);
        return cut(d);
      }
      case TpcInSa.RECEIVE_COPY_FAILURE_DETAILS_LID1: {
        const rec = this.find(c, 1, c.cdb[2]!);
        if (!rec) throw invalidFieldInCdb(2);
        const failedCopy = rec.status === CopyStatus.COMPLETED_ERROR;
        const sense = failedCopy && rec.sense ? rec.sense : new Uint8Array(0);
        const d = new Uint8Array(60 + sense.length);
        putBe32(d, 0, d.length - 4);
        d[56] = failedCopy ? rec.commandStatus : Status.GOOD; // COPY COMMAND STATUS (SPC-4 6.20)
        putBe16(d, 58, sense.length);
        d.set(sense, 60);
        return cut(d);
      }
      case TpcInSa.RECEIVE_COPY_STATUS_LID4: {
        const rec = this.find(c, 4, be32(c.cdb, 2));
        if (!rec || (rec.sa !== TpcOutSa.EXTENDED_COPY_LID4 && rec.sa !== TpcOutSa.EXTENDED_COPY_LID1)) throw invalidFieldInCdb(2);
        return cut(lid4Status(rec, TpcInSa.RECEIVE_COPY_STATUS_LID4, new Uint8Array(0)));
      }
      default:
        throw invalidFieldInCdb(1, 4);
    }
  }

  /**
   * COPY OPERATION ABORT (SPC-4 6.3). On an untimed array copies run to completion inside their
   * command, so a known list is already done; on a timed one a running operation stops before
   * its next step (copy-operations.ts) and its record keeps what was transferred.
   */
  copyOperationAbort(c: CmdContext): void {
    const rec = this.find(c, 4, be32(c.cdb, 2));
    if (!rec) throw invalidFieldInCdb(2);
    if (this.array.copyOps.abort(rec)) return;
    if (copyInProgress(rec.status)) rec.status = CopyStatus.LID4_ABORTED;
  }
}

/** The TRANSFER COUNT UNITS code and count for a byte count (SPC-4 6.19 table 268). */
function transferUnits(bytes: number): [number, number] {
  let units = 0;
  let n = bytes;
  while (n > 0xffffffff && units < 6) {
    n = Math.floor(n / 1024);
    units++;
  }
  return [units, n];
}

/** The header shared by RECEIVE COPY STATUS (LID4) and RECEIVE ROD TOKEN INFORMATION (SPC-4 6.24, 6.26). */
export function lid4Status(rec: ListRecord, responseSa: number, tail: Uint8Array): Uint8Array {
  const sense = rec.sense ?? new Uint8Array(0);
  const d = new Uint8Array(32 + sense.length + tail.length);
  putBe32(d, 0, d.length - 4);
  void responseSa;
  d[4] = rec.sa & 0x1f; // RESPONSE TO SERVICE ACTION: the command that started the operation (CTL does the same)
  d[5] = rec.status;
  putBe16(d, 6, 0); // OPERATION COUNTER
  // ESTIMATED STATUS UPDATE DELAY (ms): until the running operation's next step ends; FFFFFFFEh
  // once it is over (nothing will change).
  putBe32(d, 8, copyInProgress(rec.status) && rec.estimatedDelayMs !== undefined ? Math.min(rec.estimatedDelayMs, 0xfffffffd) : 0xfffffffe);
  d[12] = rec.commandStatus; // EXTENDED COPY COMPLETION STATUS: the status its command ended with
  d[13] = sense.length;
  d[14] = sense.length;
  d[15] = rec.units === 'blocks' ? 0xf1 : 0x00; // TRANSFER COUNT UNITS: logical blocks / bytes
  putBe64(d, 16, rec.transferCount);
  putBe16(d, 24, Math.min(rec.segmentsProcessed, 0xffff));
  d.set(sense, 32);
  d.set(tail, 32 + sense.length);
  return d;
}

/** RECEIVE COPY OPERATING PARAMETERS data (SPC-4 6.22 table 276). */
export function operatingParameters(): Uint8Array {
  const codes = [XcopyDesc.SEG_BLOCK_TO_BLOCK, XcopyDesc.CSCD_IDENTIFICATION];
  const d = new Uint8Array(44 + codes.length);
  putBe32(d, 0, d.length - 4);
  d[4] = 0x01; // SNLID: supports the LID4 list identifier space too
  putBe16(d, 8, TPC_LIMITS.maxCscdDescriptors);
  putBe16(d, 10, TPC_LIMITS.maxSegmentDescriptors);
  putBe32(d, 12, TPC_LIMITS.maxDescriptorListLength);
  putBe32(d, 16, TPC_LIMITS.maxSegmentBytes);
  putBe32(d, 20, TPC_LIMITS.maxInlineData);
  putBe32(d, 24, TPC_LIMITS.heldDataLimit);
  putBe32(d, 28, 0); // MAXIMUM STREAM DEVICE TRANSFER SIZE: no stream devices
  putBe16(d, 34, TPC_LIMITS.totalConcurrentCopies);
  d[36] = TPC_LIMITS.maxConcurrentCopies;
  d[37] = 9; // DATA SEGMENT GRANULARITY: 512 bytes (log2)
  d[38] = 0;
  d[39] = 0;
  d[43] = codes.length;
  d.set(codes, 44);
  return d;
}

