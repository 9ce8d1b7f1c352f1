/**
 * The one sense helper (FreeBSD CTL's ctl_set_sense habit): every CHECK CONDITION of the model
 * is built here, in fixed format (SPC-4 4.5.3), 18 bytes. A command handler fails by throwing a
 * ScsiCheck; the dispatcher turns it into status + sense, so no handler can forget a field.
 */
import { ASC, SENSE, SenseKey, Status, type Asc } from './constants.js';

export interface ScsiResult {
  /** SAM-5 status byte. */
  readonly status: number;
  /** Fixed-format sense data (18 bytes) with CHECK CONDITION, else empty. */
  readonly senseData: Uint8Array;
  /** Data-In, already cut to the allocation length. */
  readonly dataIn: Uint8Array;
}

export interface SenseOptions {
  /** INFORMATION field (bytes 3-6), sets VALID. */
  readonly information?: number;
  /** COMMAND-SPECIFIC INFORMATION (bytes 8-11). */
  readonly csi?: number;
  /** Field pointer: the byte of the CDB (cd: true) or parameter list (cd: false) at fault. */
  readonly field?: number;
  readonly cd?: boolean;
  readonly bit?: number;
  /** COPY ABORTED segment pointer: field is relative to the segment descriptor (SPC-4 4.5.2.4.5). */
  readonly sd?: boolean;
}

/** Builds fixed-format sense data (SPC-4 4.5.3 table 41). */
export function buildSense(key: number, code: Asc, o: SenseOptions = {}): Uint8Array {
  const s = new Uint8Array(SENSE.FIXED_LENGTH);
  const v = new DataView(s.buffer);
  s[0] = SENSE.RESPONSE_CURRENT_FIXED | (o.information !== undefined ? SENSE.VALID : 0);
  s[SENSE.OFF_KEY] = key & 0x0f;
  if (o.information !== undefined) v.setUint32(SENSE.OFF_INFORMATION, o.information >>> 0);
  s[SENSE.OFF_ADDITIONAL_LENGTH] = SENSE.FIXED_LENGTH - 8;
  if (o.csi !== undefined) v.setUint32(SENSE.OFF_CSI, o.csi >>> 0);
  s[SENSE.OFF_ASC] = code.asc;
  s[SENSE.OFF_ASCQ] = code.ascq;
  if (o.field !== undefined) {
    let b = SENSE.SKSV;
    if (o.cd) b |= SENSE.CD;
    if (o.sd) b |= SENSE.SD;
    if (o.bit !== undefined) b |= SENSE.BPV | (o.bit & 0x7);
    s[SENSE.OFF_SKS] = b;
    v.setUint16(SENSE.OFF_SKS + 1, Math.min(o.field, 0xffff));
  }
  return s;
}

/** A CHECK CONDITION raised by a command handler. */
export class ScsiCheck extends Error {
  constructor(readonly key: number, readonly code: Asc, readonly opts: SenseOptions = {}) {
    super(code.name);
    this.name = 'ScsiCheck';
  }
  get sense(): Uint8Array {
    return buildSense(this.key, this.code, this.opts);
  }
}

/** A non-CHECK CONDITION failure status (RESERVATION CONFLICT, BUSY…). */
export class ScsiStatus extends Error {
  constructor(readonly status: number) {
    super(`status 0x${status.toString(16)}`);
    this.name = 'ScsiStatus';
  }
}

export const invalidFieldInCdb = (field: number, bit?: number): ScsiCheck =>
  new ScsiCheck(SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB, { field, cd: true, ...(bit !== undefined ? { bit } : {}) });
export const invalidFieldInParam = (field: number, bit?: number): ScsiCheck =>
  new ScsiCheck(SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_PARAMETER_LIST, { field, cd: false, ...(bit !== undefined ? { bit } : {}) });
export const illegal = (code: Asc, o: SenseOptions = {}): ScsiCheck => new ScsiCheck(SenseKey.ILLEGAL_REQUEST, code, o);
export const paramListLengthError = (): ScsiCheck => illegal(ASC.PARAMETER_LIST_LENGTH_ERROR);
export const lbaOutOfRange = (): ScsiCheck => illegal(ASC.LBA_OUT_OF_RANGE);
export const reservationConflict = (): ScsiStatus => new ScsiStatus(Status.RESERVATION_CONFLICT);

export const EMPTY = new Uint8Array(0);

export function good(dataIn: Uint8Array = EMPTY, allocLen = Infinity): ScsiResult {
  return { status: Status.GOOD, senseData: EMPTY, dataIn: dataIn.length > allocLen ? dataIn.subarray(0, allocLen) : dataIn };
}

export function checkCondition(c: ScsiCheck): ScsiResult {
  return { status: Status.CHECK_CONDITION, senseData: c.sense, dataIn: EMPTY };
}

/** Decoded fixed sense, for tests, tools and the host driver. */
export interface DecodedSense {
  readonly key: number;
  readonly asc: number;
  readonly ascq: number;
  readonly information: number | null;
  readonly csi: number;
  /** Field pointer when SKSV is set. */
  readonly field: number | null;
  readonly cd: boolean;
  readonly sd: boolean;
  readonly bit: number | null;
}

export function decodeSense(s: Uint8Array): DecodedSense | null {
  if (s.length < SENSE.FIXED_LENGTH || (s[0]! & 0x7e) !== SENSE.RESPONSE_CURRENT_FIXED) return null;
  const v = new DataView(s.buffer, s.byteOffset, s.length);
  const sks = s[SENSE.OFF_SKS]!;
  const valid = (sks & SENSE.SKSV) !== 0;
  return {
    key: s[SENSE.OFF_KEY]! & 0x0f,
    asc: s[SENSE.OFF_ASC]!,
    ascq: s[SENSE.OFF_ASCQ]!,
    information: s[0]! & SENSE.VALID ? v.getUint32(SENSE.OFF_INFORMATION) : null,
    csi: v.getUint32(SENSE.OFF_CSI),
    field: valid ? v.getUint16(SENSE.OFF_SKS + 1) : null,
    cd: valid && (sks & SENSE.CD) !== 0,
    sd: valid && (sks & SENSE.SD) !== 0,
    bit: valid && sks & SENSE.BPV ? sks & 7 : null,
  };
}

/** The answer to a command that ended with an exception. */
export function failed(err: unknown): ScsiResult {
  if (err instanceof ScsiCheck) return checkCondition(err);
  if (err instanceof ScsiStatus) return { status: err.status, senseData: new Uint8Array(0), dataIn: new Uint8Array(0) };
  // A model bug must not take the initiator down: report it as a hardware error.
  return checkCondition(new ScsiCheck(SenseKey.HARDWARE_ERROR, ASC.NO_ADDITIONAL_SENSE));
}
