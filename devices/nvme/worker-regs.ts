/**
 * The registers of an NVMe controller that runs on a worker thread, in one SharedArrayBuffer
 * (the controller's BAR0, reduced to what the host driver writes and reads): AQA/ASQ/ACQ and
 * CC.EN (Base 3.1.3), the doorbells SQyTDBL / CQyHDBL (Base 3.1.4), and a few words of our own
 * for the thread handshake (a doorbell event counter the worker sleeps on, an interrupt counter,
 * NEED_WAKEUP while it sleeps, STOP). Controller statistics follow as doubles.
 * Host memory itself (queues, PRP lists, data) is the lab's DMA arena, shared as well.
 */
import type { CrashHow } from '../../src/core/thread/crash.js';
import { NVME_LIMITS, type NvmeControllerOptions } from './defaults.js';

/**
 * The words of the subsystem's thread (one worker runs every worker-mode controller of a
 * subsystem, so they share its namespaces): WAKE, bumped by any controller's register write or a
 * new controller, which the thread sleeps on; NEED_WAKEUP while it sleeps; STOP.
 */
export const THREAD = { WAKE: 0, FLAGS: 16, STATE: 32, WORDS: 48 } as const;

/** Int32 indices of one controller's registers; handshake words on their own 64-byte lines. */
export const REG = {
  /** Host: bumped after every doorbell or CC write of this controller (then THREAD.WAKE). */
  EVENT: 0,
  /** Worker: bumped after it raised interrupts (posted CQEs); the probe waits on it. */
  IRQ: 48,
  /** AQA: admin SQ and CQ entries (Base 3.1.3.8; kept as two words). */
  AQA_SQ: 64,
  AQA_CQ: 65,
  /** ASQ / ACQ bus addresses, low and high dwords (Base 3.1.3.9-10). */
  ASQ_LO: 66,
  ASQ_HI: 67,
  ACQ_LO: 68,
  ACQ_HI: 69,
  /** CC.EN (Base 3.1.3.5). */
  CC_EN: 70,
  /** CSTS.RDY, or CSTS_FATAL when the controller could not be built or its thread exited (Base 3.1.3.6). */
  CSTS: 71,
  /** Identify-independent facts the host's sysfs shows: CNTLID, Number of Queues (NSQR, 0-based). */
  CNTLID: 72,
  NSQR: 73,
  /** Doorbells: SQ tail of queue q at DB + 2q, CQ head at DB + 2q + 1 (doorbell stride 0). */
  DB: 96,
} as const;

export const CSTS = { RDY: 1, FATAL: 2 } as const;
export const REG_FLAG = { NEED_WAKEUP: 1 } as const;
export const REG_STATE = { RUN: 0, STOP: 1 } as const;

/**
 * Doubles after the registers: controller statistics (ControllerStats). Modeled time is not kept
 * here: the host end of a timed controller times its commands on the lab's thread (host-timing.ts).
 */
export const STAT = { COMMANDS: 0, ERRORS: 1, DMA_BYTES: 2, COPY_BYTES: 3, COUNT: 4 } as const;

/** Queues with doorbells: the admin queue and every I/O queue the controller may create. */
export const DOORBELL_QUEUES = NVME_LIMITS.maxIoQueues + 1;
const REG_WORDS = REG.DB + 2 * DOORBELL_QUEUES;
/** Byte offset of the statistics (8-byte aligned). */
export const STATS_OFFSET = Math.ceil((REG_WORDS * 4) / 64) * 64;
export const REGS_BYTES = STATS_OFFSET + STAT.COUNT * 8;

/** One controller the subsystem's thread runs: its options (namespaces it adds) and registers. */
export interface NvmeWorkerController {
  readonly options: NvmeControllerOptions;
  readonly regs: SharedArrayBuffer;
}

/** What the subsystem's worker is started with (workerData); later controllers arrive on its port. */
export interface NvmeWorkerData {
  readonly kind: 'nvme';
  /** Subsystem name (its NQN follows from it). */
  readonly subsystem: string;
  /** THREAD words. */
  readonly thread: SharedArrayBuffer;
  /** The lab's DMA arena. */
  readonly arena: SharedArrayBuffer;
  /** The lab's completion doorbell (CompletionPoller.doorbell). */
  readonly doorbell: SharedArrayBuffer;
  readonly idleMicros: number;
  /** The thread's lifeline (src/core/thread/lifeline.ts): marked as it exits. */
  readonly lifeline: SharedArrayBuffer;
}

/**
 * Fault injection (tests only), posted on the controllers' port: the thread dies, `crash`, when it
 * admits the next controller, in the middle of that controller's probe.
 */
export interface NvmeThreadFault {
  readonly crash: CrashHow;
}
