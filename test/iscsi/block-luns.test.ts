/**
 * Lab block devices exported as iSCSI LUNs (a gateway array per target): writes, reads, EXTENDED
 * COPY and ROD token copies on nullblk and dm-backed LUNs through the byte-level initiator, data
 * read back both over iSCSI and from the lab; copies between two device LUs go through the copy
 * engine (offloaded inside a nullblk copy domain, emulated through a dm stack); a failing bio is
 * MEDIUM ERROR; REPORT LUNS lists only the LUNs of the session's target.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { IscsiTarget } from '../../src/app/iscsi/target.js';
import * as b from '../../devices/scsi/build.js';
import { SenseKey, TpcInSa, TpcOutSa } from '../../devices/scsi/constants.js';
import { ReqOp } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import { pattern } from '../helpers.js';
import { TestInitiator } from './initiator.js';
import { login, naaOf, serve, unserve } from './fixture.js';
import type { Lab } from '../../src/app/lab.js';

const YAML = `
devices:
  - { kind: nullblk, name: nullb0, size: 16MiB, backing: memory, domain: d0 }
  - { kind: nullblk, name: nullb1, size: 16MiB, backing: memory, domain: d0 }
  - { kind: nullblk, name: nullb2, size: 8MiB, backing: memory }
  - { kind: nullblk, name: nullb3, size: 8MiB, backing: memory }
  - kind: scsi
    array: arr
    lus: [ { name: sda, size: 8MiB }, { name: sdb, size: 8MiB } ]
stack:
  - dm: lin
    table: |
      0     16384 linear /dev/nullb2 0
      16384 16384 linear /dev/nullb3 0
iscsi:
  targets:
    - iqn: iqn.2024-01.org.copylab:null
      luns: [ /dev/nullb0, /dev/nullb1 ]
    - iqn: iqn.2024-01.org.copylab:dm
      luns: [ { lun: 0, dev: /dev/mapper/lin } ]
    - iqn: iqn.2024-01.org.copylab:sda-only
      luns: [ /dev/sda ]
`;

let lab: Lab;
let target: IscsiTarget;
let port = 0;
const open: TestInitiator[] = [];

const session = (targetName: string): Promise<TestInitiator> => login(port, open, { target: targetName });

beforeEach(async () => {
  ({ lab, target, port } = await serve(YAML));
});

afterEach(() => unserve({ lab, target, port }, open));

async function tokenCopy(i: TestInitiator, srcLun: number, src: { lba: number; blocks: number }, dstLun: number, dstLba: number): Promise<void> {
  const pt = b.populateTokenList([src]);
  expect((await i.command(srcLun, b.tpcOutCdb(TpcOutSa.POPULATE_TOKEN, pt.length, 5), { dataOut: pt })).status).toBe(0);
  const rrti = await i.command(srcLun, b.tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 5, 4096), { readLength: 4096 });
  expect(rrti.status).toBe(0);
  const wut = b.writeUsingTokenList(b.tokenFromRrti(rrti.dataIn)!, [{ lba: dstLba, blocks: src.blocks }]);
  expect((await i.command(dstLun, b.tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, wut.length, 6), { dataOut: wut })).status).toBe(0);
}

describe('iSCSI target: lab block devices as LUNs', () => {
  it('nullblk LUNs: write, read, EXTENDED COPY and token copy, offloaded in the copy domain; data equal on the devices', async () => {
    const i = await session('iqn.2024-01.org.copylab:null');
    const data = pattern(512 * 1024, 7, 0); // 1024 blocks: immediate data, then R2T
    expect((await i.command(0, b.rw16Cdb(true, 0, 1024), { dataOut: data })).status).toBe(0);
    expect((await i.command(0, b.rw16Cdb(false, 0, 1024), { readLength: data.length })).dataIn).toEqualBytes(data);
    expect(await lab.read('/dev/nullb0', 0, data.length)).toEqualBytes(data);

    const nullb1 = lab.device('/dev/nullb1');
    const copiesBefore = nullb1.stats.ios.copy;
    const hostBefore = nullb1.stats.host_bytes;
    const list = b.xcopyLid1({ listId: 3, cscds: [b.e4Descriptor(await naaOf(i, 0), 512), b.e4Descriptor(await naaOf(i, 1), 512)], segments: [b.b2bSegment({ src: 0, dst: 1, blocks: 1024, srcLba: 0, dstLba: 4096 })] });
    expect((await i.command(0, b.tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID1, list.length), { dataOut: list })).status).toBe(0);
    // The copy engine offloaded it: a COPY bio on nullb1, no host bytes.
    expect(nullb1.stats.ios.copy).toBeGreaterThan(copiesBefore);
    expect(nullb1.stats.host_bytes).toBe(hostBefore);
    expect(await lab.read('/dev/nullb1', 4096 * 512, data.length)).toEqualBytes(data);
    expect((await i.command(1, b.rw16Cdb(false, 4096, 1024), { readLength: data.length })).dataIn).toEqualBytes(data);

    await tokenCopy(i, 0, { lba: 0, blocks: 1024 }, 1, 8192);
    expect(await lab.read('/dev/nullb1', 8192 * 512, data.length)).toEqualBytes(data);
    // Within one LU too (source and destination on nullb0).
    await tokenCopy(i, 0, { lba: 0, blocks: 256 }, 0, 20000);
    expect(await lab.read('/dev/nullb0', 20000 * 512, 256 * 512)).toEqualBytes(data.subarray(0, 256 * 512));
  });

  it('dm-backed LUN: write across the linear boundary, EXTENDED COPY and token copy inside the stack, read back equal', async () => {
    const i = await session('iqn.2024-01.org.copylab:dm');
    const data = pattern(1024 * 1024, 11, 0);
    const lba = 16384 - 1024; // straddles nullb2 / nullb3
    expect((await i.command(0, b.rw16Cdb(true, lba, 2048), { dataOut: data })).status).toBe(0);
    expect(await lab.read('/dev/mapper/lin', lba * 512, data.length)).toEqualBytes(data);
    const naa = await naaOf(i, 0);
    const list = b.xcopyLid4({ listId: 9, cscds: [b.e4Descriptor(naa, 512)], segments: [b.b2bSegment({ src: 0, dst: 0, blocks: 2048, srcLba: lba, dstLba: 0 })] });
    expect((await i.command(0, b.tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), { dataOut: list })).status).toBe(0);
    expect((await i.command(0, b.rw16Cdb(false, 0, 2048), { readLength: data.length })).dataIn).toEqualBytes(data);
    await tokenCopy(i, 0, { lba, blocks: 2048 }, 0, 24000);
    expect(await lab.read('/dev/mapper/lin', 24000 * 512, data.length)).toEqualBytes(data);
    expect(await lab.read('/dev/nullb3', (24000 - 16384) * 512, data.length)).toEqualBytes(data);
  });

  it('a failing bio on the device is MEDIUM ERROR; an out-of-range read is ILLEGAL REQUEST with nothing read', async () => {
    const i = await session('iqn.2024-01.org.copylab:null');
    lab.device('/dev/nullb0').faults.add(ReqOp.READ, Errno.EIO);
    const r = await i.command(0, b.rw16Cdb(false, 0, 8), { readLength: 4096 });
    expect(r.status).toBe(2);
    expect(r.sense[2]! & 0x0f).toBe(SenseKey.MEDIUM_ERROR);
    lab.device('/dev/nullb1').faults.add(ReqOp.WRITE, Errno.EIO);
    const w = await i.command(1, b.rw16Cdb(true, 0, 8), { dataOut: new Uint8Array(4096).fill(1) });
    expect(w.status).toBe(2);
    expect(w.sense[2]! & 0x0f).toBe(SenseKey.MEDIUM_ERROR);
    const o = await i.command(0, b.rw16Cdb(false, 16 * 2048, 1), { readLength: 512 });
    expect(o.status).toBe(2);
    expect(o.sense[2]! & 0x0f).toBe(SenseKey.ILLEGAL_REQUEST);
  });

  it('COMPARE AND WRITE whose Data-Out is not twice its blocks is INVALID FIELD IN CDB, nothing written; a matching one compares and writes', async () => {
    const i = await session('iqn.2024-01.org.copylab:null');
    const caw = (blocks: number): Uint8Array => {
      const c = new Uint8Array(16);
      c[0] = 0x89; // COMPARE AND WRITE (SBC-3 5.2)
      c[13] = blocks & 0xff;
      return c;
    };
    const halves = new Uint8Array(2 * 256 * 512);
    halves.fill(0xbb, 256 * 512); // compare zeros, write 0xbb
    const r = await i.command(0, caw(256), { dataOut: halves }); // 256 wraps to 0 in the byte
    expect(r.status).toBe(2);
    expect([r.sense[2]! & 0x0f, r.sense[12]]).toEqual([SenseKey.ILLEGAL_REQUEST, 0x24]);
    expect((await lab.read('/dev/nullb0', 0, 512)).every((x) => x === 0)).toBe(true);
    const one = new Uint8Array(1024);
    one.fill(0xbb, 512);
    expect((await i.command(0, caw(1), { dataOut: one })).status).toBe(0);
    expect((await lab.read('/dev/nullb0', 0, 512)).every((x) => x === 0xbb)).toBe(true);
    expect((await i.command(0, caw(1), { dataOut: new Uint8Array(1024) })).sense[2]! & 0x0f).toBe(SenseKey.MISCOMPARE);
  });

  it('REPORT LUNS lists only the LUNs mapped to the session\'s target', async () => {
    const i = await session('iqn.2024-01.org.copylab:sda-only');
    const r = await i.command(0, b.reportLunsCdb(), { readLength: 4096 });
    expect(r.status).toBe(0);
    expect(r.dataIn.length).toBe(16);
    expect(new DataView(r.dataIn.buffer, r.dataIn.byteOffset).getUint32(0)).toBe(8); // one LUN
    // LUN 1 of the array (sdb) is not this target's: LOGICAL UNIT NOT SUPPORTED.
    const t = await i.command(1, b.testUnitReadyCdb());
    expect(t.status).toBe(2);
    expect(t.sense[12]).toBe(0x25);
  });
});
