/**
 * READ DEFECT DATA (10) and (12) (SBC-3): the model's media have no defects, so both lists, the
 * primary (PLIST) and the grown (GLIST), are empty in every address descriptor format. The
 * answer is the defect list header: PLISTV and GLISTV say which lists were asked for (and are
 * here, empty), DEFECT LIST FORMAT repeats the request, DEFECT LIST LENGTH is 0.
 */
import { Op } from './constants.js';
import { be16, be32 } from '../../src/core/util/bytes.js';
import { invalidFieldInCdb } from './sense.js';
import type { CmdContext } from './context.js';

export const DefectData = {
  /** CDB byte (10: byte 2, 12: byte 1) and header byte 1: REQ_PLIST / PLISTV, REQ_GLIST / GLISTV, DEFECT LIST FORMAT. */
  PLIST: 0x10,
  GLIST: 0x08,
  FORMAT_MASK: 0x07,
  /** DEFECT LIST FORMAT 111b is reserved (SBC-3 FORMAT UNIT address descriptor formats). */
  FORMAT_RESERVED: 0x07,
  /** Header lengths: (10) 4 bytes, (12) 8 bytes with a 4-byte DEFECT LIST LENGTH. */
  HEADER_10: 4,
  HEADER_12: 8,
} as const;

export function readDefectData(c: CmdContext): Uint8Array {
  const ten = c.cdb[0] === Op.READ_DEFECT_DATA_10;
  const at = ten ? 2 : 1;
  const flags = c.cdb[at]!;
  if (flags & 0xe0) throw invalidFieldInCdb(at, 5);
  if ((flags & DefectData.FORMAT_MASK) === DefectData.FORMAT_RESERVED) throw invalidFieldInCdb(at, 0);
  const alloc = ten ? be16(c.cdb, 7) : be32(c.cdb, 6);
  const d = new Uint8Array(ten ? DefectData.HEADER_10 : DefectData.HEADER_12);
  d[1] = flags & (DefectData.PLIST | DefectData.GLIST | DefectData.FORMAT_MASK);
  // (12): GENERATION CODE 0 (not reported), DEFECT LIST LENGTH 0; (10): DEFECT LIST LENGTH 0.
  return d.subarray(0, Math.min(d.length, alloc));
}
