/**
 * SCSI passthrough through the ring: IORING_OP_URING_CMD with cmd_op SCSI_URING_CMD and a
 * copylab struct in a 128-byte SQE's cmd area, shaped after sg_io_v4 (include/uapi/linux/bsg.h):
 * the CDB, one data buffer with its direction, and a buffer for sense data. The completion's res
 * is the SAM status byte (0 GOOD, 0x02 CHECK CONDITION, 0x18 RESERVATION CONFLICT) or a negative
 * errno; big_cqe[0] of a CQE32 ring carries Data-In bytes (low 32 bits) and sense bytes written
 * (high 32 bits).
 */
import { URING_CMD_OP } from '../../src/core/ring/opcodes.js';
import type { BufferResolver, UringCmdResult } from '../../src/core/ring/consumer.js';
import { Errno } from '../../src/core/util/errno.js';
import type { SdDevice } from './sd.js';

/** copylab's struct scsi_uring_cmd, 64 bytes. */
export const SCSI_URING_CMD = {
  SIZE: 64,
  CDB_LEN: 0, // u8 6..32
  FLAGS: 1, // u8: bit 0 = data out (host → device)
  DATA_LEN: 4, // u32: Data-Out length, or the Data-In allocation length
  DATA_ADDR: 8, // u64 registered-buffer address
  SENSE_ADDR: 16, // u64 registered-buffer address for sense data (0: none)
  SENSE_LEN: 24, // u32 room for sense
  CDB: 32, // u8[32]
} as const;
export const SCSI_URING_FLAG_DATA_OUT = 1;
const MAX_CDB = 32;

export function scsiUringCmd(dev: SdDevice, cmdOp: number, cmd: Uint8Array, buffers: BufferResolver, done: (r: UringCmdResult) => void): void {
  if (cmdOp !== URING_CMD_OP.SCSI_URING_CMD) return done({ res: -Errno.ENOTTY });
  if (cmd.length < SCSI_URING_CMD.SIZE) return done({ res: -Errno.EINVAL });
  const v = new DataView(cmd.buffer, cmd.byteOffset, cmd.byteLength);
  const cdbLen = v.getUint8(SCSI_URING_CMD.CDB_LEN);
  const flags = v.getUint8(SCSI_URING_CMD.FLAGS);
  if (cdbLen < 6 || cdbLen > MAX_CDB || flags & ~SCSI_URING_FLAG_DATA_OUT) return done({ res: -Errno.EINVAL });
  const u64 = (at: number): number => v.getUint32(at, true) + v.getUint32(at + 4, true) * 2 ** 32;
  const dataLen = v.getUint32(SCSI_URING_CMD.DATA_LEN, true);
  let data: Uint8Array | null = null;
  if (dataLen > 0) {
    data = buffers(u64(SCSI_URING_CMD.DATA_ADDR), dataLen);
    if (!data) return done({ res: -Errno.EFAULT });
  }
  const senseLen = v.getUint32(SCSI_URING_CMD.SENSE_LEN, true);
  let sense: Uint8Array | null = null;
  if (senseLen > 0) {
    sense = buffers(u64(SCSI_URING_CMD.SENSE_ADDR), senseLen);
    if (!sense) return done({ res: -Errno.EFAULT });
  }
  const cdb = cmd.slice(SCSI_URING_CMD.CDB, SCSI_URING_CMD.CDB + cdbLen);
  const out = flags & SCSI_URING_FLAG_DATA_OUT;
  // executeAsync: the LU's medium may be a block device that completes later.
  void dev.array.executeAsync(dev.initiator, dev.lun, cdb, out && data ? data : undefined, out ? 0 : dataLen).then((r) => {
    let inBytes = 0;
    if (!out && data) {
      inBytes = Math.min(data.length, r.dataIn.length);
      data.set(r.dataIn.subarray(0, inBytes));
    }
    let senseBytes = 0;
    if (sense && r.senseData.length) {
      senseBytes = Math.min(sense.length, r.senseData.length);
      sense.set(r.senseData.subarray(0, senseBytes));
    }
    done({ res: r.status, big0: BigInt(inBytes) | (BigInt(senseBytes) << 32n) });
  });
}

/** Fills a scsi_uring_cmd (for prepUringCmd). */
export function buildScsiUringCmd(f: { cdb: Uint8Array; dataAddr?: number; dataLen?: number; dataOut?: boolean; senseAddr?: number; senseLen?: number }): Uint8Array {
  if (f.cdb.length < 6 || f.cdb.length > MAX_CDB) throw new RangeError('a CDB is 6..32 bytes');
  const out = new Uint8Array(SCSI_URING_CMD.SIZE);
  const v = new DataView(out.buffer);
  const u64 = (at: number, n: number): void => {
    v.setUint32(at, n % 2 ** 32, true);
    v.setUint32(at + 4, Math.floor(n / 2 ** 32), true);
  };
  v.setUint8(SCSI_URING_CMD.CDB_LEN, f.cdb.length);
  v.setUint8(SCSI_URING_CMD.FLAGS, f.dataOut ? SCSI_URING_FLAG_DATA_OUT : 0);
  v.setUint32(SCSI_URING_CMD.DATA_LEN, f.dataLen ?? 0, true);
  u64(SCSI_URING_CMD.DATA_ADDR, f.dataAddr ?? 0);
  u64(SCSI_URING_CMD.SENSE_ADDR, f.senseAddr ?? 0);
  v.setUint32(SCSI_URING_CMD.SENSE_LEN, f.senseLen ?? 0, true);
  out.set(f.cdb, SCSI_URING_CMD.CDB);
  return out;
}
