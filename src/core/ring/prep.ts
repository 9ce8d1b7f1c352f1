/**
 * liburing-style prep helpers (io_uring_prep_*): each only fills SQE fields, on top of one
 * common helper, as liburing.h builds every prep on io_uring_prep_rw.
 */
import { IORING_OP } from './opcodes.js';
import { SQE } from './layout.js';
import type { Sqe } from './ring.js';
import { putLe64 } from '../util/bytes.js';

/** io_uring_prep_rw: the fields most operations share. */
export function prepRw(sqe: Sqe, op: number, fd: number, addr: number, len: number, offset: number): void {
  const v = sqe.view;
  const o = sqe.offset;
  v.setUint8(o + SQE.OPCODE, op);
  v.setInt32(o + SQE.FD, fd, true);
  putLe64(sqe.bytes, o + SQE.OFF, offset);
  putLe64(sqe.bytes, o + SQE.ADDR, addr);
  v.setUint32(o + SQE.LEN, len, true);
}

export function prepNop(sqe: Sqe): void {
  prepRw(sqe, IORING_OP.NOP, -1, 0, 0, 0);
}

/** Read `len` bytes at device `offset` into the registered-buffer address `addr` (Ring.bufferAddress). */
export function prepRead(sqe: Sqe, fd: number, addr: number, len: number, offset: number): void {
  prepRw(sqe, IORING_OP.READ, fd, addr, len, offset);
}

export function prepWrite(sqe: Sqe, fd: number, addr: number, len: number, offset: number): void {
  prepRw(sqe, IORING_OP.WRITE, fd, addr, len, offset);
}

/** io_uring_prep_read_fixed: `addr` must lie inside registered buffer `bufIndex`. */
export function prepReadFixed(sqe: Sqe, fd: number, addr: number, len: number, offset: number, bufIndex: number): void {
  prepRw(sqe, IORING_OP.READ_FIXED, fd, addr, len, offset);
  sqe.view.setUint16(sqe.offset + SQE.BUF_INDEX, bufIndex, true);
}

export function prepWriteFixed(sqe: Sqe, fd: number, addr: number, len: number, offset: number, bufIndex: number): void {
  prepRw(sqe, IORING_OP.WRITE_FIXED, fd, addr, len, offset);
  sqe.view.setUint16(sqe.offset + SQE.BUF_INDEX, bufIndex, true);
}

/** io_uring_prep_fsync on a block device: a cache flush. */
export function prepFsync(sqe: Sqe, fd: number): void {
  prepRw(sqe, IORING_OP.FSYNC, fd, 0, 0, 0);
}

export function prepDiscard(sqe: Sqe, fd: number, offset: number, len: number): void {
  prepRw(sqe, IORING_OP.DISCARD, fd, 0, len, offset);
}

export function prepWriteZeroes(sqe: Sqe, fd: number, offset: number, len: number): void {
  prepRw(sqe, IORING_OP.WRITE_ZEROES, fd, 0, len, offset);
}

/** Copy `nr` ranges (COPY_RANGE entries at registered-buffer address `addr`) onto device `fd`. */
export function prepCopy(sqe: Sqe, fd: number, addr: number, nr: number): void {
  prepRw(sqe, IORING_OP.COPY, fd, addr, nr, 0);
}

/**
 * copy_file_range(fd_in, off_in, fd_out, off_out, len, flags) as copylab's COPY_FILE_RANGE,
 * filled as io_uring_prep_splice fills IORING_OP_SPLICE; an offset of -1 uses the file position.
 */
export function prepCopyFileRange(sqe: Sqe, fdIn: number, offIn: number, fdOut: number, offOut: number, len: number, flags = 0): void {
  prepRw(sqe, IORING_OP.COPY_FILE_RANGE, fdOut, Math.max(0, offIn), len, Math.max(0, offOut));
  if (offIn === -1) sqe.bytes.fill(0xff, sqe.offset + SQE.ADDR, sqe.offset + SQE.ADDR + 8);
  if (offOut === -1) sqe.bytes.fill(0xff, sqe.offset + SQE.OFF, sqe.offset + SQE.OFF + 8);
  sqe.view.setUint32(sqe.offset + SQE.OP_FLAGS, flags, true);
  sqe.view.setInt32(sqe.offset + SQE.FILE_INDEX, fdIn, true);
}

/**
 * io_uring_prep_cancel64: cancel the request whose user_data is `userData` (flags:
 * IORING_ASYNC_CANCEL_ALL to cancel every match; res is then the count).
 */
export function prepCancel(sqe: Sqe, userData: number, flags = 0): void {
  prepRw(sqe, IORING_OP.ASYNC_CANCEL, -1, userData, 0, 0);
  sqe.view.setUint32(sqe.offset + SQE.OP_FLAGS, flags, true);
}

/** io_uring_prep_uring_cmd: `cmd` (up to 16 bytes, 80 with SQE128) goes into the SQE's cmd area. */
export function prepUringCmd(sqe: Sqe, fd: number, cmdOp: number, cmd: Uint8Array): void {
  prepRw(sqe, IORING_OP.URING_CMD, fd, 0, 0, 0);
  sqe.view.setUint32(sqe.offset + SQE.CMD_OP, cmdOp, true);
  new Uint8Array(sqe.view.buffer, sqe.view.byteOffset + sqe.offset + SQE.CMD, cmd.length).set(cmd);
}

export function sqeSetData(sqe: Sqe, userData: number): void {
  putLe64(sqe.bytes, sqe.offset + SQE.USER_DATA, userData);
}

export function sqeSetFlags(sqe: Sqe, flags: number): void {
  sqe.view.setUint8(sqe.offset + SQE.FLAGS, flags);
}

/** Writes one COPY range entry (src_fd -1 = the destination device). */
export function setCopyRange(buf: Uint8Array, index: number, srcFd: number, srcOff: number, dstOff: number, len: number): void {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const at = index * 32;
  v.setInt32(at, srcFd, true);
  v.setUint32(at + 4, 0, true);
  putLe64(buf, at + 8, srcOff);
  putLe64(buf, at + 16, dstOff);
  putLe64(buf, at + 24, len);
}
