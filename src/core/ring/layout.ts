/**
 * Byte layouts of the ring (struct io_uring_sqe / io_uring_cqe, include/uapi/linux/io_uring.h).
 * Little-endian, as on the machines io_uring runs on.
 */

/** struct io_uring_sqe: 64 bytes (128 with IORING_SETUP_SQE128). */
export const SQE = {
  SIZE: 64,
  SIZE128: 128,
  OPCODE: 0, // u8
  FLAGS: 1, // u8 IOSQE_*
  IOPRIO: 2, // u16
  FD: 4, // s32: file descriptor, or registered-file index with IOSQE_FIXED_FILE
  OFF: 8, // u64: device offset (bytes); uring_cmd: cmd_op u32 at 8
  CMD_OP: 8, // u32 (URING_CMD)
  ADDR: 16, // u64: buffer address (READ/WRITE/COPY range list)
  LEN: 24, // u32: bytes (READ/WRITE), ranges (COPY)
  OP_FLAGS: 28, // u32: rw_flags / fsync_flags / uring_cmd_flags
  USER_DATA: 32, // u64: copied into the CQE
  BUF_INDEX: 40, // u16: registered buffer (READ_FIXED/WRITE_FIXED)
  PERSONALITY: 42, // u16
  FILE_INDEX: 44, // u32
  ADDR3: 48, // u64
  /** URING_CMD payload: 16 bytes in a 64-byte SQE, 80 with SQE128 (uring_cmd_pdu_size). */
  CMD: 48,
} as const;

/** struct io_uring_cqe: 16 bytes (32 with IORING_SETUP_CQE32: big_cqe[2]). */
export const CQE = {
  SIZE: 16,
  SIZE32: 32,
  USER_DATA: 0, // u64
  RES: 8, // s32
  FLAGS: 12, // u32
  BIG_CQE: 16, // u64[2]
} as const;

/**
 * A COPY SQE's range list entry (copylab): the BLKCOPY / SRV_COPYCHUNK shape with a source fd.
 * 32 bytes: src_fd s32 (-1 = the destination; a registered index with IOSQE_FIXED_FILE),
 * reserved u32, src_off u64, dst_off u64, len u64 (bytes).
 */
export const COPY_RANGE = {
  SIZE: 32,
  SRC_FD: 0,
  SRC_OFF: 8,
  DST_OFF: 16,
  LEN: 24,
} as const;

/**
 * The shared ring header: u32 words at the start of the ring's SharedArrayBuffer, each padded
 * to its own 64-byte line so producer and consumer do not share cache lines.
 */
export const HDR = {
  SQ_HEAD: 0,
  SQ_TAIL: 16,
  SQ_FLAGS: 32,
  SQ_DROPPED: 48,
  CQ_HEAD: 64,
  CQ_TAIL: 80,
  CQ_OVERFLOW: 96,
  CQ_FLAGS: 112,
  /** copylab: non-zero while an application thread sleeps on CQ_TAIL (the consumer then notifies). */
  CQ_WAITERS: 120,
  /** Words in the header (as Int32 indices: 128 words = 512 bytes). */
  WORDS: 128,
} as const;

/** Registered buffers live in a flat address space: buffer i starts at (i + 1) × 2^40. */
export const BUFFER_ADDRESS_STRIDE = 2 ** 40;
/** Most registered buffers (UIO_MAXIOV). */
export const MAX_REGISTERED_BUFFERS = 1024;
/** Most registered files (devices) per ring. */
export const MAX_REGISTERED_FILES = 4096;
