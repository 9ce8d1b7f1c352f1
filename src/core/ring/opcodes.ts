/**
 * The ring's one table of opcodes and flags. Numbers are io_uring's (include/uapi/linux/
 * io_uring.h) where io_uring has the operation; block operations io_uring does not have
 * (discard, write zeroes, copy, zone management) take copylab opcodes in a private range
 * above io_uring's, so a real opcode is never given a different meaning.
 */

/** enum io_uring_op, and copylab's private block opcodes. */
export const IORING_OP = {
  NOP: 0,
  /** fsync on a block device: a FLUSH bio. */
  FSYNC: 3,
  /** READ/WRITE with a registered buffer named by buf_index (addr inside it). */
  READ_FIXED: 4,
  WRITE_FIXED: 5,
  /** READ/WRITE with addr in the ring's registered-buffer address space (no buf_index). */
  READ: 22,
  WRITE: 23,
  /**
   * Cancels an earlier request by its user_data (addr), io_uring's io_async_cancel: res 0 when
   * found, -ENOENT when not, or the number cancelled with IORING_ASYNC_CANCEL_ALL. A queued or
   * running COPY stops at its next piece boundary and completes with -ECANCELED.
   */
  ASYNC_CANCEL: 14,
  /** Passthrough: the command travels in the SQE's cmd area (SQE128 for NVMe and SCSI). */
  URING_CMD: 46,
  // ── copylab private range (0xC0-0xDF): block operations io_uring has no opcode for ──
  DISCARD: 0xc0,
  WRITE_ZEROES: 0xc1,
  /** Copy: fd = destination, addr/len = a range list in a registered buffer (CopyRangeLayout). */
  COPY: 0xc2,
  /**
   * copy_file_range(2) between two files of the lab's file systems: copylab's own opcode (Linux's
   * io_uring has none; the fields are IORING_OP_SPLICE's): fd = fd_out, off = off_out, addr =
   * off_in (splice_off_in), file_index = fd_in (splice_fd_in), len = bytes, op flags = the
   * call's flags (0). An offset of -1 (2^64 - 1) uses and advances the file position. res: the
   * bytes copied; ASYNC_CANCEL stops it at its next piece (-ECANCELED, bytes done in big_cqe[0]).
   */
  COPY_FILE_RANGE: 0xc3,
  /** Reserved for zoned block devices (open, close, finish, reset, append). */
  ZONE_OPEN: 0xc8,
  ZONE_CLOSE: 0xc9,
  ZONE_FINISH: 0xca,
  ZONE_RESET: 0xcb,
  ZONE_APPEND: 0xcc,
} as const;
export type IoringOp = (typeof IORING_OP)[keyof typeof IORING_OP];

export const OPCODE_NAME: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(IORING_OP).map(([k, v]) => [v, k]),
);

/** SQE flags, in io_uring's bit order (IOSQE_*_BIT). */
export const IOSQE = {
  FIXED_FILE: 1 << 0,
  IO_DRAIN: 1 << 1,
  IO_LINK: 1 << 2,
  IO_HARDLINK: 1 << 3,
  ASYNC: 1 << 4,
  BUFFER_SELECT: 1 << 5,
  CQE_SKIP_SUCCESS: 1 << 6,
} as const;
/** Flags copylab implements; any other bit (BUFFER_SELECT included) is -EINVAL. */
export const IOSQE_SUPPORTED = IOSQE.FIXED_FILE | IOSQE.IO_DRAIN | IOSQE.IO_LINK | IOSQE.IO_HARDLINK | IOSQE.ASYNC | IOSQE.CQE_SKIP_SUCCESS;

/** Setup flags (IORING_SETUP_*), those copylab honours. */
export const IORING_SETUP = {
  CQSIZE: 1 << 3,
  SQE128: 1 << 10,
  CQE32: 1 << 11,
} as const;

/** SQ ring flags (IORING_SQ_*). */
export const IORING_SQ = {
  NEED_WAKEUP: 1 << 0,
  CQ_OVERFLOW: 1 << 1,
} as const;

/** Features the ring reports (IORING_FEAT_*): completions are never dropped. */
export const IORING_FEAT = {
  NODROP: 1 << 1,
} as const;

/** IORING_MAX_ENTRIES and IORING_MAX_CQ_ENTRIES (io_uring/io_uring.h). */
export const IORING_MAX_ENTRIES = 32768;
export const IORING_MAX_CQ_ENTRIES = 2 * IORING_MAX_ENTRIES;

/**
 * uring_cmd cmd_op values for passthrough (include/uapi/linux/nvme_ioctl.h: _IOWR('N', 0x80/0x82,
 * struct nvme_uring_cmd)); copylab adds one for SCSI CDBs.
 */
export const URING_CMD_OP = {
  NVME_URING_CMD_IO: 0xc0484e80,
  NVME_URING_CMD_ADMIN: 0xc0484e82,
  /** copylab: a SCSI CDB with data (the sg_io_v4 idea in the SQE's cmd area). */
  SCSI_URING_CMD: 0xc0485380,
} as const;

/** ASYNC_CANCEL flags in the SQE's op flags (cancel_flags; IORING_ASYNC_CANCEL_*). */
export const IORING_ASYNC_CANCEL = {
  ALL: 1 << 0,
} as const;
