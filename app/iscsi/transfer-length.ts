/**
 * The SCSI transfer length of the block READ/WRITE commands, so the target can compare it with
 * the iSCSI Expected Data Transfer Length (RFC 7143 11.3.4 and 11.4.5; SAM-5 5.4.3: when the
 * two differ the target moves the smaller amount and reports the residual).
 */
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
  if (s.width === 2) return (cdb[s.at]! << 8) | cdb[s.at + 1]!;
  return ((cdb[s.at]! << 24) | (cdb[s.at + 1]! << 16) | (cdb[s.at + 2]! << 8) | cdb[s.at + 3]!) >>> 0;
}

/** A copy of the CDB with TRANSFER LENGTH set to `blocks` (which fits the field). */
export function withTransferBlocks(cdb: Uint8Array, s: RwShape, blocks: number): Uint8Array {
  const c = cdb.slice();
  if (s.width === 1) c[s.at] = blocks & 0xff;
  else if (s.width === 2) {
    c[s.at] = (blocks >>> 8) & 0xff;
    c[s.at + 1] = blocks & 0xff;
  } else new DataView(c.buffer, c.byteOffset).setUint32(s.at, blocks >>> 0);
  return c;
}
