/**
 * The lab's end of the worker thread that runs a SCSI fabric's arrays (`execution: worker`,
 * workers/scsi-fabric.ts): one thread per fabric, because the fabric is the copy domain of EXTENDED COPY
 * and ROD tokens. Synchronous calls (sd's probe at attach, sd's untimed bios, the lab's reads of
 * access lists) post their request and wait on a shared flag, then take the answer with
 * receiveMessageOnPort, as the NVMe worker's probe does; executeAsync answers on a listened port.
 * Modeled time: each asynchronous request carries the lab clock's time and holds the clock until
 * the thread says it is idle; events the thread's timing models schedule go on the lab's clock
 * and fire back to the thread (worker-clock.ts), each holding the clock the same way. The thread
 * keeps the process alive only while asynchronous work is out. When it dies,
 * every command, waiting or later, ends with CHECK CONDITION, HARDWARE ERROR / INTERNAL TARGET
 * FAILURE (sd: -EIO), and the host is told (a recorded failure) unless the lab closed it.
 *
 * A synchronous call waits in slices and wakes when the thread exits: the thread's exit marks its
 * lifeline (src/core/thread/lifeline.ts) and bumps the answer flag, so a crash in the middle of a
 * call (process.exit, an uncaught exception, an unhandled rejection) fails that call at once
 * instead of after SCSI_WORKER_LIMITS.syncTimeoutMs; the timeout is left for a thread that hangs.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { WorkerHandle } from '../../src/core/thread/handle.js';
import { newLifeline } from '../../src/core/thread/lifeline.js';
import { ASC, SenseKey, Status } from './constants.js';
import { ScsiCheck, checkCondition, type ScsiResult } from './sense.js';
import { SCSI_WORKER_LIMITS, SYNC, type CommandArgs, type Request, type SyncAnswer, type WorkerEvent } from './worker-protocol.js';
import type { CrashHow } from '../../src/core/thread/crash.js';
import type { Clock } from '../../src/core/time/clock.js';

/**
 * The answer of every command once the thread is gone, including the one it died in: HARDWARE
 * ERROR (SPC-4 4.5.6 table 48: the device server detected a failure of the hardware it runs on),
 * INTERNAL TARGET FAILURE 44h/00h (SPC-4 4.5.6 table 49, the ASC and ASCQ assignments). The lab's
 * target is the thread; LIO and FreeBSD CTL answer a backend that failed the same way. sd turns it
 * into -EIO, as the NVMe worker's controllers end their commands when their thread dies (host side
 * -EIO; a probe-time admin command completes with Internal Error, 06h, NVMe Base Figure 94).
 */
export const threadGone = (): ScsiResult => checkCondition(new ScsiCheck(SenseKey.HARDWARE_ERROR, ASC.INTERNAL_TARGET_FAILURE));

const taskSetFull = (): ScsiResult => ({ status: Status.TASK_SET_FULL, senseData: new Uint8Array(0), dataIn: new Uint8Array(0) });

/** Copies exactly a command's bytes (a view would clone its whole buffer) for transfer. */
function own(c: CommandArgs): { args: CommandArgs; transfer: ArrayBuffer[] } {
  const cdb = c.cdb.slice();
  const dataOut = c.dataOut ? c.dataOut.slice() : null;
  return { args: { ...c, cdb, dataOut, exported: c.exported ? [...c.exported] : null }, transfer: [cdb.buffer as ArrayBuffer, ...(dataOut ? [dataOut.buffer as ArrayBuffer] : [])] };
}

export class ScsiFabricThread {
  private readonly thread: WorkerHandle;
  private readonly requests: MessagePort;
  private readonly syncAnswers: MessagePort;
  private readonly asyncAnswers: MessagePort;
  private readonly flag: Int32Array;
  private readonly pending = new Map<number, (r: ScsiResult) => void>();
  /** Thread event id → the lab clock's event id. */
  private readonly events = new Map<number, number>();
  /** Requests whose instant the thread has not finished (each holds the lab's clock). */
  private holds = 0;
  private nextId = 1;
  /** Array names on the thread, told when it fails. */
  readonly arrays: string[] = [];
  readonly exited: Promise<void>;

  constructor(private readonly clock: Clock, private readonly reportFailure: (device: string, reason: string) => void) {
    const sync = new SharedArrayBuffer(SYNC.WORDS * 4);
    this.flag = new Int32Array(sync);
    const req = new MessageChannel();
    const syncCh = new MessageChannel();
    const asyncCh = new MessageChannel();
    this.requests = req.port1;
    this.syncAnswers = syncCh.port1;
    this.asyncAnswers = asyncCh.port1;
    const lifeline = newLifeline();
    const workerData = { sync, lifeline, requests: req.port2, syncAnswers: syncCh.port2, asyncAnswers: asyncCh.port2 };
    this.thread = new WorkerHandle('scsi-fabric', {
      workerData,
      lifeline,
      transferList: [req.port2, syncCh.port2, asyncCh.port2],
      name: 'copylab-scsi-fabric',
      what: 'SCSI fabric worker',
      onGone: (reason, closing) => this.fail(reason, closing),
    });
    this.requests.unref();
    this.syncAnswers.unref();
    this.asyncAnswers.on('message', (e: WorkerEvent) => this.onEvent(e));
    this.asyncAnswers.unref();
    this.exited = this.thread.exited;
  }

  get alive(): boolean {
    return this.thread.alive;
  }

  /** A request answered before this returns; throws RangeError with the thread's message when it refused. */
  call(m: Request, transfer: ArrayBuffer[] = []): unknown {
    const a = this.callSync(m, transfer);
    if (!a) throw new RangeError(`SCSI fabric worker: ${this.thread.dead ?? 'no answer'}`);
    if (!a.ok) throw new RangeError(a.error);
    return a.value;
  }

  /** A request whose answer carries nothing (transport events): done before this returns, never throws. */
  notify(m: Request): void {
    this.callSync(m, []);
  }

  /** ScsiArray.execute on the thread; the thread gone: INTERNAL TARGET FAILURE. */
  execute(c: CommandArgs): ScsiResult {
    const o = own(c);
    const a = this.callSync({ op: 'execute', args: o.args }, o.transfer);
    return a && a.ok ? (a.value as ScsiResult) : threadGone();
  }

  /** ScsiArray.executeAsync on the thread; never rejects. */
  executeAsync(c: CommandArgs): Promise<ScsiResult> {
    if (!this.thread.alive) return Promise.resolve(threadGone());
    if (this.pending.size >= SCSI_WORKER_LIMITS.maxOutstanding) return Promise.resolve(taskSetFull());
    const id = this.nextId++;
    const o = own(c);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.hold();
      this.keepAlive();
      this.requests.postMessage({ op: 'executeAsync', id, now: this.clock.now(), args: o.args } satisfies Request, o.transfer);
    });
  }

  private onEvent(e: WorkerEvent): void {
    switch (e.kind) {
      case 'answer':
        return this.settle(e.id, e.result);
      case 'at':
        this.events.set(e.id, this.clock.at(e.t, () => this.fire(e.id, e.t)));
        return;
      case 'cancel': {
        const at = this.events.get(e.id);
        this.events.delete(e.id);
        if (at !== undefined) this.clock.cancel(at);
        return;
      }
      case 'idle':
        this.release();
        this.keepAlive();
    }
  }

  /** An event of the thread's models is due: the thread runs it at that time. */
  private fire(id: number, t: number): void {
    this.events.delete(id);
    if (!this.thread.alive) return;
    this.hold();
    this.keepAlive();
    this.requests.postMessage({ op: 'fire', id, now: t } satisfies Request);
  }

  private hold(): void {
    this.holds++;
    this.clock.hold();
  }

  private release(): void {
    if (this.holds === 0) return;
    this.holds--;
    this.clock.release();
  }

  /** The answer port keeps the process alive while answers or idles are due. */
  private keepAlive(): void {
    if (this.pending.size > 0 || this.holds > 0) this.asyncAnswers.ref();
    else this.asyncAnswers.unref();
  }

  private settle(id: number, r: ScsiResult): void {
    const done = this.pending.get(id);
    if (!done) return;
    this.pending.delete(id);
    this.keepAlive();
    done(r);
  }

  private callSync(m: Request, transfer: ArrayBuffer[]): SyncAnswer | null {
    if (!this.thread.alive) return null;
    const seen = Atomics.load(this.flag, SYNC.ANSWERED);
    this.requests.postMessage(m, transfer);
    const deadline = Date.now() + SCSI_WORKER_LIMITS.syncTimeoutMs;
    for (;;) {
      const got = receiveMessageOnPort(this.syncAnswers);
      if (got) return got.message as SyncAnswer;
      // The thread exited (its lifeline says so) without answering: the call fails now.
      if (!this.thread.alive) return null;
      if (Date.now() > deadline) {
        this.thread.fail(`SCSI fabric worker did not answer within ${SCSI_WORKER_LIMITS.syncTimeoutMs} ms`);
        void this.thread.kill();
        return null;
      }
      Atomics.wait(this.flag, SYNC.ANSWERED, seen, SCSI_WORKER_LIMITS.waitSliceMs);
    }
  }

  private fail(reason: string, closing: boolean): void {
    if (!closing) for (const a of this.arrays) this.reportFailure(a, reason);
    for (const id of [...this.pending.keys()]) this.settle(id, threadGone());
    for (const at of this.events.values()) this.clock.cancel(at);
    this.events.clear();
    while (this.holds > 0) this.release();
    this.keepAlive();
  }

  /**
   * Fault injection (tests only): the thread dies inside the next synchronous request it gets,
   * `how` (process.exit, an uncaught exception, an unhandled rejection), while the lab waits.
   */
  crashOnNextCall(how: CrashHow): void {
    if (this.thread.alive) this.requests.postMessage({ op: 'crashOnNextCall', how } satisfies Request);
  }

  /** Kills the thread as a crash would (for fault-injection tests). */
  kill(): Promise<void> {
    return this.thread.kill();
  }

  /** Stops the thread; commands still outstanding end with INTERNAL TARGET FAILURE. */
  close(): Promise<void> {
    return this.thread.close();
  }
}
