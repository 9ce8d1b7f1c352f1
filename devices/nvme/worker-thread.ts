/**
 * The worker thread of a subsystem whose controllers run with `execution: worker`: it holds the
 * subsystem's namespaces and runs every worker controller of the subsystem (worker-entry.ts), so
 * a Copy through one controller reaches the namespaces another controller defined, as inline.
 * Controllers join it after it started through its message port; each has its own registers
 * (worker-bar.ts). The thread keeps the process alive only while some controller has commands
 * outstanding; when it dies, every controller on it fails its commands with EIO.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { workerScript } from '../../src/core/thread/entries.js';
import { REG_FLAG, REG_STATE, THREAD, type NvmeWorkerController, type NvmeWorkerData } from './worker-regs.js';

/** What the thread tells each of its controllers. */
export interface ThreadMember {
  threadFailed(reason: string): void;
}

export class NvmeSubsystemThread {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly words: Int32Array;
  private readonly members: ThreadMember[] = [];
  private referenced = 0;
  private closing = false;
  private dead: string | null = null;
  readonly exited: Promise<void>;

  constructor(readonly subsystem: string, arena: SharedArrayBuffer, doorbell: SharedArrayBuffer, idleMicros: number) {
    const thread = new SharedArrayBuffer(THREAD.WORDS * 4);
    this.words = new Int32Array(thread);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData: NvmeWorkerData & { port: MessagePort } = { kind: 'nvme', subsystem, thread, arena, doorbell, idleMicros, port: port2 };
    this.worker = new Worker(workerScript('nvme-subsystem'), { workerData, transferList: [port2], name: `copylab-nvme-${subsystem}` });
    this.worker.unref();
    this.port.unref();
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.fail(this.closing ? 'device closed' : `controller worker exited with code ${code}`);
        resolve();
      });
    });
    this.worker.on('error', (err) => this.fail(`controller worker error: ${err.message}`));
  }

  get alive(): boolean {
    return this.dead === null;
  }

  /** A controller joins the thread: posted before its first register write, which wakes the thread. */
  join(member: ThreadMember, c: NvmeWorkerController): void {
    this.members.push(member);
    this.port.postMessage(c);
    if (this.dead !== null) member.threadFailed(this.dead);
  }

  /** A register write of some controller: wake the thread if it sleeps. */
  wake(): void {
    Atomics.add(this.words, THREAD.WAKE, 1);
    if (Atomics.load(this.words, THREAD.FLAGS) & REG_FLAG.NEED_WAKEUP) Atomics.notify(this.words, THREAD.WAKE, 1);
  }

  /** A controller has commands outstanding (true) or none left (false): the thread keeps the process alive meanwhile. */
  hold(on: boolean): void {
    this.referenced += on ? 1 : -1;
    if (on && this.referenced === 1) this.worker.ref();
    if (!on && this.referenced === 0) this.worker.unref();
  }

  private fail(reason: string): void {
    if (this.dead !== null) return;
    this.dead = reason;
    for (const m of this.members) m.threadFailed(this.closing ? 'device closed' : reason);
  }

  get closed(): boolean {
    return this.closing;
  }

  /** Kills the thread as a crash would (for fault-injection tests). */
  async kill(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }

  /** Stops the thread; commands still outstanding complete with -EIO. */
  async close(): Promise<void> {
    if (this.dead !== null) return;
    this.closing = true;
    Atomics.store(this.words, THREAD.STATE, REG_STATE.STOP);
    Atomics.notify(this.words, THREAD.WAKE);
    await this.worker.terminate();
    await this.exited;
  }
}
