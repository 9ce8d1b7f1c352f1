/**
 * The driver's end of a device that runs on a worker thread: tags, the submission ring, the
 * completion ring, bounce buffers for host memory the worker cannot see, and what happens when
 * the worker dies (every request in flight completes with -EIO, later ones too, and the lab is
 * told). The worker end is workers/nullblk-queue.ts; the layout is queue-layout.ts.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Bio } from '../../src/core/block/bio.js';
import type { CompletionPoller, Pollable } from '../../src/core/block/completion-poller.js';
import { ReqOp } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import { WorkerHandle } from '../../src/core/thread/handle.js';
import { CMD, CPL, CTRL, QUEUE_FLAG, QUEUE_STATE, SRC, queueLayout, type DeviceWorkerData, type ShmMessage } from './queue-layout.js';
import { shmId } from './shm.js';

/** A copy source the worker can reach: a shared medium. */
export interface SharedSource {
  readonly media: SharedArrayBuffer;
  readonly offset: number;
  readonly length: number;
}

interface Slot {
  bio: Bio;
  /** Host memory the worker could not see: the bounce buffer used instead, and the bio's own. */
  bounce: Uint8Array | null;
}

export interface WorkerQueueOptions {
  readonly data: Omit<DeviceWorkerData, 'queue' | 'doorbell'>;
  readonly poller: CompletionPoller;
  readonly onFailure: (reason: string) => void;
}

export class WorkerQueue implements Pollable {
  private readonly thread: WorkerHandle;
  private readonly port: MessagePort;
  private readonly ctrl: Int32Array;
  private readonly view: DataView;
  private readonly layout: ReturnType<typeof queueLayout>;
  private readonly depth: number;
  private readonly maxSources: number;
  private readonly slots: (Slot | null)[];
  private readonly freeTags: number[];
  private readonly pending: { bio: Bio; sources: readonly SharedSource[] | null }[] = [];
  private readonly sent = new Set<number>();
  private readonly bounces: (Uint8Array | null)[];
  private sqTail = 0;
  private cqHead = 0;
  private _inflight = 0;
  readonly exited: Promise<void>;

  constructor(private readonly opts: WorkerQueueOptions) {
    const { depth, maxSources } = opts.data;
    this.depth = depth;
    this.maxSources = maxSources;
    this.layout = queueLayout({ depth, maxSources });
    const queue = new SharedArrayBuffer(this.layout.size);
    this.ctrl = new Int32Array(queue, 0, CTRL.WORDS);
    this.view = new DataView(queue);
    this.slots = new Array<Slot | null>(depth).fill(null);
    this.bounces = new Array<Uint8Array | null>(depth).fill(null);
    this.freeTags = Array.from({ length: depth }, (_, i) => depth - 1 - i);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData: DeviceWorkerData & { port: MessagePort } = { ...opts.data, queue, doorbell: opts.poller.doorbell.buffer as SharedArrayBuffer, port: port2 };
    this.sent.add(opts.data.mediaId);
    this.thread = new WorkerHandle('nullblk-queue', {
      workerData,
      transferList: [port2],
      name: `copylab-${opts.data.name}`,
      what: 'device worker',
      onGone: (reason, closing) => this.fail(reason, closing),
    });
    this.port.unref();
    this.exited = this.thread.exited;
    opts.poller.add(this);
  }

  get inflight(): number {
    return this._inflight;
  }

  get alive(): boolean {
    return this.thread.alive;
  }

  /** Queues a bio for the worker; completes it with -EIO at once when the worker is gone. */
  submit(bio: Bio, sources: readonly SharedSource[] | null): void {
    if (!this.thread.alive) return bio.endIo(-Errno.EIO);
    if (sources && sources.length > this.maxSources) return bio.endIo(-Errno.EINVAL);
    if (this._inflight++ === 0) {
      this.thread.hold(true);
      this.opts.poller.ensureReaping();
    }
    const tag = this.freeTags.pop();
    if (tag === undefined) {
      this.pending.push({ bio, sources });
      return;
    }
    this.dispatch(tag, bio, sources);
  }

  private share(sab: SharedArrayBuffer): number {
    const id = shmId(sab);
    if (!this.sent.has(id)) {
      // Posted before the command that names it is published: the worker finds it on its port.
      const msg: ShmMessage = { id, sab };
      this.port.postMessage(msg);
      this.sent.add(id);
    }
    return id;
  }

  private dispatch(tag: number, bio: Bio, sources: readonly SharedSource[] | null): void {
    let bounce: Uint8Array | null = null;
    let bufId = 0;
    let bufOffset = 0;
    const data = bio.data;
    if (data) {
      if (data.buffer instanceof SharedArrayBuffer) {
        bufId = this.share(data.buffer);
        bufOffset = data.byteOffset;
      } else {
        // Host memory the worker cannot map: DMA through a per-tag bounce buffer.
        let b = this.bounces[tag];
        if (!b || b.length < data.length) {
          b = new Uint8Array(new SharedArrayBuffer(Math.max(data.length, 4096)));
          this.bounces[tag] = b;
        }
        bounce = b;
        if (bio.op === ReqOp.WRITE) b.set(data);
        bufId = this.share(b.buffer as SharedArrayBuffer);
      }
    }
    this.slots[tag] = { bio, bounce };
    const v = this.view;
    const at = this.layout.sqOffset + (this.sqTail % this.depth) * CMD.SIZE;
    v.setUint8(at + CMD.OP, bio.op);
    v.setUint16(at + CMD.NSRC, sources ? sources.length : 0, true);
    v.setUint32(at + CMD.TAG, tag, true);
    v.setFloat64(at + CMD.OFFSET, bio.offset, true);
    v.setFloat64(at + CMD.LENGTH, bio.length, true);
    v.setUint32(at + CMD.BUF_ID, bufId, true);
    v.setFloat64(at + CMD.BUF_OFFSET, bufOffset, true);
    if (sources) {
      let s = this.layout.srcOffset + tag * this.maxSources * SRC.SIZE;
      for (const src of sources) {
        v.setUint32(s + SRC.MEDIA_ID, this.share(src.media), true);
        v.setFloat64(s + SRC.OFFSET, src.offset, true);
        v.setFloat64(s + SRC.LENGTH, src.length, true);
        s += SRC.SIZE;
      }
    }
    this.sqTail++;
    Atomics.store(this.ctrl, CTRL.SQ_TAIL, this.sqTail);
    if (Atomics.load(this.ctrl, CTRL.FLAGS) & QUEUE_FLAG.NEED_WAKEUP) Atomics.notify(this.ctrl, CTRL.SQ_TAIL, 1);
  }

  /** Reaps the completion ring; returns how many completed. */
  reap(): number {
    const tail = Atomics.load(this.ctrl, CTRL.CQ_TAIL);
    let n = 0;
    while (this.cqHead !== tail) {
      const at = this.layout.cqOffset + (this.cqHead % this.depth) * CPL.SIZE;
      const tag = this.view.getUint32(at + CPL.TAG, true);
      const res = this.view.getInt32(at + CPL.RES, true);
      this.cqHead++;
      const slot = this.slots[tag];
      if (!slot) continue; // already failed when the worker died
      this.slots[tag] = null;
      this.freeTags.push(tag);
      if (slot.bounce && slot.bio.op === ReqOp.READ && res >= 0) slot.bio.data!.set(slot.bounce.subarray(0, slot.bio.length));
      this.done(slot.bio, res);
      n++;
    }
    Atomics.store(this.ctrl, CTRL.CQ_HEAD, this.cqHead);
    while (this.pending.length && this.freeTags.length && this.thread.alive) {
      const p = this.pending.shift()!;
      this.dispatch(this.freeTags.pop()!, p.bio, p.sources);
    }
    return n;
  }

  private done(bio: Bio, res: number): void {
    if (--this._inflight === 0) this.thread.hold(false);
    bio.endIo(res);
  }

  /** The worker is gone: every request in flight, and every later one, completes with -EIO. */
  private fail(reason: string, closing: boolean): void {
    if (!closing) this.opts.onFailure(reason);
    const victims: Bio[] = [];
    for (let t = 0; t < this.depth; t++) {
      const s = this.slots[t];
      if (s) victims.push(s.bio);
      this.slots[t] = null;
    }
    for (const p of this.pending.splice(0)) victims.push(p.bio);
    for (const bio of victims) this.done(bio, -Errno.EIO);
    this.opts.poller.remove(this);
    this.opts.poller.kick();
  }

  /** Kills the worker as a crash would (for fault-injection tests). */
  kill(): Promise<void> {
    return this.thread.kill();
  }

  /** Stops the worker after the requests in flight: they complete with -EIO if still queued. */
  close(): Promise<void> {
    return this.thread.close(() => {
      Atomics.store(this.ctrl, CTRL.STATE, QUEUE_STATE.STOP);
      Atomics.notify(this.ctrl, CTRL.SQ_TAIL);
    });
  }
}
