/**
 * The worker thread of a subsystem whose controllers run with `execution: worker`: it holds the
 * subsystem's namespaces and runs every worker controller of the subsystem (workers/nvme-subsystem.ts), so
 * a Copy through one controller reaches the namespaces another controller defined, as inline.
 * Controllers join it after it started through its message port; each has its own registers
 * (worker-bar.ts). The thread keeps the process alive only while some controller has commands
 * outstanding; when it dies, every controller on it fails its commands with EIO.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { WorkerHandle } from '../../src/core/thread/handle.js';
import { newLifeline } from '../../src/core/thread/lifeline.js';
import { REG_FLAG, REG_STATE, THREAD, type NvmeThreadFault, type NvmeWorkerController, type NvmeWorkerData } from './worker-regs.js';
import type { CrashHow } from '../../src/core/thread/crash.js';

/** What the thread tells each of its controllers. */
export interface ThreadMember {
  threadFailed(reason: string): void;
}

export class NvmeSubsystemThread {
  private readonly thread: WorkerHandle;
  private readonly port: MessagePort;
  private readonly words: Int32Array;
  private readonly members: ThreadMember[] = [];
  readonly exited: Promise<void>;

  constructor(readonly subsystem: string, arena: SharedArrayBuffer, doorbell: SharedArrayBuffer, idleMicros: number) {
    const thread = new SharedArrayBuffer(THREAD.WORDS * 4);
    this.words = new Int32Array(thread);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const lifeline = newLifeline();
    const workerData: NvmeWorkerData & { port: MessagePort } = { kind: 'nvme', subsystem, thread, arena, doorbell, idleMicros, lifeline, port: port2 };
    this.thread = new WorkerHandle('nvme-subsystem', {
      workerData,
      lifeline,
      transferList: [port2],
      name: `copylab-nvme-${subsystem}`,
      what: 'controller worker',
      onGone: (reason, closing) => {
        for (const m of this.members) m.threadFailed(closing ? 'device closed' : reason);
      },
    });
    this.port.unref();
    this.exited = this.thread.exited;
  }

  get alive(): boolean {
    return this.thread.alive;
  }

  /** A controller joins the thread: posted before its first register write, which wakes the thread. */
  join(member: ThreadMember, c: NvmeWorkerController): void {
    this.members.push(member);
    this.port.postMessage(c);
    if (this.thread.dead !== null) member.threadFailed(this.thread.dead);
  }

  /** A register write of some controller: wake the thread if it sleeps. */
  wake(): void {
    Atomics.add(this.words, THREAD.WAKE, 1);
    if (Atomics.load(this.words, THREAD.FLAGS) & REG_FLAG.NEED_WAKEUP) Atomics.notify(this.words, THREAD.WAKE, 1);
  }

  /** A controller has commands outstanding (true) or none left (false): the thread keeps the process alive meanwhile. */
  hold(on: boolean): void {
    this.thread.hold(on);
  }

  get closed(): boolean {
    return this.thread.closing;
  }

  /**
   * Fault injection (tests only): the thread dies, `how`, when it admits the next controller that
   * joins, while that controller's probe waits for its first admin command. `reject` does not end
   * this thread: its loop never returns to the event loop, so a rejection is never reported.
   */
  crashOnNextController(how: CrashHow): void {
    if (this.thread.alive) this.port.postMessage({ crash: how } satisfies NvmeThreadFault);
  }

  /** Kills the thread as a crash would (for fault-injection tests). */
  kill(): Promise<void> {
    return this.thread.kill();
  }

  /** Stops the thread; commands still outstanding complete with -EIO. */
  close(): Promise<void> {
    return this.thread.close(() => {
      Atomics.store(this.words, THREAD.STATE, REG_STATE.STOP);
      Atomics.notify(this.words, THREAD.WAKE);
    });
  }
}
