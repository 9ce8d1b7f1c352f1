import { describe, it, expect } from 'vitest';
import { nvmeLab, io, copy, lba } from './nvme-helpers.js';
import { pattern, MiB } from '../../helpers.js';
import { IoOpc, Status, ZoneState, ZSA, ZMS_SELECT_ALL, ZONE_REPORT, AdminOpc, Cns, Csi } from '../../../devices/nvme/spec.js';
import type { NvmeAttachment } from '../../../devices/nvme/attach.js';

const B = 4096;
const ZB = 64; // zone size in blocks (256 KiB)
const zoned = (extra = {}) => ({ size: 4 * MiB, lbs: 4096 as const, zoned: true, zone_size: ZB * B, ...extra });

const zms = (n: NvmeAttachment, action: number, slba: number, all = false) => io(n, IoOpc.ZONE_MGMT_SEND, 1, lba(slba, 0, action | (all ? ZMS_SELECT_ALL : 0)));
const write = (n: NvmeAttachment, slba: number, nlb: number, seed = 1) => io(n, IoOpc.WRITE, 1, lba(slba, nlb - 1), pattern(nlb * B, seed, slba * B));
const append = (n: NvmeAttachment, zslba: number, data: Uint8Array) => io(n, IoOpc.ZONE_APPEND, 1, lba(zslba, data.length / B - 1), data);

async function report(n: NvmeAttachment, slba = 0, zrasf = 0): Promise<{ nr: number; zones: { zs: number; zslba: number; wp: number; zcap: number }[] }> {
  const len = ZONE_REPORT.HEADER + 16 * ZONE_REPORT.DESC;
  const r = await io(n, IoOpc.ZONE_MGMT_RECV, 1, lba(slba, len / 4 - 1, zrasf << 8), undefined, len);
  expect(r.status).toBe(0);
  const v = new DataView(r.data!.buffer);
  const nr = Number(v.getBigUint64(0, true));
  const zones = [];
  for (let i = 0; i < Math.min(nr, 16); i++) {
    const o = ZONE_REPORT.HEADER + i * ZONE_REPORT.DESC;
    zones.push({ zs: v.getUint8(o + 1) >> 4, zcap: Number(v.getBigUint64(o + 8, true)), zslba: Number(v.getBigUint64(o + 16, true)), wp: Number(v.getBigUint64(o + 24, true)) });
  }
  return { nr, zones };
}

describe('Zoned Namespaces', () => {
  it('exports the zoned queue limits and Identify ZNS data', async () => {
    const { lab, n } = nvmeLab([zoned({ max_open: 2, max_active: 3, zone_capacity: 48 * B })]);
    const q = (a: string) => lab.readSysfs(`/sys/block/nvme0n1/queue/${a}`).value;
    expect(q('zoned')).toBe('host-managed');
    expect(q('chunk_sectors')).toBe(String((ZB * B) / 512));
    expect(q('nr_zones')).toBe('16');
    expect(q('max_open_zones')).toBe('2');
    expect(q('max_active_zones')).toBe('3');
    expect(q('zone_append_max_bytes')).toBe(String(512 * 1024));
    expect(lab.readSysfs('/sys/class/nvme/nvme0/subsysnqn').value).toBe(n.host.info.subnqn);
    const r = await n.host.passthru({ admin: true, cmd: new Uint8Array(64).fill(0).map((_, i) => (i === 0 ? AdminOpc.IDENTIFY : i === 4 ? 1 : i === 40 ? Cns.CSI_NS : i === 47 ? Csi.ZNS : 0)), dataLen: 4096 });
    const v = new DataView(r.data!.buffer);
    expect([v.getUint32(4, true), v.getUint32(8, true)]).toEqual([2, 1]); // MAR, MOR 0-based
    const rep = await report(n);
    expect(rep.zones[0]).toEqual({ zs: ZoneState.EMPTY, zcap: 48, zslba: 0, wp: 0 });
  });

  it('writes at the write pointer only; a zone becomes Full at capacity; full, boundary, invalid write', async () => {
    const { lab, n } = nvmeLab([zoned({ zone_capacity: 48 * B })]);
    expect((await write(n, 1, 1)).status).toBe(Status.ZONE_INVALID_WRITE);
    expect((await write(n, 0, 16)).status).toBe(0);
    expect((await report(n)).zones[0]!.zs).toBe(ZoneState.IMPLICITLY_OPEN);
    expect((await write(n, 16, 33)).status).toBe(Status.ZONE_BOUNDARY_ERROR); // 16 + 33 > capacity 48
    expect((await write(n, 16, 32)).status).toBe(0);
    const z0 = (await report(n)).zones[0]!;
    expect(z0.zs).toBe(ZoneState.FULL);
    expect(z0.wp).toBe(2 ** 64); // not valid in Full: all ones (2^64 - 1, as a double)
    expect((await write(n, 48, 1)).status).toBe(Status.ZONE_FULL);
    // A read across the zone boundary fails; within the zone it returns what was written.
    expect((await io(n, IoOpc.READ, 1, lba(60, 7), undefined, 8 * B)).status).toBe(Status.ZONE_BOUNDARY_ERROR);
    expect(await lab.read('nvme0n1', 0, 48 * B)).toEqualBytes(pattern(48 * B, 1, 0));
  });

  it('every transition: open/close/finish/reset/offline, Select All, and invalid transitions', async () => {
    const { n } = nvmeLab([zoned({ read_only_zones: [14], offline_zones: [15] })]);
    const state = async (i: number) => (await report(n, i * ZB)).zones[0]!.zs;
    expect((await zms(n, ZSA.OPEN, 0)).status).toBe(0);
    expect(await state(0)).toBe(ZoneState.EXPLICITLY_OPEN);
    expect((await zms(n, ZSA.CLOSE, 0)).status).toBe(0);
    expect(await state(0)).toBe(ZoneState.EMPTY); // nothing written: closing returns it to Empty
    await write(n, 0, 4);
    expect((await zms(n, ZSA.OPEN, 0)).status).toBe(0); // implicitly → explicitly opened
    expect(await state(0)).toBe(ZoneState.EXPLICITLY_OPEN);
    expect((await zms(n, ZSA.CLOSE, 0)).status).toBe(0);
    expect(await state(0)).toBe(ZoneState.CLOSED);
    expect((await zms(n, ZSA.FINISH, 0)).status).toBe(0);
    expect(await state(0)).toBe(ZoneState.FULL);
    expect((await zms(n, ZSA.OPEN, 0)).status).toBe(Status.ZONE_INVALID_TRANSITION);
    expect((await zms(n, ZSA.CLOSE, 0)).status).toBe(Status.ZONE_INVALID_TRANSITION);
    expect((await zms(n, ZSA.RESET, 0)).status).toBe(0);
    expect(await state(0)).toBe(ZoneState.EMPTY);
    expect((await zms(n, ZSA.FINISH, ZB)).status).toBe(0); // Empty → Full
    expect((await zms(n, ZSA.OFFLINE, ZB)).status).toBe(Status.ZONE_INVALID_TRANSITION); // only Read Only may go offline
    expect((await zms(n, ZSA.OPEN, 14 * ZB)).status).toBe(Status.ZONE_INVALID_TRANSITION);
    expect((await write(n, 14 * ZB, 1)).status).toBe(Status.ZONE_READ_ONLY);
    expect((await write(n, 15 * ZB, 1)).status).toBe(Status.ZONE_OFFLINE);
    expect((await io(n, IoOpc.READ, 1, lba(15 * ZB, 0), undefined, B)).status).toBe(Status.ZONE_OFFLINE);
    expect((await zms(n, ZSA.OFFLINE, 14 * ZB)).status).toBe(0);
    expect(await state(14)).toBe(ZoneState.OFFLINE);
    expect((await zms(n, ZSA.OPEN, 5)).status).toBe(Status.INVALID_FIELD); // not a zone start
    expect((await zms(n, ZSA.SET_ZDE, 0)).status).toBe(Status.INVALID_FIELD);
    // Select All: open → closed zones, close → open zones, finish → open and closed, reset → all but read only/offline.
    await write(n, 2 * ZB, 1);
    await write(n, 3 * ZB, 1);
    expect((await zms(n, ZSA.CLOSE, 0, true)).status).toBe(0);
    expect([await state(2), await state(3)]).toEqual([ZoneState.CLOSED, ZoneState.CLOSED]);
    expect((await zms(n, ZSA.OPEN, 0, true)).status).toBe(0);
    expect([await state(2), await state(3)]).toEqual([ZoneState.EXPLICITLY_OPEN, ZoneState.EXPLICITLY_OPEN]);
    expect((await zms(n, ZSA.FINISH, 0, true)).status).toBe(0);
    expect([await state(2), await state(3)]).toEqual([ZoneState.FULL, ZoneState.FULL]);
    expect((await report(n, 0, 5)).nr).toBe(3); // Full: zones 1, 2, 3
    expect((await zms(n, ZSA.RESET, 0, true)).status).toBe(0);
    expect((await report(n, 0, 1)).nr).toBe(14); // Empty: all but 14 (offline) and 15 (offline)
    expect(n.ctrl!.namespace(1)!.zones!.nrActive).toBe(0);
  });

  it('max open and max active: too many open (0x01BE), too many active (0x01BD), auto-close of implicitly opened zones', async () => {
    const { n } = nvmeLab([zoned({ max_open: 2, max_active: 3 })]);
    const zs = n.ctrl!.namespace(1)!.zones!;
    expect((await zms(n, ZSA.OPEN, 0)).status).toBe(0);
    expect((await zms(n, ZSA.OPEN, ZB)).status).toBe(0);
    expect((await zms(n, ZSA.OPEN, 2 * ZB)).status).toBe(Status.ZONE_TOO_MANY_OPEN); // explicit opens are never auto-closed
    expect((await write(n, 2 * ZB, 1)).status).toBe(Status.ZONE_TOO_MANY_OPEN);
    await zms(n, ZSA.CLOSE, 0, true); // both Empty again (nothing written)
    expect((await write(n, 0, 1)).status).toBe(0);
    expect((await write(n, ZB, 1)).status).toBe(0);
    expect((await write(n, 2 * ZB, 1)).status).toBe(0); // zone 0 (oldest implicitly opened) auto-closed
    expect(zs.zones[0]!.state).toBe(ZoneState.CLOSED);
    expect([zs.nrOpen, zs.nrActive]).toEqual([2, 3]);
    expect((await write(n, 3 * ZB, 1)).status).toBe(Status.ZONE_TOO_MANY_ACTIVE);
    expect((await zms(n, ZSA.FINISH, 0)).status).toBe(0);
    expect((await write(n, 3 * ZB, 1)).status).toBe(0);
  });

  it('Zone Append returns the assigned LBA; concurrent appends on two queues get distinct, ordered LBAs', async () => {
    const { lab, n } = nvmeLab([zoned()], { io_queues: 2 });
    const chunks = Array.from({ length: 32 }, (_, i) => pattern(2 * B, 100 + i));
    const results = await Promise.all(chunks.map((c) => append(n, ZB, c)));
    const lbas = results.map((r) => r.dw0 + r.dw1 * 2 ** 32);
    expect(results.every((r) => r.status === 0)).toBe(true);
    expect(new Set(lbas).size).toBe(32);
    // Submission alternates between the two queues and arbitration picks the order; whatever it is,
    // the assigned LBAs pack the zone without a gap or a collision.
    expect([...lbas].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => ZB + 2 * i));
    for (let i = 0; i < 32; i++) expect(await lab.read('nvme0n1', lbas[i]! * B, 2 * B)).toEqualBytes(chunks[i]!);
    expect((await append(n, ZB + 1, chunks[0]!)).status).toBe(Status.INVALID_FIELD); // not the zone start
    // 32 appends of 2 blocks fill the 64-block zone: Full, its write pointer no longer valid.
    expect((await report(n, ZB)).zones[0]!.zs).toBe(ZoneState.FULL);
    expect((await append(n, ZB, chunks[0]!)).status).toBe(Status.ZONE_FULL);
  });

  it('Copy into a zone: only at the write pointer, refused across capacity, Full at capacity, LBA out of range', async () => {
    const { lab, n } = nvmeLab([zoned({ zone_capacity: 16 * B })]);
    await write(n, 0, 16, 3);
    expect((await copy(n, 1, ZB + 1, [{ slba: 0, nlb: 4 }])).status).toBe(Status.ZONE_INVALID_WRITE);
    expect((await copy(n, 1, ZB, [{ slba: 0, nlb: 12 }, { slba: 0, nlb: 8 }])).status).toBe(Status.ZONE_BOUNDARY_ERROR);
    // The first range landed (DW0 = 1 on that failure), so the pointer moved by 12.
    expect((await report(n, ZB)).zones[0]!.wp).toBe(ZB + 12);
    const r = await copy(n, 1, ZB + 12, [{ slba: 12, nlb: 4 }]);
    expect(r.status).toBe(0);
    expect((await report(n, ZB)).zones[0]!.zs).toBe(ZoneState.FULL);
    expect(await lab.read('nvme0n1', ZB * B, 12 * B)).toEqualBytes(pattern(12 * B, 3, 0));
    expect(await lab.read('nvme0n1', (ZB + 12) * B, 4 * B)).toEqualBytes(pattern(4 * B, 3, 12 * B));
    // As QEMU: the Copy implicitly opens the destination zone first, and a Full zone cannot be opened.
    expect((await copy(n, 1, ZB + 16, [{ slba: 0, nlb: 1 }])).status).toBe(Status.ZONE_INVALID_TRANSITION);
    expect((await write(n, ZB, 1)).status).toBe(Status.ZONE_FULL);
    expect((await copy(n, 1, 16 * ZB, [{ slba: 0, nlb: 1 }])).status).toBe(Status.LBA_RANGE);
    // Through the block layer: a copy onto the write pointer offloads.
    const b = await lab.copy('nvme0n1', [{ srcOffset: 0, dstOffset: 2 * ZB * B, length: 8 * B }]);
    expect([b.path, b.res]).toEqual(['offload', 8 * B]);
    expect(await lab.read('nvme0n1', 2 * ZB * B, 8 * B)).toEqualBytes(pattern(8 * B, 3, 0));
  });
});
