import { describe, expect, it } from 'vitest';
import { exactDataOut, rwShape, transferBlocks, withTransferBlocks } from '../../../devices/scsi/transfer-length.js';
import * as b from '../../../devices/scsi/build.js';
import { Op } from '../../../devices/scsi/constants.js';

describe('SCSI model: how much data a CDB moves (what the iSCSI transport asks)', () => {
  it('COMPARE AND WRITE must carry exactly its verify and write halves; other commands have no exact rule', () => {
    const caw = new Uint8Array(16);
    caw[0] = Op.COMPARE_AND_WRITE;
    caw[13] = 3;
    expect(exactDataOut(caw, 512)).toEqual({ bytes: 3 * 512 * 2, field: 13 });
    caw[13] = 0;
    expect(exactDataOut(caw, 4096)).toEqual({ bytes: 0, field: 13 });
    expect(exactDataOut(b.rw16Cdb(true, 0, 8), 512)).toBeUndefined();
    expect(exactDataOut(caw.subarray(0, 10), 512)).toBeUndefined();
  });

  it('READ/WRITE transfer length: read, and rewritten to fewer blocks', () => {
    const cdb = b.rw16Cdb(true, 100, 70000);
    const s = rwShape(cdb)!;
    expect(s.dir).toBe('write');
    expect(transferBlocks(cdb, s)).toBe(70000);
    expect(transferBlocks(withTransferBlocks(cdb, s, 5), s)).toBe(5);
    const r6 = new Uint8Array(6);
    r6[0] = 0x08;
    expect(transferBlocks(r6, rwShape(r6)!)).toBe(256); // READ(6): 0 means 256 blocks
  });
});
