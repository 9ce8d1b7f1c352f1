import { ScsiFabric, type ScsiArray } from '../../../devices/scsi/array.js';
import { decodeSense } from '../../../devices/scsi/sense.js';
import type { ScsiResult } from '../../../devices/scsi/sense.js';
import { rw16Cdb } from '../../../devices/scsi/build.js';
import { pattern } from '../../helpers.js';

export const HOST = 'iqn.2024-01.lab:host0';

/** Two arrays: arr0 with sda (512) and sdb (512) and sdc (4096); arr1 with sdd (512). */
export function twoArrays(): { fabric: ScsiFabric; a0: ScsiArray; a1: ScsiArray } {
  const fabric = new ScsiFabric();
  const a0 = fabric.addArray({ name: 'arr0', lus: [{ name: 'sda', size: 8 << 20 }, { name: 'sdb', size: 8 << 20 }, { name: 'sdc', size: 8 << 20, lbs: 4096 }] });
  const a1 = fabric.addArray({ name: 'arr1', lus: [{ name: 'sdd', size: 8 << 20 }] });
  return { fabric, a0, a1 };
}

export function ok(r: ScsiResult): ScsiResult {
  if (r.status !== 0) throw new Error(`status ${r.status} sense ${JSON.stringify(decodeSense(r.senseData))}`);
  return r;
}

export function sense(r: ScsiResult): { key: number; asc: number; ascq: number; information: number | null; csi: number; field: number | null; cd: boolean } {
  const s = decodeSense(r.senseData);
  if (r.status !== 2 || !s) throw new Error(`expected CHECK CONDITION, got status ${r.status}`);
  return s;
}

/** Writes a seeded pattern to blocks of an LU through WRITE(16). */
export function fill(a: ScsiArray, lun: number, lba: number, blocks: number, seed: number): Uint8Array {
  const lbs = a.lus[lun]!.lbs;
  const data = pattern(blocks * lbs, seed, lba * lbs);
  ok(a.execute(HOST, lun, rw16Cdb(true, lba, blocks), data));
  return data;
}

export function readBack(a: ScsiArray, lun: number, lba: number, blocks: number): Uint8Array {
  return ok(a.execute(HOST, lun, rw16Cdb(false, lba, blocks), undefined, blocks * a.lus[lun]!.lbs)).dataIn;
}
