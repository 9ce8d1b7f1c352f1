/**
 * How much data a block command's CDB says it moves, for a transport that must compare it with
 * its own expected length (iSCSI's Expected Data Transfer Length, RFC 7143 11.3.4 and 11.4.5;
 * SAM-5 5.4.3: when the two differ the target moves the smaller amount and reports the
 * residual). The transport asks here instead of reading CDB fields itself: the SCSI model is
 * where CDB layouts are known.
 */
import { be16, be32, putBe16, putBe32 } from '../../src/core/util/bytes.js';
import { Op } from './constants.js';
export interface RwShape {
  /** Offset and width (bytes) of the TRANSFER LENGTH field. */
  readonly at: number;
  readonly width: 1 | 2 | 4;
  readonly dir: 'read' | 'write';
  /** Data-Out blocks per transferred block (COMPARE AND WRITE sends two). */
  readonly factor: number;
}

/** SBC-3 5.x CDB layouts. */
const SHAPES: ReadonlyMap<number, RwShape> = new Map<number, RwShape>([
  [0x08, { at: 4, width: 1, dir: 'read', factor: 1 }], // READ(6): 0 means 256 blocks
  [0x0a, { at: 4, width: 1, dir: 'write', factor: 1 }], // WRITE(6)
  [0x28, { at: 7, width: 2, dir: 'read', factor: 1 }], // READ(10)
  [0x2a, { at: 7, width: 2, dir: 'write', factor: 1 }], // WRITE(10)
  [0x2e, { at: 7, width: 2, dir: 'write', factor: 1 }], // WRITE AND VERIFY(10)
  [0xa8, { at: 6, width: 4, dir: 'read', factor: 1 }], // READ(12)
  [0xaa, { at: 6, width: 4, dir: 'write', factor: 1 }], // WRITE(12)
  [0xae, { at: 6, width: 4, dir: 'write', factor: 1 }], // WRITE AND VERIFY(12)
  [0x88, { at: 10, width: 4, dir: 'read', factor: 1 }], // READ(16)
  [0x8a, { at: 10, width: 4, dir: 'write', factor: 1 }], // WRITE(16)
  [0x8e, { at: 10, width: 4, dir: 'write', factor: 1 }], // WRITE AND VERIFY(16)
  [0x8b, { at: 10, width: 4, dir: 'write', factor: 1 }], // ORWRITE(16)
]);

export function rwShape(cdb: Uint8Array): RwShape | undefined {
  return SHAPES.get(cdb[0]!);
}

export function transferBlocks(cdb: Uint8Array, s: RwShape): number {
  if (s.width === 1) return cdb[s.at]! || 256;
  return s.width === 2 ? be16(cdb, s.at) : be32(cdb, s.at);
}

/** A copy of the CDB with TRANSFER LENGTH set to `blocks` (which fits the field). */
export function withTransferBlocks(cdb: Uint8Array, s: RwShape, blocks: number): Uint8Array {
  const c = cdb.slice();
  if (s.width === 1) c[s.at] = blocks & 0xff;
  else if (s.width === 2) putBe16(c, s.at, blocks);
  else putBe32(c, s.at, blocks);
  return c;
}

/** COMPARE AND WRITE's NUMBER OF LOGICAL BLOCKS: CDB byte 13 (SBC-3 5.2, Table 16). */
export const CAW_NUMBER_OF_BLOCKS = 13;

/**
 * Data-Out a CDB must carry exactly, for commands whose data cannot be cut to a shorter
 * transfer; undefined for every other command. COMPARE AND WRITE (SBC-3 5.2) carries its
 * verify half then its write half, NUMBER OF LOGICAL BLOCKS each: a transfer of another size
 * cannot be split into them (an initiator that wraps 256 blocks into the 1-byte field sends 0
 * with 256 blocks of data). `field` is the CDB byte a mismatch is reported against (INVALID
 * FIELD IN CDB, as LIO answers a data CDB whose length and the transport's disagree).
 */
export function exactDataOut(cdb: Uint8Array, lbs: number): { readonly bytes: number; readonly field: number } | undefined {
  if (cdb[0] !== Op.COMPARE_AND_WRITE || cdb.length <= CAW_NUMBER_OF_BLOCKS) return undefined;
  return { bytes: 2 * cdb[CAW_NUMBER_OF_BLOCKS]! * lbs, field: CAW_NUMBER_OF_BLOCKS };
}
