/**
 * NVMe passthrough through the ring: IORING_OP_URING_CMD with cmd_op NVME_URING_CMD_IO (or
 * _ADMIN) and struct nvme_uring_cmd in a 128-byte SQE's cmd area, as the kernel's
 * nvme_uring_cmd_io (drivers/nvme/host/ioctl.c) takes it. The completion's res is the NVMe
 * status as the kernel reports it (status field bits 14:0: DNR 0x4000, More 0x2000, SCT << 8 | SC),
 * 0 on success, or a negative errno the host returned before the device saw the command;
 * big_cqe[0] of a CQE32 ring carries the 64-bit result (DW0 | DW1 << 32).
 */
import { URING_CMD_OP } from '../../src/core/ring/opcodes.js';
import type { BufferResolver, UringCmdResult } from '../../src/core/ring/consumer.js';
import { Errno } from '../../src/core/util/errno.js';
import { buildSqe } from './codec.js';
import type { NvmeNamespaceDevice } from './driver.js';

/** struct nvme_uring_cmd (include/uapi/linux/nvme_ioctl.h), 72 bytes. */
export const NVME_URING_CMD = {
  SIZE: 72,
  OPCODE: 0, // u8
  FLAGS: 1, // u8
  NSID: 4, // u32
  CDW2: 8,
  CDW3: 12,
  METADATA: 16, // u64
  ADDR: 24, // u64 data buffer
  METADATA_LEN: 32, // u32
  DATA_LEN: 36, // u32
  CDW10: 40, // cdw10..cdw15: 40, 44, 48, 52, 56, 60
  TIMEOUT_MS: 64,
} as const;

/** NVMe status field bits above SCT/SC, as the kernel keeps them (status >> 1). */
const STATUS_MORE = 0x2000;
const STATUS_DNR = 0x4000;

export function nvmeUringCmd(dev: NvmeNamespaceDevice, cmdOp: number, cmd: Uint8Array, buffers: BufferResolver, done: (r: UringCmdResult) => void): void {
  const admin = cmdOp === URING_CMD_OP.NVME_URING_CMD_ADMIN;
  // nvme_ns_chr_uring_cmd answers an unknown cmd_op with -ENOTTY; copylab lets a namespace take
  // admin commands too (there is no separate controller character device in the lab).
  if (!admin && cmdOp !== URING_CMD_OP.NVME_URING_CMD_IO) return done({ res: -Errno.ENOTTY });
  // struct nvme_uring_cmd needs the 80-byte cmd area of a 128-byte SQE (IORING_SETUP_SQE128).
  if (cmd.length < NVME_URING_CMD.SIZE) return done({ res: -Errno.EINVAL });
  const v = new DataView(cmd.buffer, cmd.byteOffset, cmd.byteLength);
  const opcode = v.getUint8(NVME_URING_CMD.OPCODE);
  const nsid = v.getUint32(NVME_URING_CMD.NSID, true);
  if (v.getUint8(NVME_URING_CMD.FLAGS) !== 0 || v.getUint32(NVME_URING_CMD.METADATA_LEN, true) !== 0) return done({ res: -Errno.EINVAL });
  if (!admin && nsid !== dev.ns.nsid) return done({ res: -Errno.EINVAL });
  const dataLen = v.getUint32(NVME_URING_CMD.DATA_LEN, true);
  const addr = v.getUint32(NVME_URING_CMD.ADDR, true) + v.getUint32(NVME_URING_CMD.ADDR + 4, true) * 2 ** 32;
  let buf: Uint8Array | null = null;
  if (dataLen > 0) {
    buf = buffers(addr, dataLen);
    if (!buf) return done({ res: -Errno.EFAULT });
  }
  const cdw: Record<number, number> = { 2: v.getUint32(NVME_URING_CMD.CDW2, true), 3: v.getUint32(NVME_URING_CMD.CDW3, true) };
  for (let i = 0; i < 6; i++) cdw[10 + i] = v.getUint32(NVME_URING_CMD.CDW10 + 4 * i, true);
  const sqe = buildSqe({ opcode, nsid, cdw });
  // Data direction from the opcode's low bits (NVMe base spec: 01b host→controller, 10b controller→host).
  const toDevice = (opcode & 0x3) === 0x1;
  const fromDevice = (opcode & 0x3) === 0x2;
  dev.host
    .passthru({ admin, cmd: sqe, ...(toDevice && buf ? { data: buf } : {}), dataLen: fromDevice ? dataLen : toDevice ? dataLen : 0 })
    .then(
      (r) => {
        if (r.status < 0) return done({ res: r.status });
        if (fromDevice && buf && r.data) buf.set(r.data.subarray(0, Math.min(buf.length, r.data.length)));
        const res = r.status === 0 ? 0 : r.status | (r.dnr ? STATUS_DNR : 0) | (r.more ? STATUS_MORE : 0);
        done({ res, big0: BigInt(r.dw0 >>> 0) | (BigInt(r.dw1 >>> 0) << 32n) });
      },
      () => done({ res: -Errno.EIO }),
    );
}

/** Fills a struct nvme_uring_cmd (for prepUringCmd). */
export function buildNvmeUringCmd(f: { opcode: number; nsid: number; addr?: number; dataLen?: number; cdw?: Partial<Record<2 | 3 | 10 | 11 | 12 | 13 | 14 | 15, number>> }): Uint8Array {
  const out = new Uint8Array(NVME_URING_CMD.SIZE);
  const v = new DataView(out.buffer);
  v.setUint8(NVME_URING_CMD.OPCODE, f.opcode);
  v.setUint32(NVME_URING_CMD.NSID, f.nsid, true);
  const addr = f.addr ?? 0;
  v.setUint32(NVME_URING_CMD.ADDR, addr % 2 ** 32, true);
  v.setUint32(NVME_URING_CMD.ADDR + 4, Math.floor(addr / 2 ** 32), true);
  v.setUint32(NVME_URING_CMD.DATA_LEN, f.dataLen ?? 0, true);
  for (const [k, val] of Object.entries(f.cdw ?? {})) {
    const n = Number(k);
    const at = n === 2 ? NVME_URING_CMD.CDW2 : n === 3 ? NVME_URING_CMD.CDW3 : NVME_URING_CMD.CDW10 + 4 * (n - 10);
    v.setUint32(at, (val ?? 0) >>> 0, true);
  }
  return out;
}
