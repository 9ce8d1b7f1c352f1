/**
 * The host's end of an NVMe controller that runs on a worker thread: register writes become
 * Atomics stores into the controller's shared registers (worker-regs.ts) plus a wake-up of the
 * subsystem's thread when it sleeps (worker-thread.ts), as a PCIe doorbell write is a posted
 * write to BAR0. The controller fetches commands and PRP lists from the lab's DMA arena (shared
 * memory), moves data, and posts CQEs there with the phase tag; the host learns of them through
 * the lab's completion poller (an interrupt is a bump of the poller's doorbell), then reaps the
 * CQs by phase tag exactly as inline.
 *
 * If the thread dies, every command in flight and every later one completes with -EIO and the
 * lab is told.
 */
import type { CompletionPoller, Pollable } from '../../src/core/block/completion-poller.js';
import type { Clock } from '../../src/core/time/clock.js';
import { Errno } from '../../src/core/util/errno.js';
import type { NvmeBar } from './bar.js';
import type { ControllerStats } from './controller.js';
import type { NvmeControllerOptions } from './defaults.js';
import type { NvmeSubsystemThread, ThreadMember } from './worker-thread.js';
import type { CrashHow } from '../../src/core/thread/crash.js';
import type { Cqe } from './codec.js';
import type { HostTiming } from './host-timing.js';
import { CSTS, REG, REGS_BYTES, STAT, STATS_OFFSET } from './worker-regs.js';

/** Longest the host waits for one probe-time admin command (the worker starting included), ms. */
export const PROBE_TIMEOUT_MS = 30_000;
/** One sleep of the probe wait; it re-checks the worker's state after it. */
const PROBE_WAIT_SLICE_MS = 50;

export interface NvmeWorkerBarOptions {
  readonly options: NvmeControllerOptions;
  readonly thread: NvmeSubsystemThread;
  readonly poller: CompletionPoller;
  /** The lab's clock when the controller or a namespace has a timing model; null: untimed. */
  readonly clock: Clock | null;
  /** Timed: where the worker's commands are timed, on this thread (host-timing.ts). */
  readonly timing: HostTiming | null;
  readonly onFailure: (reason: string) => void;
}

/** What the BAR needs of the host driver bound to it. */
export interface BarClient {
  readonly outstanding: number;
  abortAll(errno: number): void;
}

export class NvmeWorkerBar implements NvmeBar, Pollable, ThreadMember {
  private readonly regs: Int32Array;
  private readonly statWords: Float64Array;
  private readonly irq = new Map<number, () => number | void>();
  private client: BarClient | null = null;
  private dead: string | null = null;
  private referenced = false;
  /** Timed: commands on the worker, each holding the lab's virtual clock. */
  private holds = 0;

  constructor(private readonly o: NvmeWorkerBarOptions) {
    const regs = new SharedArrayBuffer(REGS_BYTES);
    this.regs = new Int32Array(regs);
    this.statWords = new Float64Array(regs, STATS_OFFSET, STAT.COUNT);
    o.poller.add(this);
    o.thread.join(this, { options: o.options, regs });
  }

  /** Binds the host driver (after its probe): the poller asks it what is outstanding. */
  bind(client: BarClient): void {
    this.client = client;
    if (this.dead !== null) client.abortAll(Errno.EIO);
  }

  get alive(): boolean {
    return this.dead === null;
  }

  /** Controller statistics as the worker last published them. */
  get stats(): ControllerStats {
    const s = this.statWords;
    return { commands: s[STAT.COMMANDS]!, errors: s[STAT.ERRORS]!, dma_bytes: s[STAT.DMA_BYTES]!, copy_bytes: s[STAT.COPY_BYTES]! };
  }

  get cntlid(): number {
    return Atomics.load(this.regs, REG.CNTLID);
  }

  /** Number of Queues as last set (0-based). */
  get numQueues(): { nsqr: number; ncqr: number } {
    const n = Atomics.load(this.regs, REG.NSQR);
    return { nsqr: n, ncqr: n };
  }

  private event(): void {
    Atomics.add(this.regs, REG.EVENT, 1);
    this.o.thread.wake();
  }

  setAdminQueues(asq: number, acq: number, sqEntries: number, cqEntries: number): void {
    const r = this.regs;
    Atomics.store(r, REG.AQA_SQ, sqEntries);
    Atomics.store(r, REG.AQA_CQ, cqEntries);
    Atomics.store(r, REG.ASQ_LO, asq >>> 0);
    Atomics.store(r, REG.ASQ_HI, Math.floor(asq / 2 ** 32));
    Atomics.store(r, REG.ACQ_LO, acq >>> 0);
    Atomics.store(r, REG.ACQ_HI, Math.floor(acq / 2 ** 32));
    Atomics.store(r, REG.CC_EN, 1);
    this.event();
  }

  onInterrupt(cqid: number, fn: () => number | void): void {
    this.irq.set(cqid, fn);
  }

  ringSqDoorbell(qid: number, tail: number): void {
    if (this.dead !== null) {
      // No device behind the doorbell: the command completes with -EIO once the caller has returned.
      queueMicrotask(() => this.client?.abortAll(Errno.EIO));
      return;
    }
    const clock = this.o.clock;
    if (clock) {
      // The command arrives at this modeled instant; the virtual clock waits until it is back and timed (docs/timing.md).
      clock.hold();
      this.holds++;
    }
    Atomics.store(this.regs, REG.DB + 2 * qid, tail);
    this.event();
    if (!this.referenced) {
      this.referenced = true;
      this.o.thread.hold(true);
    }
    this.o.poller.ensureReaping();
  }

  ringCqDoorbell(qid: number, head: number): void {
    if (this.dead !== null) return;
    Atomics.store(this.regs, REG.DB + 2 * qid + 1, head);
    this.event();
  }

  /**
   * Probe time: blocks this thread until `done()` (the admin command completed), the controller
   * reports fatal status, its thread exits (its lifeline, read by `alive`: the exit event cannot
   * arrive while this waits), or the time runs out. The admin command then completes with
   * Internal Error (host.ts), as a SCSI fabric's synchronous call ends with INTERNAL TARGET FAILURE.
   */
  runPending(done?: () => boolean): void {
    const until = Date.now() + PROBE_TIMEOUT_MS;
    for (;;) {
      const seen = Atomics.load(this.regs, REG.IRQ);
      this.reap();
      if (!done || done() || Atomics.load(this.regs, REG.CSTS) === CSTS.FATAL || !this.o.thread.alive || Date.now() >= until) return;
      Atomics.wait(this.regs, REG.IRQ, seen, PROBE_WAIT_SLICE_MS);
    }
  }

  get inflight(): number {
    return this.client?.outstanding ?? 0;
  }

  /** The interrupt handlers: each reaps its CQ by phase tag. */
  reap(): number {
    let n = 0;
    for (const fn of this.irq.values()) n += fn() ?? 0;
    this.release(n);
    this.settle();
    return n;
  }

  /** Timed: the host has written `sqe` and rings its doorbell next (its place in the timing order). */
  submitted(qid: number, cid: number, sqe: Uint8Array): void {
    this.o.timing?.submitted(qid, cid, sqe);
  }

  /** Timed: the host finishes a reaped command at its modeled completion time (host-timing.ts). */
  finishAt(qid: number, cqe: Cqe, finish: () => void): void {
    const timing = this.o.timing;
    if (!timing) return finish();
    timing.finishAt(qid, cqe, () => {
      finish();
      this.settle();
    });
  }

  /** Nothing outstanding: this controller no longer keeps the process alive. */
  private settle(): void {
    if (this.referenced && this.inflight === 0) {
      this.referenced = false;
      this.o.thread.hold(false);
    }
  }

  /** `n` commands came back from the worker: their holds on the virtual clock go. */
  private release(n: number): void {
    for (; n > 0 && this.holds > 0; n--, this.holds--) this.o.clock!.release();
  }

  /** The subsystem's thread is gone: every outstanding and later command completes with EIO. */
  threadFailed(reason: string): void {
    if (this.dead !== null) return;
    this.dead = reason;
    if (!this.o.thread.closed) this.o.onFailure(reason);
    this.client?.abortAll(Errno.EIO);
    this.o.timing?.abandon();
    this.release(this.holds);
    if (this.referenced) {
      this.referenced = false;
      this.o.thread.hold(false);
    }
    this.o.poller.remove(this);
    this.o.poller.kick();
  }

  /** Fault injection (tests only): the subsystem's thread dies when the next controller joins it (worker-thread.ts). */
  crashOnNextController(how: CrashHow): void {
    this.o.thread.crashOnNextController(how);
  }

  /** Kills the subsystem's thread as a crash would (for fault-injection tests). */
  kill(): Promise<void> {
    return this.o.thread.kill();
  }
}
