/**
 * One worker thread's lifecycle, for every device worker (a nullblk queue, an NVMe subsystem, a
 * SCSI fabric): started by entry name (entries.ts), unreferenced while idle so it never keeps the
 * process alive by itself, gone exactly once (an exit, an error, a timeout its owner detects, or
 * a close) with the reason told to its owner, killed as a crash would be (fault-injection tests)
 * or closed on purpose (the owner's reason is then "device closed").
 */
import { Worker, type Transferable } from 'node:worker_threads';
import { workerScript, type WorkerEntry } from './entries.js';
import { exitedWith } from './lifeline.js';

export interface WorkerHandleOptions {
  readonly workerData: unknown;
  readonly transferList?: readonly Transferable[];
  /** The thread's name (shown by debuggers and in process listings). */
  readonly name: string;
  /** What the thread is, for the reasons it gives ("device worker" → "device worker exited with code 1"). */
  readonly what: string;
  /** Told once when the thread is gone: the reason, and whether the owner closed it on purpose. */
  readonly onGone: (reason: string, closing: boolean) => void;
  /**
   * The thread's lifeline (lifeline.ts), when its entry holds one: `alive` then reads it, so an
   * owner blocked in a synchronous wait sees an exit the event loop has not delivered yet.
   */
  readonly lifeline?: SharedArrayBuffer;
}

export class WorkerHandle {
  readonly worker: Worker;
  /** Resolves when the thread has exited (after onGone ran). */
  readonly exited: Promise<void>;
  private reason: string | null = null;
  private closingNow = false;
  private holds = 0;
  private readonly life: Int32Array | null;

  constructor(entry: WorkerEntry, private readonly o: WorkerHandleOptions) {
    this.life = o.lifeline ? new Int32Array(o.lifeline) : null;
    this.worker = new Worker(workerScript(entry), { workerData: o.workerData, transferList: o.transferList ? [...o.transferList] : [], name: o.name });
    this.worker.unref();
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.fail(`${o.what} exited with code ${code}`);
        resolve();
      });
    });
    this.worker.on('error', (err) => this.fail(`${o.what} error: ${err.message}`));
  }

  /** The thread runs: no exit seen, and (with a lifeline) none begun on the thread's side. */
  get alive(): boolean {
    this.readLifeline();
    return this.reason === null;
  }

  /** Why the thread is gone ("device closed" when its owner closed it), or null while it runs. */
  get dead(): string | null {
    this.readLifeline();
    return this.reason;
  }

  /** An exit the thread announced on its lifeline makes it gone now, before its exit event arrives. */
  private readLifeline(): void {
    if (this.reason !== null || this.life === null) return;
    const code = exitedWith(this.life);
    if (code !== null) this.fail(`${this.o.what} exited with code ${code}`);
  }

  /** The owner is closing it (a failure after this is not reported as one). */
  get closing(): boolean {
    return this.closingNow;
  }

  /** The thread is gone (an exit, an error, or the owner gave up on it): once, whatever comes after. */
  fail(reason: string): void {
    if (this.reason !== null) return;
    this.reason = this.closingNow ? 'device closed' : reason;
    this.o.onGone(reason, this.closingNow);
  }

  /** Work is outstanding (true) or done (false): the thread keeps the process alive meanwhile. */
  hold(on: boolean): void {
    this.holds += on ? 1 : -1;
    if (on && this.holds === 1) this.worker.ref();
    if (!on && this.holds === 0) this.worker.unref();
  }

  /**
   * Kills the thread as a crash would (for fault-injection tests). It is gone from the call on:
   * terminate() ends the thread later, and its exit reaches the owner only through this thread's
   * event loop, so a synchronous call made meanwhile (a SCSI fabric's) waited for an answer until
   * its 30 s timeout (found by the worker-kill fault campaign).
   */
  async kill(): Promise<void> {
    this.fail(`${this.o.what} killed`);
    await this.worker.terminate();
    await this.exited;
  }

  /** Stops the thread on purpose: `signal` tells it to stop first (a STOP word and a wake-up). */
  async close(signal?: () => void): Promise<void> {
    if (this.reason !== null) return;
    this.closingNow = true;
    signal?.();
    await this.worker.terminate();
    await this.exited;
  }
}
