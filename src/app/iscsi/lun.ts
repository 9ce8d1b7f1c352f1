/** The iSCSI LUN field (8 bytes at BHS offset 8), single-level (SAM-5 4.7.3). */
import { Off } from './constants.js';

/** LUN field, single-level (SAM-5 4.7.3, peripheral and flat addressing); -1 for another method. */
export function decodeLun(bhs: Uint8Array): number {
  const b0 = bhs[Off.LUN]!;
  const method = b0 >> 6;
  if (method === 0) return b0 === 0 ? bhs[Off.LUN + 1]! : -1;
  if (method === 1) return ((b0 & 0x3f) << 8) | bhs[Off.LUN + 1]!;
  return -1;
}

/** The LUN field for a LUN below 16384: peripheral addressing below 256, flat above (SAM-5 4.7.3). */
export function encodeLun(lun: number): Uint8Array {
  const f = new Uint8Array(8);
  if (lun < 256) f[1] = lun;
  else {
    f[0] = 0x40 | ((lun >> 8) & 0x3f);
    f[1] = lun & 0xff;
  }
  return f;
}
