/**
 * ROD tokens (SPC-4 5.17.6, SBC-3 4.26): POPULATE TOKEN, WRITE USING TOKEN, RECEIVE ROD TOKEN
 * INFORMATION and REPORT ALL ROD TOKENS. A token is 512 bytes, most of them from
 * crypto.randomBytes, so it cannot be guessed; it is tied to the LU and ranges it was made for,
 * is point in time and change vulnerable (a write to its ranges revokes it), expires after its
 * inactivity timeout and is known only to the array whose copy manager made it. The block
 * device zero ROD token (ROD type FFFF0001h) writes zeros wherever it is used.
 *
 * Lifetime (docs/scsi.md, "ROD token lifetime"):
 * - POPULATE TOKEN's INACTIVITY TIMEOUT (SBC-3 5.9.2, parameter bytes 4-7) is how long the token
 *   may go unused: 0 takes the DEFAULT INACTIVITY TIMEOUT and more than the MAXIMUM INACTIVITY
 *   TIMEOUT is INVALID FIELD IN PARAMETER LIST, both as the Block Device ROD Token Limits
 *   descriptor of VPD 8Fh reports them (SBC-3 6.5.5.2; tpc-limits.ts: 60 s, 600 s).
 * - The time counts from the token's last use: its creation, or the end of a WRITE USING TOKEN
 *   that used it; a token in use by a copy in progress does not expire under it (as FreeBSD CTL).
 * - A token used after its inactivity timeout is refused with ILLEGAL REQUEST, INVALID TOKEN
 *   OPERATION, TOKEN EXPIRED (23h/07h); after DEL_TKN deleted it, TOKEN DELETED (23h/09h); after a
 *   write to its ranges, TOKEN REVOKED (23h/06h); a token the array never made, TOKEN UNKNOWN
 *   (23h/04h) (SPC-4 5.17.6 and the T10 ASC list). The array remembers the last
 *   TPC_LIMITS.maxEndedTokens ended tokens for this; an older one is TOKEN UNKNOWN.
 * - A LOGICAL UNIT RESET and the loss of the I_T nexus that made a token leave it valid: a ROD
 *   token belongs to the copy manager and is meant to be used through other I_T nexuses (SPC-4
 *   5.17.6); what those events clear (SAM-5 6.3.3, 6.3.4) is per-nexus and per-task state.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ASC, CopyStatus, Rod, SenseKey, Status, Token, TpcInSa, TpcOutSa, XcopyDesc } from './constants.js';
import { be16, be32, be64, putBe16, putBe32, putBe64, toHex } from '../../src/core/util/bytes.js';
import { ScsiCheck, illegal, invalidFieldInCdb, invalidFieldInParam, lbaOutOfRange, paramListLengthError, reservationConflict } from './sense.js';
import { luOf, type CmdContext } from './context.js';
import type { LogicalUnit } from './lu.js';
import { TPC_LIMITS } from './tpc-limits.js';
import { lid4Status, type CopyManager } from './copy-manager.js';
import type { ListRecord } from './copy-lists.js';
import { mediaMove, mediaZero, type MediaRun } from './media.js';
import { tokenUsable } from './copy-access.js';

interface Range {
  readonly lba: number;
  readonly blocks: number;
}

export interface RodToken {
  readonly bytes: Uint8Array;
  readonly lu: LogicalUnit;
  readonly ranges: readonly Range[];
  readonly totalBytes: number;
  readonly creator: string;
  readonly timeoutMs: number;
  lastUse: number;
  revoked: boolean;
  /** WRITE USING TOKEN commands using it now: it does not expire meanwhile. */
  active: number;
}

/** Why an ended token is no longer valid (the sense a later use gets). */
type Ended = 'expired' | 'deleted';

/** Parses block device range descriptors (SBC-3 5.9.2, 5.35.2); an incomplete trailing one is ignored. */
function parseRanges(p: Uint8Array, lenOff: number, listOff: number, lu: LogicalUnit): Range[] {
  const listLen = be16(p, lenOff);
  if (listLen < Token.RANGE_DESCRIPTOR_LENGTH) throw invalidFieldInParam(lenOff);
  const avail = Math.min(listLen, p.length - listOff);
  const count = Math.floor(avail / Token.RANGE_DESCRIPTOR_LENGTH);
  if (count > TPC_LIMITS.maxRangeDescriptors) throw illegal(ASC.TOO_MANY_SEGMENT_DESCRIPTORS);
  const ranges: Range[] = [];
  for (let i = 0; i < count; i++) {
    const o = listOff + i * Token.RANGE_DESCRIPTOR_LENGTH;
    const lba = be64(p, o);
    const blocks = be32(p, o + 8);
    if (!lu.inRange(lba, blocks)) throw lbaOutOfRange();
    ranges.push({ lba, blocks });
  }
  // SBC-3: the same LBA in more than one range is an error.
  const sorted = ranges.filter((r) => r.blocks > 0).sort((a, b) => a.lba - b.lba);
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.lba < sorted[i - 1]!.lba + sorted[i - 1]!.blocks) throw invalidFieldInParam(listOff);
  return ranges;
}

export class TokenStore {
  private readonly tokens = new Map<string, RodToken>();
  /** Tokens that ended by expiry or DEL_TKN, oldest first (at most TPC_LIMITS.maxEndedTokens). */
  private readonly ended = new Map<string, Ended>();

  constructor(private readonly now: () => number) {}

  get size(): number {
    return this.tokens.size;
  }

  /** Ended tokens remembered (for their sense). */
  get endedSize(): number {
    return this.ended.size;
  }

  /** A write to blocks a token covers revokes the token (point in time, change vulnerable). */
  noteWrite = (lu: LogicalUnit, lba: number, blocks: number): void => {
    for (const t of this.tokens.values()) {
      if (t.lu !== lu || t.revoked) continue;
      if (t.ranges.some((r) => lba < r.lba + r.blocks && r.lba < lba + blocks)) t.revoked = true;
    }
  };

  /** Tokens idle for their inactivity timeout end (SBC-3 5.9.2); one in use waits for its use to end. */
  private expire(): void {
    const now = this.now();
    for (const [k, t] of this.tokens) if (t.active === 0 && now - t.lastUse >= t.timeoutMs) this.end(k, 'expired');
  }

  private end(key: string, why: Ended): void {
    this.tokens.delete(key);
    this.ended.delete(key);
    this.ended.set(key, why);
    if (this.ended.size > TPC_LIMITS.maxEndedTokens) this.ended.delete(this.ended.keys().next().value!);
  }

  create(lu: LogicalUnit, ranges: Range[], creator: string, timeoutS: number): RodToken {
    this.expire();
    if (this.tokens.size >= TPC_LIMITS.maxTokens) throw illegal(ASC.INSUFFICIENT_RESOURCES);
    const totalBytes = ranges.reduce((n, r) => n + r.blocks * lu.lbs, 0);
    // Token layout (SPC-4 5.17.6.1 table 110): ROD type, length 1F8h, copy manager ROD token id,
    // creator LU (an E4 CSCD naming the LU), number of bytes represented, then random bytes.
    const b = new Uint8Array(Rod.TOKEN_LENGTH);
    putBe32(b, 0, Rod.TYPE_PIT_CHANGE_VULNERABLE);
    putBe16(b, 6, Rod.TOKEN_LENGTH_FIELD);
    b.set(randomBytes(8), 8);
    b[16] = XcopyDesc.CSCD_IDENTIFICATION;
    b[20] = 0x01; // code set binary
    b[21] = 0x03; // association LU, designator type NAA
    b[23] = lu.naa.length;
    b.set(lu.naa, 24);
    b[45] = (lu.lbs >> 16) & 0xff;
    b[46] = (lu.lbs >> 8) & 0xff;
    b[47] = lu.lbs & 0xff;
    putBe64(b, 56, totalBytes); // NUMBER OF BYTES REPRESENTED (low 8 of 16 bytes)
    b.set(randomBytes(Rod.TOKEN_LENGTH - 64), 64);
    const t: RodToken = { bytes: b, lu, ranges, totalBytes, creator, timeoutMs: timeoutS * 1000, lastUse: this.now(), revoked: false, active: 0 };
    this.tokens.set(toHex(b), t);
    return t;
  }

  /**
   * The token with exactly these bytes, or a CHECK CONDITION saying why there is none: expired,
   * deleted, revoked or unknown (SPC-4 5.17.6; the ASCQs of ASC 23h, T10 ASC list).
   */
  lookup(bytes: Uint8Array): RodToken {
    this.expire();
    const key = toHex(bytes);
    const t = this.tokens.get(key);
    if (!t || !timingSafeEqual(t.bytes, bytes)) {
      const why = this.ended.get(key);
      throw illegal(why === 'expired' ? ASC.TOKEN_EXPIRED : why === 'deleted' ? ASC.TOKEN_DELETED : ASC.TOKEN_UNKNOWN);
    }
    if (t.revoked) throw illegal(ASC.TOKEN_REVOKED);
    t.lastUse = this.now();
    return t;
  }

  /** A WRITE USING TOKEN begins using the token: it cannot expire until `release`. */
  use(t: RodToken): void {
    t.active++;
  }

  /** The use ended: its inactivity timeout counts from now. */
  release(t: RodToken): void {
    if (t.active > 0) t.active--;
    t.lastUse = this.now();
  }

  /** DEL_TKN (SBC-3 5.35): the token ends; a later use is TOKEN DELETED. */
  delete(t: RodToken): void {
    const key = toHex(t.bytes);
    if (this.tokens.get(key) === t) this.end(key, 'deleted');
  }

  ownedBy(initiator: string): RodToken[] {
    this.expire();
    return [...this.tokens.values()].filter((t) => t.creator === initiator && !t.revoked);
  }
}

/** POPULATE TOKEN (SBC-3 5.9). */
export function populateToken(c: CmdContext, cm: CopyManager, store: TokenStore): void {
  const lu = luOf(c);
  const listId = be32(c.cdb, 6);
  const len = be32(c.cdb, 10);
  if (len < Token.PT_HEADER_LENGTH + Token.RANGE_DESCRIPTOR_LENGTH) throw invalidFieldInCdb(10);
  if (c.dataOut.length < len) throw paramListLengthError();
  const p = c.dataOut.subarray(0, len);
  if (be16(p, 0) + 2 > len) throw paramListLengthError();
  const rtv = (p[Token.PT_OFF_FLAGS]! & 0x02) !== 0;
  if (p[Token.PT_OFF_FLAGS]! & 0x01) throw invalidFieldInParam(Token.PT_OFF_FLAGS, 0); // IMMED: we complete in the command
  let timeout = be32(p, Token.PT_OFF_INACTIVITY_TIMEOUT);
  if (timeout === 0) timeout = TPC_LIMITS.defaultInactivityTimeout;
  if (timeout > TPC_LIMITS.maxInactivityTimeout || timeout < TPC_LIMITS.minInactivityTimeout) throw invalidFieldInParam(Token.PT_OFF_INACTIVITY_TIMEOUT);
  if (rtv) {
    const type = be32(p, Token.PT_OFF_ROD_TYPE);
    const ok = type === Rod.TYPE_PIT_DEFAULT || type === Rod.TYPE_PIT_CHANGE_VULNERABLE || type === Rod.TYPE_PIT_ANY;
    if (!ok) throw invalidFieldInParam(Token.PT_OFF_ROD_TYPE);
  }
  const ranges = parseRanges(p, Token.PT_OFF_RANGE_LIST_LENGTH, Token.PT_HEADER_LENGTH, lu);
  const total = ranges.reduce((n, r) => n + r.blocks * lu.lbs, 0);
  if (total > TPC_LIMITS.maxTokenBytes) throw invalidFieldInParam(Token.PT_OFF_RANGE_LIST_LENGTH);
  if (lu.pr.conflicts(c.initiator, 'read')) throw reservationConflict();
  const t = store.create(lu, ranges, c.initiator, timeout);
  const rec: ListRecord = {
    sa: TpcOutSa.POPULATE_TOKEN,
    status: CopyStatus.COMPLETED_GOOD,
    commandStatus: Status.GOOD,
    segmentsProcessed: ranges.length,
    transferCount: total / lu.lbs,
    units: 'blocks',
    sense: null,
    token: t.bytes,
  };
  cm.recordEnded(c, 4, listId, rec);
}

/** WRITE USING TOKEN (SBC-3 5.35), with OFFSET INTO ROD and DEL_TKN. */
export function* writeUsingToken(c: CmdContext, cm: CopyManager, store: TokenStore): MediaRun<void> {
  const lu = luOf(c);
  const listId = be32(c.cdb, 6);
  const len = be32(c.cdb, 10);
  if (len < Token.WUT_HEADER_LENGTH + Token.RANGE_DESCRIPTOR_LENGTH) throw invalidFieldInCdb(10);
  if (c.dataOut.length < len) throw paramListLengthError();
  const p = c.dataOut.subarray(0, len);
  if (be16(p, 0) + 2 > len) throw paramListLengthError();
  // IMMED: on a timed array the copy goes on in the background (timed-run.ts); otherwise it
  // completes inside the command, which IMMED allows (SBC-3 5.35).
  const immed = (p[Token.WUT_OFF_FLAGS]! & 0x01) !== 0;
  const delTkn = (p[Token.WUT_OFF_FLAGS]! & 0x02) !== 0;
  const offsetBlocks = be64(p, Token.WUT_OFF_OFFSET_INTO_ROD);
  const tokenBytes = p.subarray(Token.WUT_OFF_TOKEN, Token.WUT_OFF_TOKEN + Rod.TOKEN_LENGTH);
  if (be16(tokenBytes, 6) !== Rod.TOKEN_LENGTH_FIELD) throw illegal(ASC.INVALID_TOKEN_LENGTH);
  const ranges = parseRanges(p, Token.WUT_OFF_RANGE_LIST_LENGTH, Token.WUT_HEADER_LENGTH, lu);
  const zero = be32(tokenBytes, 0) === Rod.TYPE_BLOCK_ZERO && tokenBytes.subarray(8).every((b) => b === 0);
  const token = zero ? null : store.lookup(tokenBytes);
  // A token serves only a nexus that may read its LU through its own path (copy-access.ts).
  if (token && !tokenUsable(c, token.lu, token.creator)) throw illegal(ASC.ACCESS_DENIED_NO_ACCESS_RIGHTS, { field: Token.WUT_OFF_TOKEN, cd: false });
  if (token && token.lu.pr.conflicts(c.initiator, 'read')) throw reservationConflict();
  if (lu.pr.conflicts(c.initiator, 'write')) throw reservationConflict();
  const offsetBytes = offsetBlocks * lu.lbs;
  if (token && offsetBytes >= token.totalBytes) throw invalidFieldInParam(Token.WUT_OFF_OFFSET_INTO_ROD);

  const rec: ListRecord = { sa: TpcOutSa.WRITE_USING_TOKEN, status: CopyStatus.LID4_IN_PROGRESS_FOREGROUND, commandStatus: Status.GOOD, segmentsProcessed: 0, transferCount: 0, units: 'blocks', sense: null };
  // The record ends however the command does (copy-manager.ts operation); the token does not
  // expire while the copy uses it, and its inactivity timeout starts again when the copy ends.
  if (token) store.use(token);
  try {
    yield* cm.operation(c, 4, listId, rec, immed, false, writeFromRod(lu, token, ranges, offsetBytes, rec));
  } finally {
    if (token) store.release(token);
  }
  if (delTkn && token) store.delete(token);
}

/** Writes the destination ranges from the ROD, walked from the offset: the token's ranges laid end to end (or zeros). */
function* writeFromRod(lu: LogicalUnit, token: RodToken | null, ranges: readonly Range[], offsetBytes: number, rec: ListRecord): MediaRun<void> {
  let rodAt = offsetBytes;
  for (const [i, r] of ranges.entries()) {
    let dstOff = r.lba * lu.lbs;
    let left = r.blocks * lu.lbs;
    while (left > 0) {
      if (!token) {
        const z = yield* mediaZero(lu, dstOff / lu.lbs, left / lu.lbs);
        if (z < 0) throw new ScsiCheck(SenseKey.COPY_ABORTED, ASC.COPY_TARGET_DEVICE_NOT_REACHABLE, { information: left / lu.lbs, csi: i });
        rec.transferCount += left / lu.lbs;
        break;
      }
      const piece = rodPiece(token, rodAt);
      if (!piece) break; // the ROD is exhausted: a partial transfer, reported by the transfer count
      const n = Math.min(left, piece.length);
      const m = yield* mediaMove(token.lu, piece.offset, lu, dstOff, n);
      rec.transferCount += m.bytes / lu.lbs;
      if (m.error < 0) throw new ScsiCheck(SenseKey.COPY_ABORTED, ASC.COPY_TARGET_DEVICE_NOT_REACHABLE, { information: (left - m.bytes) / lu.lbs, csi: i });
      rodAt += n;
      dstOff += n;
      left -= n;
    }
    rec.segmentsProcessed = i + 1;
  }
}

/** The source extent at byte `at` of a token's ROD, or null past its end. */
function rodPiece(t: RodToken, at: number): { offset: number; length: number } | null {
  let base = 0;
  for (const r of t.ranges) {
    const len = r.blocks * t.lu.lbs;
    if (at < base + len) return { offset: r.lba * t.lu.lbs + (at - base), length: base + len - at };
    base += len;
  }
  return null;
}

/** RECEIVE ROD TOKEN INFORMATION (SPC-4 6.26). */
export function receiveRodTokenInformation(c: CmdContext, cm: CopyManager): Uint8Array {
  const listId = be32(c.cdb, 2);
  const alloc = be32(c.cdb, 10);
  const rec = cm.find(c, 4, listId);
  if (!rec || (rec.sa !== TpcOutSa.POPULATE_TOKEN && rec.sa !== TpcOutSa.WRITE_USING_TOKEN)) throw invalidFieldInCdb(2);
  let tail = new Uint8Array(4);
  if (rec.token) {
    tail = new Uint8Array(4 + 2 + Rod.TOKEN_LENGTH);
    putBe32(tail, 0, 2 + Rod.TOKEN_LENGTH); // ROD TOKEN DESCRIPTORS LENGTH
    tail.set(rec.token, 6);
  }
  const d = lid4Status(rec, TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, tail);
  return d.subarray(0, Math.min(d.length, alloc));
}

/**
 * REPORT ALL ROD TOKENS (SPC-4 6.30): the tokens this initiator made that are still alive and
 * whose LU this nexus may read (a token made through another target stays there, copy-access.ts).
 */
export function reportAllRodTokens(c: CmdContext, store: TokenStore): Uint8Array {
  const alloc = be32(c.cdb, 10);
  const mine = store.ownedBy(c.initiator).filter((t) => tokenUsable(c, t.lu, t.creator));
  const d = new Uint8Array(8 + Rod.TOKEN_LENGTH * mine.length);
  putBe32(d, 0, d.length - 4);
  mine.forEach((t, i) => d.set(t.bytes, 8 + i * Rod.TOKEN_LENGTH));
  return d.subarray(0, Math.min(d.length, alloc));
}
