/** The ring's public surface: io_uring's layout and liburing's names. */
export { Ring, Cqe, allocBuffer } from './ring.js';
export { BUFFER_ADDRESS_STRIDE, MAX_REGISTERED_BUFFERS, MAX_REGISTERED_FILES } from './layout.js';
export type { RingParams, Sqe } from './ring.js';
export { IORING_OP, IORING_ASYNC_CANCEL, IOSQE, IORING_SQ, IORING_FEAT, IORING_SETUP, IORING_MAX_ENTRIES, IORING_MAX_CQ_ENTRIES, URING_CMD_OP, OPCODE_NAME } from './opcodes.js';
export { SQE, CQE, COPY_RANGE } from './layout.js';
export * from './prep.js';
export { RING_MAX_INFLIGHT } from './consumer.js';
export type { UringCmdDevice, UringCmdResult, BufferResolver, FileCopyRequest } from './consumer.js';
