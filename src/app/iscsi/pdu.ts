/**
 * PDU framing (RFC 7143 11.2): a BHS of 48 bytes, AHS, optional header digest, the data segment
 * padded to 4 bytes, optional data digest. The reader takes bytes from the socket and hands out
 * whole PDUs; it holds at most one PDU's worth of bytes and skips (without buffering) a data
 * segment larger than the declared limit, reporting it so the connection can Reject it.
 */
import { BHS_LENGTH, BHS_OPCODE_MASK, DIGEST_LENGTH, Data, FLAG_FINAL, Off, Op, R2t } from './constants.js';
import { crc32c } from './crc32c.js';
import { be24, be32, le32, putBe24, putBe32, putLe32 } from '../../core/util/bytes.js';

export interface Pdu {
  /** The 48-byte BHS. */
  readonly bhs: Uint8Array;
  readonly ahs: Uint8Array;
  /** Data segment without padding. */
  readonly data: Uint8Array;
}

export type PduEvent =
  | { readonly kind: 'pdu'; readonly pdu: Pdu }
  /** Header digest mismatch: the PDU's framing cannot be trusted (RFC 7143 7.8: connection failure). */
  | { readonly kind: 'header-digest-error'; readonly bhs: Uint8Array }
  /** Data digest mismatch: the header is good (RFC 7143 7.8: Reject with DATA DIGEST ERROR). */
  | { readonly kind: 'data-digest-error'; readonly bhs: Uint8Array }
  /** Data segment over the limit: skipped (RFC 7143 7.5: Reject with PROTOCOL ERROR). */
  | { readonly kind: 'oversize'; readonly bhs: Uint8Array; readonly length: number }
  | { readonly kind: 'bad-ahs'; readonly bhs: Uint8Array };

export const opcodeOf = (bhs: Uint8Array): number => bhs[Off.OPCODE]! & BHS_OPCODE_MASK;
/** DataSegmentLength: bytes 5-7 of the BHS (RFC 7143 11.2.1.5). */
export const dataSegmentLength = (bhs: Uint8Array): number => be24(bhs, 5);
export const pad4 = (n: number): number => (n + 3) & ~3;

/** Serial number arithmetic on 32-bit sequence numbers (RFC 1982, RFC 7143 4.2.2.1). */
export function snLess(a: number, b: number): boolean {
  return a !== b && ((b - a) >>> 0) < 0x80000000;
}
export const snAdd = (a: number, n: number): number => (a + n) >>> 0;

export interface DigestState {
  header: boolean;
  data: boolean;
}

/** Incremental PDU reader. */
export class PduReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Bytes still to discard of an oversize PDU. */
  private skip = 0;

  constructor(private readonly digests: DigestState, private readonly maxData: () => number, private readonly maxAhs: number) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): PduEvent[] {
    const out: PduEvent[] = [];
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      chunk = chunk.subarray(n);
    }
    if (chunk.length) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.skip > 0 || this.buffered < BHS_LENGTH) break;
      const bhs = this.peek(BHS_LENGTH);
      const ahsLen = bhs[Off.TOTAL_AHS_LENGTH]! * 4;
      const dsl = dataSegmentLength(bhs);
      const hd = this.digests.header ? DIGEST_LENGTH : 0;
      const dd = this.digests.data && dsl > 0 ? DIGEST_LENGTH : 0;
      const total = BHS_LENGTH + ahsLen + hd + pad4(dsl) + dd;
      if (dsl > this.maxData() || ahsLen > this.maxAhs) {
        // Do not buffer it: drop what is here and skip the rest as it arrives.
        const have = Math.min(this.buffered, total);
        this.take(have);
        this.skip = total - have;
        out.push(ahsLen > this.maxAhs ? { kind: 'bad-ahs', bhs } : { kind: 'oversize', bhs, length: dsl });
        continue;
      }
      if (this.buffered < total) break;
      const all = this.take(total);
      const head = all.subarray(0, BHS_LENGTH + ahsLen);
      if (hd && !digestMatches(all, BHS_LENGTH + ahsLen, head)) {
        out.push({ kind: 'header-digest-error', bhs: all.slice(0, BHS_LENGTH) });
        continue;
      }
      const dataAt = BHS_LENGTH + ahsLen + hd;
      const padded = all.subarray(dataAt, dataAt + pad4(dsl));
      if (dd && !digestMatches(all, dataAt + pad4(dsl), padded)) {
        out.push({ kind: 'data-digest-error', bhs: all.slice(0, BHS_LENGTH) });
        continue;
      }
      out.push({ kind: 'pdu', pdu: { bhs: all.subarray(0, BHS_LENGTH), ahs: all.subarray(BHS_LENGTH, BHS_LENGTH + ahsLen), data: all.subarray(dataAt, dataAt + dsl) } });
    }
    return out;
  }

  private peek(n: number): Uint8Array {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.slice(0, n);
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.length, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (at === n) break;
    }
    return out;
  }

  /** Removes n bytes from the front (a view when one chunk holds them). */
  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const v = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return v;
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

function digestMatches(all: Uint8Array, at: number, covered: Uint8Array): boolean {
  const want = crc32c(covered);
  return want === le32(all, at);
}

/** A fresh target BHS with opcode and flags. */
export function newBhs(opcode: number, flags: number): Uint8Array {
  const b = new Uint8Array(BHS_LENGTH);
  b[Off.OPCODE] = opcode;
  b[Off.FLAGS] = flags;
  return b;
}

/**
 * The Data-Out PDUs an initiator sends for an R2T (RFC 7143 11.7, 11.8): the desired data length
 * from the R2T's buffer offset, in segments of at most `maxSegment` bytes (the target's
 * MaxRecvDataSegmentLength), DataSN from 0, F on the last, LUN and TTT copied from the R2T.
 * Shared by the byte-level initiators (tests, soak); the target never sends Data-Out.
 */
export function dataOutForR2t(r2t: Uint8Array, itt: number, expStatSN: number, data: Uint8Array, maxSegment: number): { bhs: Uint8Array; data: Uint8Array }[] {
  const off = be32(r2t, R2t.OFF_BUFFER_OFFSET);
  const end = Math.min(data.length, off + be32(r2t, R2t.OFF_DESIRED_LENGTH));
  const out: { bhs: Uint8Array; data: Uint8Array }[] = [];
  let sn = 0;
  for (let at = off; at < end; at += maxSegment) {
    const n = Math.min(maxSegment, end - at);
    const d = newBhs(Op.DATA_OUT, at + n === end ? FLAG_FINAL : 0);
    d.set(r2t.subarray(Off.LUN, Off.LUN + 8), Off.LUN);
    putBe32(d, Off.ITT, itt);
    putBe32(d, Off.TTT, be32(r2t, Off.TTT));
    putBe32(d, Off.EXP_STATSN, expStatSN);
    putBe32(d, Data.OFF_DATASN, sn++);
    putBe32(d, Data.OFF_BUFFER_OFFSET, at);
    out.push({ bhs: d, data: data.subarray(at, at + n) });
  }
  return out;
}

export function setDataSegmentLength(bhs: Uint8Array, n: number): void {
  putBe24(bhs, 5, n);
}

const PAD = new Uint8Array(4);

/** The wire pieces of one PDU (header, digests, data and padding), without copying the data. */
export function encodePdu(bhs: Uint8Array, data: Uint8Array, digests: DigestState): Uint8Array[] {
  setDataSegmentLength(bhs, data.length);
  const parts: Uint8Array[] = [bhs];
  if (digests.header) parts.push(digestOf(bhs));
  if (data.length) {
    parts.push(data);
    const p = pad4(data.length) - data.length;
    if (p) parts.push(PAD.subarray(0, p));
    if (digests.data) parts.push(p ? digestOf(data, PAD.subarray(0, p)) : digestOf(data));
  }
  return parts;
}

function digestOf(...parts: Uint8Array[]): Uint8Array {
  const d = new Uint8Array(4);
  putLe32(d, 0, crc32c(...parts));
  return d;
}
