/**
 * The command queue between a device driver on the lab's thread and its device on a worker
 * thread, in one SharedArrayBuffer: a submission ring of 64-byte commands, a table of copy
 * sources per tag, and a completion ring of 8-byte entries (an NVMe-like queue pair).
 * Control words sit on their own 64-byte lines.
 */

/** Int32 indices of the control words. */
export const CTRL = {
  SQ_TAIL: 0, // host writes
  SQ_HEAD: 16, // worker writes
  CQ_TAIL: 32, // worker writes
  CQ_HEAD: 48, // host writes
  FLAGS: 64, // worker: NEED_WAKEUP while it sleeps
  STATE: 80, // host: STOP asks the worker to leave its loop
  WORDS: 96,
} as const;

export const QUEUE_FLAG = { NEED_WAKEUP: 1 } as const;
export const QUEUE_STATE = { RUN: 0, STOP: 1 } as const;

/** A submission entry. */
export const CMD = {
  SIZE: 64,
  OP: 0, // u8 ReqOp
  NSRC: 2, // u16 copy sources (in the source table at this tag)
  TAG: 4, // u32
  OFFSET: 8, // f64 device offset (bytes, exact below 2^53)
  LENGTH: 16, // f64 bytes
  BUF_ID: 24, // u32 shared-memory id of the host buffer (0 = none)
  BUF_OFFSET: 32, // f64 byte offset in it
} as const;

/** A copy source entry: shared-memory id of the source medium, offset, length. */
export const SRC = {
  SIZE: 24,
  MEDIA_ID: 0, // u32
  OFFSET: 8, // f64
  LENGTH: 16, // f64
} as const;

/** A completion entry. */
export const CPL = {
  SIZE: 8,
  TAG: 0, // u32
  RES: 4, // s32
} as const;

/** Queue depth bounds (the kernel's nr_requests). */
export const QUEUE_DEPTH = { default: 256, min: 1, max: 4096 } as const;

export interface QueueGeometry {
  readonly depth: number;
  readonly maxSources: number;
}

export function queueLayout(g: QueueGeometry): { sqOffset: number; srcOffset: number; cqOffset: number; size: number } {
  const sqOffset = CTRL.WORDS * 4;
  const srcOffset = sqOffset + g.depth * CMD.SIZE;
  const cqOffset = srcOffset + g.depth * g.maxSources * SRC.SIZE;
  return { sqOffset, srcOffset, cqOffset, size: cqOffset + g.depth * CPL.SIZE };
}

/** What a device worker is started with (workerData). */
export interface DeviceWorkerData {
  readonly kind: 'nullblk';
  readonly name: string;
  readonly queue: SharedArrayBuffer;
  readonly depth: number;
  readonly maxSources: number;
  /** Shared-memory id and buffer of the device's own medium. */
  readonly mediaId: number;
  readonly media: SharedArrayBuffer;
  readonly mediaSize: number;
  /** The lab's completion doorbell (CompletionPoller.doorbell). */
  readonly doorbell: SharedArrayBuffer;
  /** Busy-poll this long after the last command before sleeping (io_uring's sq_thread_idle). */
  readonly idleMicros: number;
}

/** Messages the host posts on the worker's port: shared memory it will reference by id. */
export interface ShmMessage {
  readonly id: number;
  readonly sab: SharedArrayBuffer;
}
