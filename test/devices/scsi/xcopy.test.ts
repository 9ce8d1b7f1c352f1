import { describe, expect, it } from 'vitest';
import { ScsiFabric } from '../../../devices/scsi/array.js';
import { b2bSegment, e4Descriptor, tpcInCdb, tpcOutCdb, xcopyLid1, xcopyLid4 } from '../../../devices/scsi/build.js';
import { TpcInSa, TpcOutSa } from '../../../devices/scsi/constants.js';
import { TPC_LIMITS } from '../../../devices/scsi/tpc-limits.js';
import { be16, be32, putBe16 } from '../../../src/core/util/bytes.js';
import { HOST, fill, ok, readBack, sense, twoArrays } from './helpers.js';

const xcopy = (list: Uint8Array, len = list.length) => tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID1, len);

describe('EXTENDED COPY (LID1)', () => {
  it("the SNIA paper's Table 8 example: one E4 → E4 copy, one 02h segment, list padded to 112 bytes", () => {
    const { a0 } = twoArrays();
    const [sda, sdb] = [a0.lus[0]!, a0.lus[1]!];
    const src = fill(a0, 0, 100, 16, 8);
    // The paper's shape: 16-byte header, two 32-byte E4 descriptors, a 28-byte segment padded to 32.
    const list = xcopyLid1({ cscds: [e4Descriptor(sda.naa, 512), e4Descriptor(sdb.naa, 512)], segments: [b2bSegment({ src: 0, dst: 1, blocks: 16, srcLba: 100, dstLba: 200 })], segmentPad: 4 });
    expect(list.length).toBe(112);
    expect(be32(list, 8)).toBe(32); // segment descriptor list length counts the pad
    ok(a0.execute(HOST, 0, xcopy(list), list));
    expect(readBack(a0, 1, 200, 16)).toEqualBytes(src);
  });

  it('pins the reading of the trailing pad: zero padding is ignored, a non-zero remainder is a truncated descriptor', () => {
    const { a0 } = twoArrays();
    const [sda, sdb] = [a0.lus[0]!, a0.lus[1]!];
    const src = fill(a0, 0, 0, 8, 3);
    const base = { cscds: [e4Descriptor(sda.naa, 512), e4Descriptor(sdb.naa, 512)], segments: [b2bSegment({ src: 0, dst: 1, blocks: 8, srcLba: 0, dstLba: 0 })] };
    // (a) Segment list length 28, parameter list length 112: the 4 bytes lie after the lists and are not read.
    const tight = xcopyLid1(base);
    const padded = new Uint8Array(112);
    padded.set(tight);
    ok(a0.execute(HOST, 0, xcopy(padded), padded));
    expect(readBack(a0, 1, 0, 8)).toEqualBytes(src);
    // (b) Segment list length 32 whose last 4 bytes are not zero: a truncated descriptor, nothing copied.
    const bad = xcopyLid1({ ...base, segments: [b2bSegment({ src: 0, dst: 1, blocks: 8, srcLba: 0, dstLba: 64 })], segmentPad: 4 });
    bad[bad.length - 4] = 0x02; // a block → block header whose DESCRIPTOR LENGTH (18h) runs past the list
    bad[bad.length - 1] = 0x18;
    const s = sense(a0.execute(HOST, 0, xcopy(bad), bad));
    expect([s.key, s.asc, s.ascq]).toEqual([0x5, 0x1a, 0x00]);
    expect(readBack(a0, 1, 64, 8).every((b) => b === 0)).toBe(true);
    // (c) A parameter list length shorter than the header's lengths: truncation, PARAMETER LIST LENGTH ERROR.
    const s2 = sense(a0.execute(HOST, 0, xcopy(tight, tight.length - 1), tight));
    expect([s2.asc, s2.ascq]).toEqual([0x1a, 0x00]);
  });

  it("the paper's virtual-disk example: three segments from two source LUs to two destination LUs in one command", () => {
    const { a0, a1 } = twoArrays();
    const [sda, sdb, sdc] = a0.lus as [typeof a0.lus[0], typeof a0.lus[0], typeof a0.lus[0]];
    const sdd = a1.lus[0]!;
    const s1 = fill(a0, 0, 0, 64, 1);
    const s2 = fill(a0, 0, 512, 32, 2);
    const s3 = fill(a0, 1, 1000, 16, 3);
    const cscds = [e4Descriptor(sda!.naa, 512), e4Descriptor(sdb!.naa, 512), e4Descriptor(sdc!.naa, 4096), e4Descriptor(sdd.naa, 512)];
    const list = xcopyLid1({
      listId: 7,
      cscds,
      segments: [
        b2bSegment({ src: 0, dst: 2, blocks: 64, srcLba: 0, dstLba: 0 }), // 32 KiB onto the 4K LU at LBA 0
        b2bSegment({ src: 0, dst: 3, blocks: 32, srcLba: 512, dstLba: 4096 }), // onto the other array's LU
        b2bSegment({ src: 1, dst: 2, blocks: 16, srcLba: 1000, dstLba: 8 }),
      ],
    });
    ok(a0.execute(HOST, 0, xcopy(list), list));
    expect(readBack(a0, 2, 0, 8)).toEqualBytes(s1);
    expect(readBack(a1, 0, 4096, 32)).toEqualBytes(s2);
    expect(readBack(a0, 2, 8, 2)).toEqualBytes(s3);
    // RECEIVE COPY RESULTS: copy status of list 7.
    const st = ok(a0.execute(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID1, 7), undefined, 64)).dataIn;
    expect(st[4]).toBe(0x01);
    expect(be16(st, 5)).toBe(3);
    expect(be32(st, 8)).toBe((64 + 32 + 16) * 512);
  });

  it('copies a whole LU in segments (max blocks per segment) and a VM-style multi-segment copy across arrays', () => {
    const fabric = new ScsiFabric();
    const a = fabric.addArray({ name: 'a', lus: [{ name: 'src', size: 64 << 20 }, { name: 'dst', size: 64 << 20 }] });
    const b = fabric.addArray({ name: 'b', lus: [{ name: 'vm', size: 64 << 20, lbs: 4096 }] });
    const blocks = (64 << 20) / 512;
    for (let lba = 0; lba < blocks; lba += 16384) fill(a, 0, lba, 16384, 5);
    const segs = [];
    for (let lba = 0; lba < blocks; lba += 65535) segs.push(b2bSegment({ src: 0, dst: 1, blocks: Math.min(65535, blocks - lba), srcLba: lba, dstLba: lba }));
    const list = xcopyLid1({ cscds: [e4Descriptor(a.lus[0]!.naa, 512), e4Descriptor(a.lus[1]!.naa, 512)], segments: segs });
    ok(a.execute(HOST, 0, xcopy(list), list));
    for (let lba = 0; lba < blocks; lba += 16384) expect(readBack(a, 1, lba, 16384)).toEqualBytes(readBack(a, 0, lba, 16384));
    // A VM's extents (scattered) to a 4K LU of another array, sent to that array's copy manager.
    const extents = [[0, 8], [4096, 64], [70000, 16], [123456, 8]] as const;
    const vmSegs = extents.map(([lba, n], i) => b2bSegment({ src: 0, dst: 1, blocks: n, srcLba: lba, dstLba: i * 64, dc: false }));
    const vmList = xcopyLid1({ cscds: [e4Descriptor(a.lus[0]!.naa, 512), e4Descriptor(b.lus[0]!.naa, 4096)], segments: vmSegs });
    ok(b.execute(HOST, 0, xcopy(vmList), vmList));
    extents.forEach(([lba, n], i) => expect(readBack(b, 0, i * 64, n / 8)).toEqualBytes(readBack(a, 0, lba, n)));
  });

  it('a zero-length EXTENDED COPY completes GOOD and LID4 with IMMED reports errors through RECEIVE COPY STATUS', () => {
    const { a0 } = twoArrays();
    ok(a0.execute(HOST, 0, xcopy(new Uint8Array(0), 0)));
    const src = fill(a0, 0, 0, 4, 9);
    const good = xcopyLid4({ listId: 0x1234, cscds: [e4Descriptor(a0.lus[0]!.naa, 512), e4Descriptor(a0.lus[1]!.naa, 512)], segments: [b2bSegment({ src: 0, dst: 1, blocks: 4, srcLba: 0, dstLba: 4 })] });
    ok(a0.execute(HOST, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, good.length), good));
    expect(readBack(a0, 1, 4, 4)).toEqualBytes(src);
    const st = ok(a0.execute(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, 0x1234), undefined, 256)).dataIn;
    expect(st[4]).toBe(TpcOutSa.EXTENDED_COPY_LID4);
    expect(st[5]).toBe(0x01);
    const bad = xcopyLid4({ listId: 0x99, immed: true, cscds: [e4Descriptor(a0.lus[0]!.naa, 512), e4Descriptor(new Uint8Array(16).fill(0x61), 512)], segments: [b2bSegment({ src: 0, dst: 1, blocks: 4, srcLba: 0, dstLba: 4 })] });
    ok(a0.execute(HOST, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, bad.length), bad));
    const st2 = ok(a0.execute(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, 0x99), undefined, 256)).dataIn;
    expect(st2[5]).toBe(0x02);
    expect(st2[12]).toBe(0x02);
    expect([st2[32 + 2]! & 0xf, st2[32 + 12], st2[32 + 13]]).toEqual([0x0a, 0x0d, 0x02]);
  });

  it('I_T nexus loss discards the copy results held for that initiator only (libiscsi CopyStatus: no copy, no status)', () => {
    const { a0 } = twoArrays();
    fill(a0, 0, 0, 4, 3);
    const list = xcopyLid1({ listId: 1, cscds: [e4Descriptor(a0.lus[0]!.naa, 512), e4Descriptor(a0.lus[1]!.naa, 512)], segments: [b2bSegment({ src: 0, dst: 1, blocks: 4, srcLba: 0, dstLba: 0 })] });
    ok(a0.execute(HOST, 0, xcopy(list), list));
    ok(a0.execute('iqn.2024-01.org.copylab:other', 0, xcopy(list), list));
    ok(a0.execute(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID1, 1), undefined, 256));
    a0.nexusLoss(HOST);
    const s = sense(a0.execute(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID1, 1), undefined, 256));
    expect([s.key, s.asc, s.ascq]).toEqual([0x5, 0x24, 0x00]);
    ok(a0.execute('iqn.2024-01.org.copylab:other', 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID1, 1), undefined, 256));
  });

  it('reports its limits in RECEIVE COPY OPERATING PARAMETERS and enforces them', () => {
    const { a0 } = twoArrays();
    const op = ok(a0.execute(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_OPERATING_PARAMETERS), undefined, 256)).dataIn;
    expect(be16(op, 8)).toBe(TPC_LIMITS.maxCscdDescriptors);
    expect(be16(op, 10)).toBe(TPC_LIMITS.maxSegmentDescriptors);
    expect(TPC_LIMITS.maxCscdDescriptors).toBeGreaterThanOrEqual(64);
    expect(TPC_LIMITS.maxSegmentDescriptors).toBeGreaterThanOrEqual(64);
    expect([...op.subarray(44, 44 + op[43]!)]).toEqual([0x02, 0xe4]);
    // 64 CSCDs and 64 segments are taken.
    const sda = a0.lus[0]!;
    const many = xcopyLid1({ cscds: Array.from({ length: 64 }, () => e4Descriptor(sda.naa, 512)), segments: Array.from({ length: 64 }, (_, i) => b2bSegment({ src: i, dst: 63 - i, blocks: 1, srcLba: i, dstLba: 1000 + i })) });
    ok(a0.execute(HOST, 0, xcopy(many), many));
  });
});

describe('EXTENDED COPY errors', () => {
  const setup = () => {
    const t = twoArrays();
    const [sda, sdb] = [t.a0.lus[0]!, t.a0.lus[1]!];
    const cscds = [e4Descriptor(sda.naa, 512), e4Descriptor(sdb.naa, 512)];
    const seg = (o: Partial<Parameters<typeof b2bSegment>[0]> = {}) => b2bSegment({ src: 0, dst: 1, blocks: 8, srcLba: 0, dstLba: 0, ...o });
    fill(t.a0, 0, 0, 64, 4);
    return { ...t, cscds, seg };
  };
  const run = (a: ReturnType<typeof setup>['a0'], list: Uint8Array, initiator = HOST) => a.execute(initiator, 0, xcopy(list), list);
  const untouched = (a: ReturnType<typeof setup>['a0']) => expect(readBack(a, 1, 0, 64).every((b) => b === 0)).toBe(true);

  it('provokes every sense code of the fact sheet, writing nothing where nothing was transferred', () => {
    const { a0, cscds, seg } = setup();
    const cases: [string, Uint8Array, number, number, number, number | null][] = [];
    // PARAMETER LIST LENGTH ERROR: longer than the maximum descriptor list length allows.
    {
      const l = xcopyLid1({ cscds, segments: [seg()] });
      putBe16(l, 2, 96); // the header claims three CSCD descriptors, the list holds two and a segment
      cases.push(['truncated list', l.subarray(0, 16 + 64), 0x5, 0x1a, 0x00, null]);
      const long = new Uint8Array(16 + TPC_LIMITS.maxDescriptorListLength + 1);
      long.set(l);
      putBe16(long, 2, 64);
      cases.push(['longer than the maximum', long, 0x5, 0x1a, 0x00, null]);
    }
    cases.push(['too many target descriptors', xcopyLid1({ cscds: Array.from({ length: TPC_LIMITS.maxCscdDescriptors + 1 }, () => cscds[0]!), segments: [seg()] }), 0x5, 0x26, 0x06, null]);
    cases.push(['too many segment descriptors', xcopyLid1({ cscds, segments: Array.from({ length: TPC_LIMITS.maxSegmentDescriptors + 1 }, () => seg()) }), 0x5, 0x26, 0x08, null]);
    {
      const bad = cscds[1]!.slice();
      bad[0] = 0xe0; // Fibre Channel N_Port_Name CSCD: not supported
      cases.push(['unsupported target descriptor', xcopyLid1({ cscds: [cscds[0]!, bad], segments: [seg()] }), 0x5, 0x26, 0x07, 16 + 32]);
    }
    {
      const s = seg();
      s[0] = 0x03; // block → stream+application client: not supported
      cases.push(['unsupported segment descriptor', xcopyLid1({ cscds, segments: [s] }), 0x5, 0x26, 0x09, 16 + 64]);
    }
    cases.push(['invalid CSCD index', xcopyLid1({ cscds, segments: [seg({ dst: 5 })] }), 0xa, 0x0d, 0x02, 16 + 64 + 6]);
    cases.push(['segment past the destination LU end', xcopyLid1({ cscds, segments: [seg({ dstLba: a0.lus[1]!.blocks - 1, blocks: 2 })] }), 0xa, 0x0d, 0x02, 16 + 64 + 20]);
    {
      const s = seg();
      putBe16(s, 2, 0x10);
      cases.push(['bad descriptor length', xcopyLid1({ cscds, segments: [s] }), 0x5, 0x26, 0x00, 16 + 64 + 2]);
    }
    cases.push(['list id usage 01b', xcopyLid1({ cscds, segments: [seg()], usage: 0b01 }), 0x5, 0x26, 0x00, 1]);
    for (const [name, list, key, asc, ascq, field] of cases) {
      const s = sense(run(a0, list));
      expect([name, s.key, s.asc, s.ascq]).toEqual([name, key, asc, ascq]);
      if (field !== null) expect([name, s.field, s.cd]).toEqual([name, field, false]);
      untouched(a0);
    }
    // INVALID COMMAND OPERATION CODE and INVALID FIELD IN CDB with its field pointer.
    const s1 = sense(a0.execute(HOST, 0, new Uint8Array([0xc7, 0, 0, 0, 0, 0])));
    expect([s1.key, s1.asc, s1.ascq]).toEqual([0x5, 0x20, 0x00]);
    const inq = new Uint8Array([0x12, 0, 0x83, 0, 0xff, 0]); // page code without EVPD
    const s2 = sense(a0.execute(HOST, 0, inq));
    expect([s2.key, s2.asc, s2.ascq, s2.field, s2.cd]).toEqual([0x5, 0x24, 0x00, 2, true]);
  });

  it('COPY ABORTED: an unresolved CSCD refuses the list before anything moves; a device failure mid-copy leaves earlier segments copied', () => {
    const { a0, cscds, seg } = setup();
    const unknown = e4Descriptor(new Uint8Array(16).fill(0x6a), 512);
    const list = xcopyLid1({ listId: 3, cscds: [...cscds, unknown], segments: [seg({ blocks: 8 }), seg({ srcLba: 8, dstLba: 8, blocks: 8 }), seg({ dst: 2, srcLba: 16, dstLba: 16, blocks: 12 })] });
    const s = sense(run(a0, list));
    expect([s.key, s.asc, s.ascq]).toEqual([0x0a, 0x0d, 0x02]);
    expect(s.information).toBe(12);
    expect(s.csi).toBe(2);
    expect(s.field).toBe(16 + 3 * 32 + 2 * 28 + 6); // the destination index of segment 2
    untouched(a0); // checked before segment 0 ran: nothing moved
    // RECEIVE COPY FAILURE DETAILS returns the same sense.
    const fd = ok(a0.execute(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_FAILURE_DETAILS_LID1, 3), undefined, 256)).dataIn;
    expect(fd[56]).toBe(0x02);
    expect(fd[60 + 12]).toBe(0x0d);
    // A device failure inside a segment: the residual counts what the segment did not move.
    a0.lus[1]!.injectCopyWriteFault(1024 * 1024);
    const big = xcopyLid1({ cscds, segments: [seg({ blocks: 8, dstLba: 100 }), seg({ blocks: 4096, srcLba: 0, dstLba: 8192 })] });
    const s3 = sense(run(a0, big));
    expect([s3.key, s3.asc, s3.ascq, s3.csi, s3.information]).toEqual([0x0a, 0x0d, 0x02, 1, 2048]);
    expect(readBack(a0, 1, 8192, 2048)).toEqualBytes(readBack(a0, 0, 0, 2048));
    expect(readBack(a0, 1, 8192 + 2048, 8).every((b) => b === 0)).toBe(true);
  });

  it('checks access lists for every source and destination, and reservations like direct writes', () => {
    const fabric = new ScsiFabric();
    const a = fabric.addArray({ name: 'a', lus: [{ name: 'x', size: 1 << 20 }, { name: 'y', size: 1 << 20 }, { name: 'z', size: 1 << 20 }], initiators: { [HOST]: [0, 1], other: [0, 1, 2] } });
    fill(a, 0, 0, 8, 1);
    const [x, y, z] = a.lus as [typeof a.lus[0], typeof a.lus[0], typeof a.lus[0]];
    // HOST may not see z: neither as a destination nor as a source.
    const toZ = xcopyLid1({ cscds: [e4Descriptor(x!.naa, 512), e4Descriptor(z!.naa, 512)], segments: [b2bSegment({ src: 0, dst: 1, blocks: 8, srcLba: 0, dstLba: 0 })] });
    const s = sense(a.execute(HOST, 0, xcopy(toZ), toZ));
    expect([s.key, s.asc, s.ascq, s.field]).toEqual([0x5, 0x20, 0x02, 16 + 32]);
    expect(a.execute('other', 2, new Uint8Array([0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]), undefined, 4096).dataIn.every((b) => b === 0)).toBe(true);
    const fromZ = xcopyLid1({ cscds: [e4Descriptor(z!.naa, 512), e4Descriptor(y!.naa, 512)], segments: [b2bSegment({ src: 0, dst: 1, blocks: 8, srcLba: 0, dstLba: 0 })] });
    expect(sense(a.execute(HOST, 0, xcopy(fromZ), fromZ)).asc).toBe(0x20);
    // 'other' holds a WRITE EXCLUSIVE reservation on y: HOST's copy into y conflicts, as its WRITE does.
    const prOut = (who: string, sa: number, type: number, key: bigint, saKey: bigint) => {
      const p = new Uint8Array(24);
      new DataView(p.buffer).setBigUint64(0, key);
      new DataView(p.buffer).setBigUint64(8, saKey);
      return a.execute(who, 1, new Uint8Array([0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0]), p);
    };
    ok(prOut('other', 0, 0, 0n, 0xabcn));
    ok(prOut('other', 1, 1, 0xabcn, 0n));
    const toY = xcopyLid1({ cscds: [e4Descriptor(x!.naa, 512), e4Descriptor(y!.naa, 512)], segments: [b2bSegment({ src: 0, dst: 1, blocks: 8, srcLba: 0, dstLba: 0 })] });
    expect(a.execute(HOST, 1, new Uint8Array([0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]), new Uint8Array(512)).status).toBe(0x18);
    expect(a.execute(HOST, 0, xcopy(toY), toY).status).toBe(0x18);
    expect(readBack(a, 1, 0, 8).every((b) => b === 0)).toBe(true);
    // The holder's own copy goes through.
    ok(a.execute('other', 0, xcopy(toY), toY));
    expect(readBack(a, 1, 0, 8)).toEqualBytes(readBack(a, 0, 0, 8));
  });
});
