import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import { allocBuffer, type Ring } from '../../src/core/ring/ring.js';
import { URING_CMD_OP } from '../../src/core/ring/opcodes.js';
import { prepUringCmd, sqeSetData } from '../../src/core/ring/prep.js';
import { Errno } from '../../src/core/util/errno.js';
import { addNvmeController } from '../../devices/nvme/attach.js';
import { buildNvmeUringCmd } from '../../devices/nvme/uring-cmd.js';
import { addScsiArray } from '../../devices/scsi/attach.js';
import { buildScsiUringCmd } from '../../devices/scsi/uring-cmd.js';
import { pattern, MiB } from '../helpers.js';

async function one(ring: Ring, fd: number, cmdOp: number, cmd: Uint8Array): Promise<{ res: number; big0: bigint }> {
  const sqe = ring.getSqe()!;
  prepUringCmd(sqe, fd, cmdOp, cmd);
  sqeSetData(sqe, 1);
  await ring.submitAndWait(1);
  const c = ring.peekCqe()!;
  const out = { res: c.res, big0: ring.cqeSize === 32 ? c.big(0) : 0n };
  ring.cqeSeen(c);
  return out;
}

describe('URING_CMD passthrough', () => {
  it('NVMe: Write, Read and Identify through 128-byte SQEs; errors come back as NVMe status with DNR', async () => {
    const lab = new Lab();
    addNvmeController(lab, { name: 'nvme0', namespaces: [{ size: 16 * MiB, lbs: 4096, backing: 'memory' }] });
    const ring = lab.createRing({ entries: 4, sqe128: true, cqe32: true });
    const buf = allocBuffer(64 * 1024);
    const [base] = ring.registerBuffers([buf]);
    const fd = lab.open('/dev/nvme0n1');
    buf.set(pattern(8192, 4));
    // Write (0x01) 2 blocks at LBA 10, then Read (0x02) them back into another part of the buffer.
    const w = await one(ring, fd, URING_CMD_OP.NVME_URING_CMD_IO, buildNvmeUringCmd({ opcode: 0x01, nsid: 1, addr: base!, dataLen: 8192, cdw: { 10: 10, 12: 1 } }));
    expect(w.res).toBe(0);
    const r = await one(ring, fd, URING_CMD_OP.NVME_URING_CMD_IO, buildNvmeUringCmd({ opcode: 0x02, nsid: 1, addr: base! + 16384, dataLen: 8192, cdw: { 10: 10, 12: 1 } }));
    expect(r.res).toBe(0);
    expect(buf.subarray(16384, 16384 + 8192)).toEqualBytes(pattern(8192, 4));
    expect(await lab.read('nvme0n1', 40960, 8192)).toEqualBytes(pattern(8192, 4));
    // Identify Controller (admin 0x06, CNS 1): 4096 bytes, VID/SSVID then the serial number at 4.
    const id = await one(ring, fd, URING_CMD_OP.NVME_URING_CMD_ADMIN, buildNvmeUringCmd({ opcode: 0x06, nsid: 0, addr: base! + 32768, dataLen: 4096, cdw: { 10: 1 } }));
    expect(id.res).toBe(0);
    expect(buf.subarray(32768 + 4, 32768 + 24).some((b) => b !== 0)).toBe(true);
    // A Copy with more ranges than MSRC allows: status 0x0183 (command size limit), DNR set.
    const bad = await one(ring, fd, URING_CMD_OP.NVME_URING_CMD_IO, buildNvmeUringCmd({ opcode: 0x19, nsid: 1, addr: base!, dataLen: 4096, cdw: { 10: 100, 12: 200 } }));
    expect(bad.res & 0x7ff).toBe(0x183);
    // Refused before the device: wrong nsid, a 64-byte SQE ring, a buffer outside the registered ones.
    expect((await one(ring, fd, URING_CMD_OP.NVME_URING_CMD_IO, buildNvmeUringCmd({ opcode: 0x02, nsid: 7, addr: base!, dataLen: 4096 }))).res).toBe(-Errno.EINVAL);
    expect((await one(ring, fd, URING_CMD_OP.NVME_URING_CMD_IO, buildNvmeUringCmd({ opcode: 0x02, nsid: 1, addr: 42, dataLen: 4096 }))).res).toBe(-Errno.EFAULT);
    expect((await one(ring, fd, 0x1234, buildNvmeUringCmd({ opcode: 0x02, nsid: 1 }))).res).toBe(-Errno.ENOTTY);
    const small = lab.createRing({ entries: 2 });
    expect((await one(small, lab.open('/dev/nvme0n1'), URING_CMD_OP.NVME_URING_CMD_IO, buildNvmeUringCmd({ opcode: 0x00, nsid: 1 }).subarray(0, 16))).res).toBe(-Errno.EINVAL);
  });

  it('SCSI: INQUIRY and READ CAPACITY(16) in, WRITE(10) out, CHECK CONDITION with sense', async () => {
    const lab = new Lab();
    addScsiArray(lab, { name: 'arr0', lus: [{ name: 'sda', size: 8 * MiB, lbs: 512, backing: 'memory' }] });
    const ring = lab.createRing({ entries: 4, sqe128: true, cqe32: true });
    const buf = allocBuffer(64 * 1024);
    const [base] = ring.registerBuffers([buf]);
    const fd = lab.open('/dev/sda');
    const inq = await one(ring, fd, URING_CMD_OP.SCSI_URING_CMD, buildScsiUringCmd({ cdb: Uint8Array.of(0x12, 0, 0, 0, 96, 0), dataAddr: base!, dataLen: 96 }));
    expect(inq.res).toBe(0);
    expect(Number(inq.big0 & 0xffffffffn)).toBeGreaterThanOrEqual(36);
    expect(buf[0]! & 0x1f).toBe(0); // direct-access block device
    expect(buf[5]! & 0x08).toBe(0x08); // 3PC
    buf.set(pattern(1024, 6), 4096);
    const wr = await one(ring, fd, URING_CMD_OP.SCSI_URING_CMD, buildScsiUringCmd({ cdb: Uint8Array.of(0x2a, 0, 0, 0, 0, 8, 0, 0, 2, 0), dataAddr: base! + 4096, dataLen: 1024, dataOut: true }));
    expect(wr.res).toBe(0);
    expect(await lab.read('sda', 4096, 1024)).toEqualBytes(pattern(1024, 6));
    // An unsupported opcode: CHECK CONDITION, ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE.
    const cc = await one(ring, fd, URING_CMD_OP.SCSI_URING_CMD, buildScsiUringCmd({ cdb: Uint8Array.of(0xc7, 0, 0, 0, 0, 0), senseAddr: base! + 8192, senseLen: 32 }));
    expect(cc.res).toBe(0x02);
    expect(Number(cc.big0 >> 32n)).toBeGreaterThanOrEqual(18);
    expect([buf[8192 + 2]! & 0xf, buf[8192 + 12], buf[8192 + 13]]).toEqual([0x05, 0x20, 0x00]);
  });
});
