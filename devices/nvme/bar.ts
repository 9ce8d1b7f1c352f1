/**
 * The controller as the host driver reaches it: its registers (Base 3.1) and its interrupts.
 * An inline NvmeController is its own BAR; a controller on a worker thread is reached through
 * registers in shared memory (worker-bar.ts). The host driver (host.ts) sees only this.
 */
import type { Cqe } from './codec.js';

export interface NvmeBar {
  /** AQA/ASQ/ACQ and CC.EN (Base 3.1.3.8-10): places the admin queues and enables the controller. */
  setAdminQueues(asq: number, acq: number, sqEntries: number, cqEntries: number): void;
  /** The host's handler for a completion queue's interrupt (MSI-X vector); returns completions reaped. */
  onInterrupt(cqid: number, fn: () => number | void): void;
  /** SQyTDBL (Base 3.1.4.x). */
  ringSqDoorbell(qid: number, tail: number): void;
  /** CQyHDBL. */
  ringCqDoorbell(qid: number, head: number): void;
  /**
   * Probe time: the commands rung so far are executed and their interrupts delivered before this
   * returns, or `done()` holds. Inline it runs them on the caller's turn; a worker-run controller
   * is waited for (bounded).
   */
  runPending(done?: () => boolean): void;
  /**
   * Optional: the host wrote `sqe` (command `cid`) to queue `qid` and rings its doorbell next. A
   * worker-run timed controller's host end notes the command's place in the timing order.
   */
  submitted?(qid: number, cid: number, sqe: Uint8Array): void;
  /**
   * Optional: when the host may finish the command whose CQE it has reaped. A worker-run timed
   * controller's host end finishes it at its modeled completion time; without this hook (inline:
   * the controller posts at that time itself) the host finishes it at once.
   */
  finishAt?(qid: number, cqe: Cqe, finish: () => void): void;
}
