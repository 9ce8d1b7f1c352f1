import { describe, expect, it } from 'vitest';
import { inquiryCdb, readCapacity10Cdb, readCapacity16Cdb, reportLunsCdb, rsocCdb, rw10Cdb, unmap, writeSame16Cdb } from '../../../devices/scsi/build.js';
import { Op, Vpd } from '../../../devices/scsi/constants.js';
import { be16, be32 } from '../../../src/core/util/bytes.js';
import { ScsiFabric } from '../../../devices/scsi/array.js';
import { HOST, fill, ok, readBack, sense, twoArrays } from './helpers.js';

describe('SCSI commands', () => {
  it('INQUIRY: 3PC bit, VPD pages, NAA 6 designator and serial number', () => {
    const { a0 } = twoArrays();
    const std = ok(a0.execute(HOST, 0, inquiryCdb(null), undefined, 255)).dataIn;
    expect(std[5]! & 0x08).toBe(0x08);
    const pages = ok(a0.execute(HOST, 0, inquiryCdb(Vpd.SUPPORTED_PAGES), undefined, 255)).dataIn;
    expect([...pages.subarray(4)]).toEqual([0x00, 0x80, 0x83, 0x8f, 0xb0, 0xb1, 0xb2]);
    const id = ok(a0.execute(HOST, 0, inquiryCdb(Vpd.DEVICE_IDENTIFICATION), undefined, 255)).dataIn;
    expect([id[4]! & 0xf, id[5]! & 0xf, id[7]]).toEqual([1, 3, 16]);
    expect(id[8]! >> 4).toBe(6);
    const sn = ok(a0.execute(HOST, 0, inquiryCdb(Vpd.UNIT_SERIAL_NUMBER), undefined, 255)).dataIn;
    expect(Buffer.from(sn.subarray(4)).toString()).toBe(a0.lus[0]!.serial);
    for (const p of [0x8f, 0xb0, 0xb1, 0xb2]) expect(ok(a0.execute(HOST, 0, inquiryCdb(p), undefined, 4096)).dataIn[1]).toBe(p);
    const s = sense(a0.execute(HOST, 0, inquiryCdb(0x99)));
    expect([s.asc, s.field]).toEqual([0x24, 2]);
    // No copy manager: no 3PC bit, EXTENDED COPY is an invalid operation code.
    const plain = new ScsiFabric().addArray({ name: 'p', copyManager: false, lus: [{ name: 'x', size: 1 << 20 }] });
    expect(ok(plain.execute(HOST, 0, inquiryCdb(null), undefined, 255)).dataIn[5]! & 0x08).toBe(0);
    expect(sense(plain.execute(HOST, 0, new Uint8Array(16).fill(0).map((_, i) => (i === 0 ? 0x83 : 0)))).asc).toBe(0x20);
  });

  it('READ CAPACITY, READ/WRITE (10/16), WRITE SAME with UNMAP, UNMAP, GET LBA STATUS', () => {
    const { a0 } = twoArrays();
    const rc10 = ok(a0.execute(HOST, 2, readCapacity10Cdb(), undefined, 8)).dataIn;
    expect([be32(rc10, 0), be32(rc10, 4)]).toEqual([(8 << 20) / 4096 - 1, 4096]);
    const rc16 = ok(a0.execute(HOST, 0, readCapacity16Cdb(), undefined, 32)).dataIn;
    expect(rc16[14]! & 0x80).toBe(0x80); // LBPME
    const d = fill(a0, 0, 0, 256, 1);
    expect(Buffer.from(ok(a0.execute(HOST, 0, rw10Cdb(false, 0, 256), undefined, 256 * 512)).dataIn).equals(Buffer.from(d))).toBe(true);
    expect(sense(a0.execute(HOST, 0, rw10Cdb(false, (8 << 20) / 512 - 1, 2), undefined, 1024)).asc).toBe(0x21);
    ok(a0.execute(HOST, 0, writeSame16Cdb(0, 128, true), new Uint8Array(512)));
    expect(readBack(a0, 0, 0, 128).every((b) => b === 0)).toBe(true);
    const u = unmap([{ lba: 128, blocks: 128 }]);
    ok(a0.execute(HOST, 0, u.cdb, u.data));
    const gls = new Uint8Array(16);
    gls[0] = Op.SERVICE_ACTION_IN_16;
    gls[1] = 0x12;
    gls[13] = 0xff;
    const st = ok(a0.execute(HOST, 0, gls, undefined, 255)).dataIn;
    expect(st[20]).toBe(1); // deallocated from LBA 0
  });

  it('WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 writes through the last LBA (WSNZ 0); past the end it is LBA OUT OF RANGE and writes nothing', () => {
    const { a0 } = twoArrays();
    const last = (8 << 20) / 512 - 1;
    expect(ok(a0.execute(HOST, 0, inquiryCdb(Vpd.BLOCK_LIMITS), undefined, 64)).dataIn[4]! & 0x01).toBe(0); // WSNZ
    const before = fill(a0, 0, last - 9, 10, 7);
    const ones = new Uint8Array(512).fill(0xa5);
    ok(a0.execute(HOST, 0, writeSame16Cdb(last - 3, 0, false), ones));
    expect(readBack(a0, 0, last - 3, 4).every((b) => b === 0xa5)).toBe(true);
    expect(readBack(a0, 0, last - 9, 6)).toEqual(before.subarray(0, 6 * 512));
    for (const lba of [last + 1, last + 2]) expect(sense(a0.execute(HOST, 0, writeSame16Cdb(lba, 0, false), ones)).asc).toBe(0x21);
    ok(a0.execute(HOST, 0, writeSame16Cdb(last - 1, 0, true), new Uint8Array(512))); // UNMAP to the end
    expect(readBack(a0, 0, last - 1, 2).every((b) => b === 0)).toBe(true);
  });

  it('REPORT LUNS follows the access list; an invisible LUN is LOGICAL UNIT NOT SUPPORTED; REPORT SUPPORTED OPERATION CODES lists 83h', () => {
    const a = new ScsiFabric().addArray({ name: 'a', lus: [{ name: 'x', size: 1 << 20 }, { name: 'y', size: 1 << 20 }], initiators: { h: [1] } });
    const rl = ok(a.execute('h', 0, reportLunsCdb(), undefined, 4096)).dataIn;
    expect(be32(rl, 0)).toBe(8);
    expect(rl[9]).toBe(1);
    expect(sense(a.execute('h', 0, rw10Cdb(false, 0, 1), undefined, 512)).asc).toBe(0x25);
    const one = ok(a.execute('h', 1, rsocCdb(0x83, 0x00), undefined, 64)).dataIn;
    expect(one[1]! & 0x07).toBe(0x03);
    expect(be16(one, 2)).toBe(16);
    const all = ok(a.execute('h', 1, rsocCdb(), undefined, 8192)).dataIn;
    expect(be32(all, 0) % 8).toBe(0);
  });

  it('PERSISTENT RESERVE: register, reserve (EA, registrants only), preempt, release, clear', () => {
    const a = new ScsiFabric().addArray({ name: 'a', lus: [{ name: 'x', size: 1 << 20 }] });
    const pr = (who: string, sa: number, type: number, key: bigint, saKey: bigint) => {
      const p = new Uint8Array(24);
      new DataView(p.buffer).setBigUint64(0, key);
      new DataView(p.buffer).setBigUint64(8, saKey);
      return a.execute(who, 0, new Uint8Array([0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0]), p);
    };
    const read = (who: string) => a.execute(who, 0, rw10Cdb(false, 0, 1), undefined, 512).status;
    ok(pr('A', 0, 0, 0n, 1n));
    ok(pr('B', 0, 0, 0n, 2n));
    ok(pr('A', 1, 3, 1n, 0n)); // EXCLUSIVE ACCESS
    expect([read('A'), read('B'), read('C')]).toEqual([0, 0x18, 0x18]);
    expect(pr('B', 1, 3, 2n, 0n).status).toBe(0x18);
    ok(pr('B', 4, 6, 2n, 1n)); // B preempts A: EXCLUSIVE ACCESS, REGISTRANTS ONLY
    expect([read('B'), read('A'), read('C')]).toEqual([0, 0x18, 0x18]); // A's registration was removed
    ok(pr('A', 0, 0, 0n, 5n));
    expect(read('A')).toBe(0);
    ok(pr('B', 2, 6, 2n, 0n));
    expect(read('C')).toBe(0);
    ok(pr('B', 3, 0, 2n, 0n));
    const keys = ok(a.execute('A', 0, new Uint8Array([0x5e, 0, 0, 0, 0, 0, 0, 0, 255, 0]), undefined, 255)).dataIn;
    expect(be32(keys, 4)).toBe(0);
    expect(pr('A', 1, 3, 5n, 0n).status).toBe(0x18); // not registered any more
  });
});
