/**
 * Builds and parses the byte layouts of spec.ts (little-endian, src/core/util/bytes.ts): submission
 * and completion queue entries, Copy source range descriptors. 64-bit fields are numbers;
 * values past 2^53 are not exact, and every caller compares them against a namespace size far
 * below that, so they fail their bounds check as they should.
 */
import { COPY, CQE, CQE_DNR, CQE_MORE, CQE_PHASE, DESC, SQE, SQE_SIZE, CQE_SIZE, descSize } from './spec.js';
import { dataView, getAscii, le64, putAscii, putLe64 } from '../../src/core/util/bytes.js';

/** The fields of a submission queue entry a caller may set; everything else is zero. */
export interface SqeFields {
  readonly opcode: number;
  readonly cid?: number;
  readonly nsid?: number;
  /** cdw[2..15]; index 0, 1 and 6..9 are ignored (opcode/cid/nsid and the data pointer have their own fields). */
  readonly cdw?: Readonly<Partial<Record<number, number>>>;
  readonly prp1?: number;
  readonly prp2?: number;
}

export function buildSqe(f: SqeFields, out: Uint8Array = new Uint8Array(SQE_SIZE)): Uint8Array {
  out.fill(0, 0, SQE_SIZE);
  const v = dataView(out);
  v.setUint8(SQE.OPCODE, f.opcode & 0xff);
  v.setUint16(SQE.CID, (f.cid ?? 0) & 0xffff, true);
  v.setUint32(SQE.NSID, (f.nsid ?? 0) >>> 0, true);
  for (const [k, val] of Object.entries(f.cdw ?? {})) {
    const n = Number(k);
    if (n < 2 || n > 15 || (n >= 4 && n <= 9) || val === undefined) continue;
    v.setUint32(n * 4, val >>> 0, true);
  }
  putLe64(out, SQE.PRP1, f.prp1 ?? 0);
  putLe64(out, SQE.PRP2, f.prp2 ?? 0);
  return out;
}

/** A parsed SQE: the common fields plus raw dwords 10-15. */
export interface Sqe {
  readonly opcode: number;
  /** Fused 9:8 and PSDT 15:14 of DW0. */
  readonly flags: number;
  readonly cid: number;
  readonly nsid: number;
  readonly cdw2: number;
  readonly cdw3: number;
  readonly prp1: number;
  readonly prp2: number;
  readonly cdw10: number;
  readonly cdw11: number;
  readonly cdw12: number;
  readonly cdw13: number;
  readonly cdw14: number;
  readonly cdw15: number;
}

export function parseSqe(b: Uint8Array): Sqe {
  const v = dataView(b);
  return {
    opcode: v.getUint8(SQE.OPCODE),
    flags: v.getUint8(SQE.FLAGS),
    cid: v.getUint16(SQE.CID, true),
    nsid: v.getUint32(SQE.NSID, true),
    cdw2: v.getUint32(SQE.CDW2, true),
    cdw3: v.getUint32(SQE.CDW3, true),
    prp1: le64(b, SQE.PRP1),
    prp2: le64(b, SQE.PRP2),
    cdw10: v.getUint32(SQE.CDW10, true),
    cdw11: v.getUint32(SQE.CDW11, true),
    cdw12: v.getUint32(SQE.CDW12, true),
    cdw13: v.getUint32(SQE.CDW13, true),
    cdw14: v.getUint32(SQE.CDW14, true),
    cdw15: v.getUint32(SQE.CDW15, true),
  };
}

/** SLBA of commands that carry it in CDW10-11. */
export const slbaOf = (c: Sqe): number => c.cdw10 + c.cdw11 * 2 ** 32;

export interface Cqe {
  readonly dw0: number;
  readonly dw1: number;
  readonly sqhd: number;
  readonly sqid: number;
  readonly cid: number;
  readonly phase: number;
  /** (SCT << 8) | SC. */
  readonly status: number;
  readonly more: boolean;
  readonly dnr: boolean;
}

/** Status field (bits 15:1 of the status word) from (SCT << 8) | SC plus DNR and More. */
export function statusWord(status: number, phase: number, dnr: boolean, more = false): number {
  const sc = status & 0xff;
  const sct = (status >> 8) & 0x7;
  return (phase & 1) | (sc << 1) | (sct << 9) | (more ? CQE_MORE : 0) | (dnr ? CQE_DNR : 0);
}

/**
 * The status word (with the phase tag) as one 16-bit access: on host memory shared with a
 * controller on another thread it is an Atomics store/load, so the host never sees a new phase
 * tag before the rest of the entry (the device writes the CQE's last dword last, Base 4.6).
 * Little-endian hosts only, as the rest of the model.
 */
function statusCell(b: Uint8Array): Uint16Array | null {
  const at = b.byteOffset + CQE.STATUS;
  return b.buffer instanceof SharedArrayBuffer && at % 2 === 0 ? new Uint16Array(b.buffer, at, 1) : null;
}

export function writeCqe(out: Uint8Array, c: Omit<Cqe, 'more'> & { more?: boolean }): void {
  // Every byte is written below; the status word (and its phase tag) goes last.
  const v = dataView(out);
  v.setUint32(CQE.DW0, c.dw0 >>> 0, true);
  v.setUint32(CQE.DW1, c.dw1 >>> 0, true);
  v.setUint16(CQE.SQHD, c.sqhd, true);
  v.setUint16(CQE.SQID, c.sqid, true);
  v.setUint16(CQE.CID, c.cid, true);
  const w = statusWord(c.status, c.phase, c.dnr, c.more ?? false);
  const cell = statusCell(out);
  if (cell) Atomics.store(cell, 0, w);
  else v.setUint16(CQE.STATUS, w, true);
}

export function parseCqe(b: Uint8Array): Cqe {
  const v = dataView(b);
  const cell = statusCell(b);
  const w = cell ? Atomics.load(cell, 0) : v.getUint16(CQE.STATUS, true);
  return {
    dw0: v.getUint32(CQE.DW0, true),
    dw1: v.getUint32(CQE.DW1, true),
    sqhd: v.getUint16(CQE.SQHD, true),
    sqid: v.getUint16(CQE.SQID, true),
    cid: v.getUint16(CQE.CID, true),
    phase: w & CQE_PHASE,
    status: (((w >> 9) & 0x7) << 8) | ((w >> 1) & 0xff),
    more: (w & CQE_MORE) !== 0,
    dnr: (w & CQE_DNR) !== 0,
  };
}

// ── Copy ───────────────────────────────────────────────────────────────────────────────────────

/** The Copy command's CDW10-15 as fields (NVM 3.2.2). */
export interface CopyCmd {
  readonly sdlba: number;
  /** Number of ranges, 1-based here (CDW12 NR is 0-based). */
  readonly nr: number;
  readonly format: number;
  readonly prinfor: number;
  readonly dtype: number;
  readonly stcw: boolean;
  readonly prinfow: number;
  readonly fua: boolean;
  readonly lr: boolean;
  readonly dspec: number;
  readonly ilbrt: number;
  readonly lbat: number;
  readonly lbatm: number;
}

export function copyCdws(c: Partial<CopyCmd> & { sdlba: number; nr: number }): Record<number, number> {
  const cdw12 =
    ((c.nr - 1) & COPY.NR_MASK) |
    (((c.format ?? 0) & COPY.DESFMT_MASK) << COPY.DESFMT_SHIFT) |
    (((c.prinfor ?? 0) & 0xf) << COPY.PRINFOR_SHIFT) |
    (((c.dtype ?? 0) & 0xf) << COPY.DTYPE_SHIFT) |
    (c.stcw ? COPY.STCW : 0) |
    (((c.prinfow ?? 0) & 0xf) << COPY.PRINFOW_SHIFT) |
    (c.fua ? COPY.FUA : 0) |
    (c.lr ? COPY.LR : 0);
  return {
    10: c.sdlba >>> 0,
    11: Math.floor(c.sdlba / 2 ** 32) >>> 0,
    12: cdw12 >>> 0,
    13: ((c.dspec ?? 0) & 0xffff) << 16,
    14: (c.ilbrt ?? 0) >>> 0,
    15: (((c.lbatm ?? 0) & 0xffff) << 16) | ((c.lbat ?? 0) & 0xffff),
  };
}

export function parseCopyCmd(c: Sqe): CopyCmd {
  return {
    sdlba: slbaOf(c),
    nr: (c.cdw12 & COPY.NR_MASK) + 1,
    format: (c.cdw12 >>> COPY.DESFMT_SHIFT) & COPY.DESFMT_MASK,
    prinfor: (c.cdw12 >>> COPY.PRINFOR_SHIFT) & 0xf,
    dtype: (c.cdw12 >>> COPY.DTYPE_SHIFT) & 0xf,
    stcw: (c.cdw12 & COPY.STCW) !== 0,
    prinfow: (c.cdw12 >>> COPY.PRINFOW_SHIFT) & 0xf,
    fua: (c.cdw12 & COPY.FUA) !== 0,
    lr: (c.cdw12 & COPY.LR) >>> 0 !== 0,
    dspec: c.cdw13 >>> 16,
    ilbrt: c.cdw14,
    lbat: c.cdw15 & 0xffff,
    lbatm: c.cdw15 >>> 16,
  };
}

/** One source range descriptor, any format (fields a format lacks are 0). */
export interface SourceRange {
  /** Source namespace (formats 2, 3); 0 = the command's namespace. */
  readonly snsid: number;
  readonly slba: number;
  /** Number of logical blocks, 1-based here (the descriptor's NLB is 0-based). */
  readonly nlb: number;
  readonly sopt: number;
  /** Formats 0, 2: expected initial logical block reference tag (32 bits). */
  readonly eilbrt: number;
  /** Formats 1, 3: expected logical block tags, 10 bytes big-endian, as hex. */
  readonly elbt: string;
  readonly elbat: number;
  readonly elbatm: number;
}

export function encodeRanges(format: number, ranges: readonly Partial<SourceRange>[]): Uint8Array {
  const size = descSize(format);
  const out = new Uint8Array(size * ranges.length);
  ranges.forEach((r, i) => encodeRange(format, r, out.subarray(i * size, (i + 1) * size)));
  return out;
}

export function encodeRange(format: number, r: Partial<SourceRange>, out: Uint8Array): void {
  const v = dataView(out);
  const L = format === 0 ? DESC.F0 : format === 1 ? DESC.F1 : format === 2 ? DESC.F2 : DESC.F3;
  if (format === 2 || format === 3) {
    v.setUint32(DESC.F2.SNSID, (r.snsid ?? 0) >>> 0, true);
    v.setUint16(DESC.F2.SOPT, (r.sopt ?? 0) & 0xffff, true);
  }
  putLe64(out, L.SLBA, r.slba ?? 0);
  v.setUint16(L.NLB, ((r.nlb ?? 1) - 1) & 0xffff, true);
  if ('EILBRT' in L) v.setUint32(L.EILBRT, (r.eilbrt ?? 0) >>> 0, true);
  if ('ELBT' in L) {
    const hex = (r.elbt ?? '').padStart(20, '0');
    for (let i = 0; i < 10; i++) v.setUint8(L.ELBT + i, parseInt(hex.slice(i * 2, i * 2 + 2), 16) || 0);
  }
  v.setUint16(L.ELBAT, (r.elbat ?? 0) & 0xffff, true);
  v.setUint16(L.ELBATM, (r.elbatm ?? 0) & 0xffff, true);
}

export function decodeRange(format: number, b: Uint8Array): SourceRange {
  const v = dataView(b);
  const L = format === 0 ? DESC.F0 : format === 1 ? DESC.F1 : format === 2 ? DESC.F2 : DESC.F3;
  const cross = format === 2 || format === 3;
  let elbt = '';
  if ('ELBT' in L) for (let i = 0; i < 10; i++) elbt += v.getUint8(L.ELBT + i).toString(16).padStart(2, '0');
  return {
    snsid: cross ? v.getUint32(DESC.F2.SNSID, true) : 0,
    slba: le64(b, L.SLBA),
    nlb: v.getUint16(L.NLB, true) + 1,
    sopt: cross ? v.getUint16(DESC.F2.SOPT, true) : 0,
    eilbrt: 'EILBRT' in L ? v.getUint32(L.EILBRT, true) : 0,
    elbt,
    elbat: v.getUint16(L.ELBAT, true),
    elbatm: v.getUint16(L.ELBATM, true),
  };
}

export function decodeRanges(format: number, b: Uint8Array, count: number): SourceRange[] {
  const size = descSize(format);
  const out: SourceRange[] = [];
  for (let i = 0; i < count; i++) out.push(decodeRange(format, b.subarray(i * size, (i + 1) * size)));
  return out;
}
