import { describe, it, expect } from 'vitest';
import { nvmeLab, ns4k, io, admin, copy, lba } from './nvme-helpers.js';
import { pattern, KiB, MiB } from '../../helpers.js';
import { AdminOpc, Fid, HBS_SIZE, IoOpc, SOPT_FCO, Status } from '../../../devices/nvme/spec.js';

const B = 4096;

async function fill(lab: Awaited<ReturnType<typeof nvmeLab>>['lab'], dev: string, off: number, len: number, seed: number): Promise<Uint8Array> {
  const d = pattern(len, seed, off);
  await lab.write(dev, off, d);
  return d;
}

function hbs(cdfe: number): Uint8Array {
  const b = new Uint8Array(HBS_SIZE);
  new DataView(b.buffer).setUint16(4, cdfe, true);
  return b;
}

describe('NVMe Copy command', () => {
  it('copies ranges inside the device (format 0), read back equal, no host data moved', async () => {
    const { lab, n } = nvmeLab([ns4k()]);
    const a = await fill(lab, 'nvme0n1', 0, 8 * B, 1);
    const b = await fill(lab, 'nvme0n1', 100 * B, 4 * B, 2);
    const dma0 = n.ctrl!.stats.dma_bytes;
    const r = await copy(n, 1, 1000, [{ slba: 0, nlb: 8 }, { slba: 100, nlb: 4 }], 0, { fua: true });
    expect(r.status).toBe(Status.SUCCESS);
    // Only the descriptor list crossed the bus.
    expect(n.ctrl!.stats.dma_bytes - dma0).toBe(2 * 32);
    expect(await lab.read('nvme0n1', 1000 * B, 8 * B)).toEqualBytes(a);
    expect(await lab.read('nvme0n1', 1008 * B, 4 * B)).toEqualBytes(b);
  });

  it('carries 128 ranges in one command (MSRC 127) and copies each', async () => {
    const { lab, n } = nvmeLab([ns4k()]);
    const src = await fill(lab, 'nvme0n1', 0, 256 * B, 9);
    // Every other block, 128 one-block ranges, gathered onto 128 contiguous blocks.
    const ranges = Array.from({ length: 128 }, (_, i) => ({ slba: 2 * i, nlb: 1 }));
    const r = await copy(n, 1, 2048, ranges);
    expect(r.status).toBe(Status.SUCCESS);
    const out = await lab.read('nvme0n1', 2048 * B, 128 * B);
    for (let i = 0; i < 128; i++) expect(out.subarray(i * B, (i + 1) * B)).toEqualBytes(src.subarray(2 * i * B, (2 * i + 1) * B));
  });

  it('refuses NR > MSRC + 1, a total above MCL and a range above MSSRL with 0x0183, writing nothing', async () => {
    const { lab, n } = nvmeLab([ns4k(16 * MiB, { msrc: 3, mcl: 64, mssrl: 16 })]);
    await fill(lab, 'nvme0n1', 0, 64 * B, 4);
    expect((await copy(n, 1, 1000, Array.from({ length: 5 }, (_, i) => ({ slba: i, nlb: 1 })))).status).toBe(Status.CMD_SIZE_LIMIT);
    expect((await copy(n, 1, 1000, [{ slba: 0, nlb: 16 }, { slba: 16, nlb: 16 }, { slba: 32, nlb: 16 }, { slba: 48, nlb: 16 }])).status).toBe(Status.SUCCESS);
    const over = await copy(n, 1, 1200, [{ slba: 0, nlb: 16 }, { slba: 16, nlb: 16 }, { slba: 32, nlb: 16 }, { slba: 48, nlb: 2 }]);
    expect(over.status).toBe(Status.SUCCESS); // 50 blocks ≤ MCL 64
    const tooLong = await copy(n, 1, 1400, [{ slba: 0, nlb: 16 }, { slba: 16, nlb: 16 }, { slba: 32, nlb: 16 }, { slba: 48, nlb: 17 }]);
    expect(tooLong.status).toBe(Status.CMD_SIZE_LIMIT); // 65 > MCL
    expect(tooLong.dnr).toBe(true);
    const single = await copy(n, 1, 1600, [{ slba: 0, nlb: 4 }, { slba: 4, nlb: 17 }]);
    expect(single.status).toBe(Status.CMD_SIZE_LIMIT); // 17 > MSSRL, at range 1
    expect(single.dw0).toBe(1); // range 0 was copied
    expect(await lab.read('nvme0n1', 1600 * B, 4 * B)).toEqualBytes(await lab.read('nvme0n1', 0, 4 * B));
    expect(await lab.read('nvme0n1', 1604 * B, 4 * B)).toEqualBytes(new Uint8Array(4 * B));
    expect(await lab.read('nvme0n1', 1400 * B, 4 * B)).toEqualBytes(new Uint8Array(4 * B));
  });

  it('refuses an unsupported or disabled format (0x0002), a format that does not match PI (0x010A), out of range (0x0080), overlap (0x0187)', async () => {
    const { lab, n } = nvmeLab([ns4k(), ns4k(16 * MiB, { pif: 2 })], { copy_formats: [0, 1, 2] });
    await fill(lab, 'nvme0n1', 0, 16 * B, 5);
    expect((await copy(n, 1, 100, [{ slba: 0, nlb: 1 }], 3)).status).toBe(Status.INVALID_FIELD); // not in OCFS
    expect((await copy(n, 1, 100, [{ snsid: 1, slba: 0, nlb: 1 }], 2)).status).toBe(Status.INVALID_FIELD); // CDFE off
    expect((await copy(n, 1, 100, [{ slba: 0, nlb: 1 }], 1)).status).toBe(Status.INVALID_FORMAT); // pif 0 namespace
    expect((await copy(n, 2, 100, [{ slba: 0, nlb: 1 }], 0)).status).toBe(Status.INVALID_FORMAT); // pif 2 namespace
    expect((await copy(n, 2, 100, [{ slba: 0, nlb: 1, elbt: '00112233445566778899' }], 1)).status).toBe(Status.SUCCESS);
    expect((await copy(n, 1, 100, [{ slba: 4096, nlb: 1 }])).status).toBe(Status.LBA_RANGE);
    expect((await copy(n, 1, 4095, [{ slba: 0, nlb: 2 }])).status).toBe(Status.LBA_RANGE);
    expect((await copy(n, 1, 4, [{ slba: 0, nlb: 8 }])).status).toBe(Status.OVERLAPPING_IO_RANGE);
    expect(await lab.read('nvme0n1', 4 * B, 4 * B)).toEqualBytes(pattern(4 * B, 5, 4 * B));
    // Ranges are checked one after another: range 0 lands, range 1 overlaps the destination [4, 8).
    const part = await copy(n, 1, 4, [{ slba: 10, nlb: 2 }, { slba: 6, nlb: 2 }]);
    expect([part.status, part.dw0]).toEqual([Status.OVERLAPPING_IO_RANGE, 1]);
    expect(await lab.read('nvme0n1', 4 * B, 2 * B)).toEqualBytes(pattern(2 * B, 5, 10 * B));
    expect(await lab.read('nvme0n1', 6 * B, 2 * B)).toEqualBytes(pattern(2 * B, 5, 6 * B));
  });

  it('copies across namespaces only after the host enables formats 2/3; checks SNSID, LBA format, fast copy', async () => {
    const { lab, n } = nvmeLab([ns4k(), ns4k(), { size: 16 * MiB, lbs: 512 }], { fast_copy: 'same-namespace' });
    const src = await fill(lab, 'nvme0n1', 0, 8 * B, 6);
    expect((await copy(n, 2, 0, [{ snsid: 1, slba: 0, nlb: 8 }], 2)).status).toBe(Status.INVALID_FIELD);
    expect((await admin(n, AdminOpc.SET_FEATURES, 0, { 10: Fid.HOST_BEHAVIOR }, hbs(0b1100))).status).toBe(0);
    expect(n.host.cdfe).toBe(0b1100);
    expect((await copy(n, 2, 0, [{ snsid: 1, slba: 0, nlb: 8 }], 2)).status).toBe(Status.SUCCESS);
    expect(await lab.read('nvme0n2', 0, 8 * B)).toEqualBytes(src);
    // Same namespace named by SNSID: an overlap is still checked.
    expect((await copy(n, 1, 4, [{ snsid: 1, slba: 0, nlb: 8 }], 2)).status).toBe(Status.OVERLAPPING_IO_RANGE);
    const bad = await copy(n, 2, 100, [{ snsid: 1, slba: 0, nlb: 1 }, { snsid: 0xffffffff, slba: 0, nlb: 1 }], 2);
    expect([bad.status, bad.dw0]).toEqual([Status.INVALID_NSID, 1]);
    expect((await copy(n, 2, 100, [{ snsid: 9, slba: 0, nlb: 1 }], 2)).status).toBe(Status.INVALID_FIELD); // not attached
    expect((await copy(n, 2, 100, [{ snsid: 3, slba: 0, nlb: 1 }], 2)).status).toBe(Status.INCOMPATIBLE_NS_OR_FORMAT);
    expect((await copy(n, 2, 100, [{ snsid: 1, slba: 0, nlb: 1, sopt: SOPT_FCO }], 2)).status).toBe(Status.FAST_COPY_NOT_POSSIBLE);
    // Enabling a format the controller does not support is refused.
    const { n: n2 } = nvmeLab([ns4k()], { copy_formats: [0] });
    expect((await admin(n2, AdminOpc.SET_FEATURES, 0, { 10: Fid.HOST_BEHAVIOR }, hbs(0b100))).status).toBe(Status.INVALID_FIELD);
  });

  it('reports ranges fully copied in DW0 on a media error (0x0281 read, 0x0280 write)', async () => {
    const { lab, n } = nvmeLab([ns4k()]);
    const src = await fill(lab, 'nvme0n1', 0, 16 * B, 7);
    n.ctrl!.namespace(1)!.injectFault({ op: 'read', slba: 9, nlb: 1 });
    const r = await copy(n, 1, 100, [{ slba: 0, nlb: 4 }, { slba: 4, nlb: 4 }, { slba: 8, nlb: 4 }]);
    expect([r.status, r.dw0]).toEqual([Status.UNRECOVERED_READ, 2]);
    expect(await lab.read('nvme0n1', 100 * B, 8 * B)).toEqualBytes(src.subarray(0, 8 * B));
    expect(await lab.read('nvme0n1', 108 * B, 4 * B)).toEqualBytes(new Uint8Array(4 * B));
    n.ctrl!.namespace(1)!.injectFault({ op: 'write', slba: 204, nlb: 1 });
    const w = await copy(n, 1, 200, [{ slba: 0, nlb: 4 }, { slba: 4, nlb: 4 }]);
    expect([w.status, w.dw0]).toEqual([Status.WRITE_FAULT, 1]);
  });

  it('a thin-provisioned namespace that cannot grow: Insufficient Resources (0x0189), DW0 = ranges copied', async () => {
    // Sparse media in 64 KiB chunks (16 LBAs), at most 2 chunks: the source takes chunk 0 (LBA 0-15).
    const { lab, n } = nvmeLab([ns4k(16 * MiB, { backing: 'sparse', memory_limit: 2 * 64 * 1024 })]);
    const src = await fill(lab, 'nvme0n1', 0, 16 * B, 3);
    // LBA 1024-1035 open chunk 64, the second and last chunk allowed.
    expect((await copy(n, 1, 1024, [{ slba: 0, nlb: 12 }])).status).toBe(0);
    // Range 0 lands in chunk 64 (LBA 1036-1039); range 1 would need chunk 65: the copy stops there.
    const r = await copy(n, 1, 1036, [{ slba: 0, nlb: 4 }, { slba: 4, nlb: 4 }]);
    expect([r.status, r.dw0]).toEqual([Status.INSUFFICIENT_RESOURCES, 1]);
    expect(await lab.read('nvme0n1', 1024 * B, 16 * B)).toEqualBytes(Uint8Array.from([...src.subarray(0, 12 * B), ...src.subarray(0, 4 * B)]));
    expect(await lab.read('nvme0n1', 1040 * B, 4 * B)).toEqualBytes(new Uint8Array(4 * B));
  });

  it('splits a long block-layer copy into Copy commands of ≤ MSRC+1 ranges and ≤ MCL blocks', async () => {
    const { lab, n } = nvmeLab([ns4k(16 * MiB, { msrc: 1, mssrl: 8, mcl: 32 })]);
    expect(lab.readSysfs('/sys/block/nvme0n1/queue/copy_max_hw_bytes').value).toBe(String(32 * B));
    expect(lab.readSysfs('/sys/block/nvme0n1/queue/copy_max_segments').value).toBe('2');
    expect(lab.readSysfs('/sys/block/nvme0n1/queue/copy_domain').value).toBe(n.host.info.subnqn);
    const src = await fill(lab, 'nvme0n1', 0, 64 * B, 8);
    const r = await lab.copy('nvme0n1', [{ srcOffset: 0, dstOffset: 1 * MiB, length: 64 * B }]);
    expect(r.res).toBe(64 * B);
    expect(r.path).toBe('offload');
    expect(r.host_bytes).toBe(0);
    // 2 pieces of 32 blocks (copy_max_bytes); each: a 32-block source → 4 descriptors of MSSRL 8 → 2 commands of 2 descriptors.
    expect(n.devices[0]!.commands.copy).toBe(4);
    expect(await lab.read('nvme0n1', MiB, 64 * B)).toEqualBytes(src);
  });

  it('through the block layer: same namespace offloads; across namespaces emulated until CDFE is set', async () => {
    const { lab, n } = nvmeLab([ns4k(), ns4k()]);
    const src = await fill(lab, 'nvme0n1', 0, 64 * KiB, 10);
    const a = await lab.copy('nvme0n2', [{ src: 'nvme0n1', srcOffset: 0, dstOffset: 0, length: 64 * KiB }]);
    expect(a.path).toBe('emulated');
    expect(a.reasons.join()).toMatch(/CDFE/);
    expect(a.host_bytes).toBe(128 * KiB);
    expect(await lab.read('nvme0n2', 0, 64 * KiB)).toEqualBytes(src);
    expect((await admin(n, AdminOpc.SET_FEATURES, 0, { 10: Fid.HOST_BEHAVIOR }, hbs(0b1100))).status).toBe(0);
    const b = await lab.copy('nvme0n2', [{ src: 'nvme0n1', srcOffset: 0, dstOffset: 1 * MiB, length: 64 * KiB }]);
    expect(b.path).toBe('offload');
    expect(b.host_bytes).toBe(0);
    expect(await lab.read('nvme0n2', MiB, 64 * KiB)).toEqualBytes(src);
    const before = n.devices[1]!.commands.copy;
    expect(before).toBeGreaterThan(0);
  });

  it('answers an invalid opcode and an invalid namespace', async () => {
    const { n } = nvmeLab([ns4k()]);
    expect((await io(n, 0x7f, 1)).status).toBe(Status.INVALID_OPCODE);
    expect((await io(n, IoOpc.READ, 0, lba(0), undefined, 4096)).status).toBe(Status.INVALID_NSID);
    expect((await io(n, IoOpc.ZONE_APPEND, 1, lba(0), new Uint8Array(4096))).status).toBe(Status.INVALID_OPCODE);
    expect((await io(n, IoOpc.READ, 1, lba(0, 0xffff), undefined, 4096)).status).toBe(Status.INVALID_FIELD); // beyond MDTS
  });
});
