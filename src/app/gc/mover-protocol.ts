/**
 * What the worker mover (worker-mover.ts) and its thread (workers/gc-mover.ts) share: the
 * tunables of their waits, the control words and the job ring in shared memory, the counters the
 * worker publishes, what the worker is given, how it reports a failure, and the shared read-back.
 */
import type { MessagePort } from 'node:worker_threads';
import type { GcPathName, PathLimits } from './paths.js';
import type { GcOptions } from './options.js';
import type { Verifier } from './read-back.js';
import { jobWords } from './victim-job.js';

export const MOVER = {
  /** Most jobs the ring holds (a power of two). */
  ringJobs: 1024,
  /** Most bytes the ring may take (large sections make large jobs). */
  ringBytes: 16 * 1024 * 1024,
  /** Longest spin before a thread parks (µs). */
  spinUs: 1000,
  /** The worker keeps spinning this long after its last job (ms). */
  busyMs: 5,
  /** Longest park before a waiting thread looks again (ms). */
  parkMs: 100,
  /** A wait that sees no progress for this long means the worker is gone (ms). */
  stallMs: 60_000,
  /**
   * Smallest user space a worker is started for by default (blocks; 32 GiB): below, the reserve
   * (constants.ts gcReserve) lets the worker fall only a few victims behind and the two threads
   * wait on each other (measured at 32 GiB, two capacities: 3.0 s on two threads, 3.2 s on one;
   * at 64 GiB 3.1 against 4.1, at 128 GiB 9.0 against 15.1).
   */
  autoMinBlocks: 1 << 23,
} as const;

/** Ring slots for sections of `sectionBlocks` blocks: a power of two within MOVER's limits. */
export function ringSlots(sectionBlocks: number): number {
  const bytes = jobWords(sectionBlocks) * 4;
  let n = MOVER.ringJobs;
  while (n > 2 && n * bytes > MOVER.ringBytes) n >>= 1;
  return n;
}

/** Control words (Int32Array over the control buffer). */
export const MOVER_CTRL = {
  /** Jobs queued, wrapping (int32 arithmetic: differences stay below the ring size). */
  QUEUED: 0,
  /** Jobs the worker has finished, wrapping. */
  DONE: 1,
  /** 1 while the worker parks on QUEUED; 1 while this thread parks on DONE. */
  WORKER_PARKED: 2,
  MAIN_PARKED: 3,
  STOP: 4,
  /** 1 when the worker found a bad move (the details come as a message on the port). */
  FAILED: 5,
  /** The final read-back of [.., VERIFY_TO) shared with the worker: 1 asked, 2 the worker is done. */
  VERIFY_STATE: 6,
  /** The next chunk to claim (Atomics.add), and the end. */
  VERIFY_NEXT: 7,
  VERIFY_TO: 8,
  /** The worker's result: the first bad logical block it found (−1: none) and the blocks it checked. */
  VERIFY_BAD: 9,
  VERIFY_COUNT: 10,
  /** Set by the thread that finds a bad block: claim no more chunks. */
  VERIFY_STOP: 11,
  WORDS: 16,
} as const;

/** Logical blocks per chunk of the shared read-back. */
export const VERIFY_CHUNK = 1 << 20;

/** Words between the pages the worker touches first, so the kernel maps them off the main thread. */
export const PREFAULT_STRIDE = 1024;

/** What the worker is given (workerData). */
export interface MoverData {
  readonly ctrl: SharedArrayBuffer;
  readonly jobs: SharedArrayBuffer;
  readonly slotWords: number;
  readonly slots: number;
  readonly counters: SharedArrayBuffer;
  readonly l2p: SharedArrayBuffer;
  readonly l2pLength: number;
  readonly tags: SharedArrayBuffer;
  readonly sectionBlocks: number;
  readonly path: GcPathName;
  readonly limits: PathLimits;
  readonly inject: GcOptions['inject'];
  readonly port: MessagePort;
  /** The thread's lifeline (src/core/thread/lifeline.ts): the main thread, blocked waiting, sees an exit at once. */
  readonly lifeline: SharedArrayBuffer;
}

/** A failure the worker found, as it posts it. */
export interface MoverFailure {
  readonly message: string;
  readonly lba: number;
  readonly physical: number;
}

/**
 * This thread's (or the worker's) share of a shared read-back: chunks claimed in order until none
 * is left or a thread found a bad block. Every chunk below a bad one was claimed before it and is
 * checked to its end, so the lowest bad block either thread reports is the first bad block.
 */
export function verifyChunks(ctrl: Int32Array, verify: Verifier): { verified: number; bad: number } {
  const to = ctrl[MOVER_CTRL.VERIFY_TO]!;
  let verified = 0;
  while (Atomics.load(ctrl, MOVER_CTRL.VERIFY_STOP) === 0) {
    const from = Atomics.add(ctrl, MOVER_CTRL.VERIFY_NEXT, VERIFY_CHUNK);
    if (from >= to) break;
    const r = verify(from, Math.min(to, from + VERIFY_CHUNK));
    verified += r.verified;
    if (r.bad >= 0) {
      Atomics.store(ctrl, MOVER_CTRL.VERIFY_STOP, 1);
      return { verified, bad: r.bad };
    }
  }
  return { verified, bad: -1 };
}
