import { describe, expect, it } from 'vitest';
import { cdb6, inquiryCdb, reportLunsCdb, rw10Cdb } from '../../../devices/scsi/build.js';
import { Op, SenseKey } from '../../../devices/scsi/constants.js';
import { decodeSense } from '../../../devices/scsi/sense.js';
import { ok, readBack, sense, twoArrays } from './helpers.js';

const A = 'iqn.2024-01.lab:a';
const B = 'iqn.2024-01.lab:b';
const C = 'iqn.2024-01.lab:c';
const TUR = cdb6(Op.TEST_UNIT_READY);
/** BUS DEVICE RESET FUNCTION OCCURRED (SAM-5 6.3.3). */
const RESET_UA = [SenseKey.UNIT_ATTENTION, 0x29, 0x03];

describe('unit attention after LOGICAL UNIT RESET (SAM-5 6.3.3, 5.14)', () => {
  it('each named nexus gets it once, before anything runs; INQUIRY and REPORT LUNS leave it pending; REQUEST SENSE returns and clears it', () => {
    const { a0 } = twoArrays();
    a0.logicalUnitReset(0, [A, B]);
    ok(a0.execute(A, 0, inquiryCdb(null)));
    ok(a0.execute(A, 0, reportLunsCdb()));
    const s = sense(a0.execute(A, 0, rw10Cdb(true, 0, 1), new Uint8Array(512).fill(0xa5)));
    expect([s.key, s.asc, s.ascq]).toEqual(RESET_UA);
    expect(readBack(a0, 0, 0, 1).every((b) => b === 0)).toBe(true); // the WRITE did not run
    ok(a0.execute(A, 0, TUR));
    const rs = decodeSense(ok(a0.execute(B, 0, cdb6(Op.REQUEST_SENSE, [0, 0, 0, 252]), undefined, 252)).dataIn);
    expect([rs?.key, rs?.asc, rs?.ascq]).toEqual(RESET_UA);
    ok(a0.execute(B, 0, TUR));
    ok(a0.execute(C, 0, TUR)); // not named: no condition
  });

  it('is per LU, and an I_T nexus loss drops what that nexus had pending', () => {
    const { a0 } = twoArrays();
    a0.logicalUnitReset(0, [A]);
    ok(a0.execute(A, 1, TUR));
    a0.nexusLoss(A);
    ok(a0.execute(A, 0, TUR));
  });
});
