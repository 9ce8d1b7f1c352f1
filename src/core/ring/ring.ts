/**
 * The ring: submission and completion queues in one SharedArrayBuffer, laid out as io_uring's
 * (64/128-byte SQEs behind an index array, 16/32-byte CQEs, head/tail/mask), and the
 * application side of io_uring's API under liburing's names. The consumer side (the "kernel":
 * parsing SQEs, links, drain, executing against block devices, posting CQEs) is consumer.ts.
 *
 * Memory ordering: the producer fills entries, then publishes the tail with Atomics.store
 * (a release for the plain writes before it); the consumer reads the tail with Atomics.load
 * (an acquire) before it reads entries. Heads are published the same way in the other direction.
 */
import { BUFFER_ADDRESS_STRIDE, CQE, HDR, SQE } from './layout.js';
import { IORING_MAX_CQ_ENTRIES, IORING_MAX_ENTRIES, IORING_SQ, IORING_FEAT } from './opcodes.js';
import { RingConsumer, type RingHost } from './consumer.js';
import { Errno, ErrnoError } from '../util/errno.js';
import { AdaptiveSpin } from '../block/adaptive-spin.js';

export interface RingParams {
  /** SQ entries (rounded up to a power of two, 1..32768). */
  readonly entries: number;
  /** CQ entries (default 2 × entries; at least entries, at most 65536). */
  readonly cqEntries?: number;
  /** 128-byte SQEs (IORING_SETUP_SQE128), needed for NVMe and SCSI passthrough. */
  readonly sqe128?: boolean;
  /** 32-byte CQEs (IORING_SETUP_CQE32): passthrough results in big_cqe. */
  readonly cqe32?: boolean;
  /**
   * IORING_SETUP_SQPOLL: the lab's thread polls the SQ, so submit() only publishes the tail
   * (waking the poller when it set NEED_WAKEUP); the application may then run on another thread
   * (Ring.attach). The poller sleeps after `sqThreadIdle` ms without work.
   */
  readonly sqpoll?: boolean;
  readonly sqThreadIdle?: number;
}

/** What another thread needs to attach to a ring (post it with postMessage). */
export interface SharedRing {
  readonly sab: SharedArrayBuffer;
  readonly sqEntries: number;
  readonly cqEntries: number;
  readonly sqeSize: number;
  readonly cqeSize: number;
  readonly sqpoll: boolean;
}

/** An SQE slot handed out by getSqe(): a view of its bytes in the ring. */
export interface Sqe {
  readonly view: DataView;
  /** The same memory as `view`, as bytes (src/core/util/bytes.ts reads and writes fields in it). */
  readonly bytes: Uint8Array;
  /** Byte offset of the SQE in `view`. */
  readonly offset: number;
  readonly index: number;
}

/** A CQE in the completion ring; valid until cqeSeen() releases it. */
export class Cqe {
  constructor(private readonly view: DataView, private readonly offset: number) {}
  get user_data(): number {
    return this.view.getUint32(this.offset + CQE.USER_DATA, true) + this.view.getUint32(this.offset + CQE.USER_DATA + 4, true) * 0x1_0000_0000;
  }
  get res(): number {
    return this.view.getInt32(this.offset + CQE.RES, true);
  }
  get flags(): number {
    return this.view.getUint32(this.offset + CQE.FLAGS, true);
  }
  /** big_cqe[i] of a 32-byte CQE (as a bigint: a full u64). */
  big(i: 0 | 1): bigint {
    return this.view.getBigUint64(this.offset + CQE.BIG_CQE + 8 * i, true);
  }
}

/** Default sq_thread_idle for SQPOLL rings (ms). */
export const SQ_THREAD_IDLE_MS = 10;

/** Longest busy-poll of worker devices before a wait sleeps (µs); adaptive below it (src/core/block/adaptive-spin.ts). */
export const RING_SPIN_US = 100;

function roundPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** A Uint8Array on a SharedArrayBuffer: host memory that device workers can DMA into. */
export function allocBuffer(size: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(size));
}

/** A settled promise: `.then` on it queues one microtask. */
const SETTLED = Promise.resolve();

export class Ring {
  readonly sab: SharedArrayBuffer;
  readonly hdr: Int32Array;
  readonly view: DataView;
  readonly sqEntries: number;
  readonly cqEntries: number;
  readonly sqeSize: number;
  readonly cqeSize: number;
  readonly features = IORING_FEAT.NODROP;
  /** Byte offsets of the SQ index array, the SQEs and the CQEs in `sab`. */
  readonly sqArrayOffset: number;
  readonly sqesOffset: number;
  readonly cqesOffset: number;
  readonly sqArray: Uint32Array;
  /** The ring memory as bytes (SQE and CQE fields through src/core/util/bytes.ts). */
  readonly bytes: Uint8Array;
  /** The ring memory as 32-bit words (getSqe zeroes an SQE a word at a time). */
  private readonly words: Int32Array;
  private readonly sqeSlots: Sqe[];
  private readonly cqeSlots: Cqe[];
  /** Local SQE counters (liburing's sqe_head/sqe_tail): handed out, and flushed to the SQ. */
  private sqeTail = 0;
  private sqeHead = 0;
  /** The consumer, on the thread that created the ring; null on a ring attached from another thread. */
  private readonly _consumer: RingConsumer | null;
  readonly sqpoll: boolean;
  private closed = false;
  /** How long a wait busy-polls worker devices before sleeping, learned per ring. */
  private readonly spin = new AdaptiveSpin(RING_SPIN_US, 1);

  /** The consumer side (only on the ring's own thread). */
  get consumer(): RingConsumer {
    if (!this._consumer) throw new ErrnoError(Errno.EINVAL, 'an attached ring has no consumer on this thread');
    return this._consumer;
  }

  /** Attaches the application side to a ring created on another thread (SQPOLL rings). */
  static attach(shared: SharedRing): Ring {
    return new Ring(null, { entries: shared.sqEntries, cqEntries: shared.cqEntries, sqe128: shared.sqeSize === SQE.SIZE128, cqe32: shared.cqeSize === CQE.SIZE32, sqpoll: shared.sqpoll }, shared.sab);
  }

  /** The description another thread attaches with. */
  shareable(): SharedRing {
    return { sab: this.sab, sqEntries: this.sqEntries, cqEntries: this.cqEntries, sqeSize: this.sqeSize, cqeSize: this.cqeSize, sqpoll: this.sqpoll };
  }

  constructor(host: RingHost | null, params: RingParams, sab?: SharedArrayBuffer) {
    const { entries } = params;
    if (!Number.isInteger(entries) || entries < 1 || entries > IORING_MAX_ENTRIES) {
      throw new ErrnoError(Errno.EINVAL, `entries must be 1..${IORING_MAX_ENTRIES}`);
    }
    this.sqEntries = roundPow2(entries);
    const cq = params.cqEntries ?? 2 * this.sqEntries;
    if (!Number.isInteger(cq) || cq < 1 || cq > IORING_MAX_CQ_ENTRIES) throw new ErrnoError(Errno.EINVAL, `cq entries must be 1..${IORING_MAX_CQ_ENTRIES}`);
    this.cqEntries = roundPow2(cq);
    if (this.cqEntries < this.sqEntries) throw new ErrnoError(Errno.EINVAL, 'cq entries must be at least the sq entries');
    this.sqeSize = params.sqe128 ? SQE.SIZE128 : SQE.SIZE;
    this.cqeSize = params.cqe32 ? CQE.SIZE32 : CQE.SIZE;
    this.sqArrayOffset = HDR.WORDS * 4;
    this.sqesOffset = this.sqArrayOffset + this.sqEntries * 4;
    this.cqesOffset = this.sqesOffset + this.sqEntries * this.sqeSize;
    const size = this.cqesOffset + this.cqEntries * this.cqeSize;
    if (sab && sab.byteLength !== size) throw new ErrnoError(Errno.EINVAL, 'shared ring memory does not match its parameters');
    this.sab = sab ?? new SharedArrayBuffer(size);
    this.sqpoll = params.sqpoll ?? false;
    this.hdr = new Int32Array(this.sab, 0, HDR.WORDS);
    this.view = new DataView(this.sab);
    this.bytes = new Uint8Array(this.sab);
    this.words = new Int32Array(this.sab);
    this.sqArray = new Uint32Array(this.sab, this.sqArrayOffset, this.sqEntries);
    this.sqeSlots = Array.from({ length: this.sqEntries }, (_, i) => ({ view: this.view, bytes: this.bytes, offset: this.sqesOffset + i * this.sqeSize, index: i }));
    this.cqeSlots = Array.from({ length: this.cqEntries }, (_, i) => new Cqe(this.view, this.cqesOffset + i * this.cqeSize));
    this._consumer = host ? new RingConsumer(this, host) : null;
    if (this._consumer && this.sqpoll) this._consumer.startPoller(params.sqThreadIdle ?? SQ_THREAD_IDLE_MS);
    // An attached view starts where the ring's producer left off.
    this.sqeTail = this.sqeHead = Atomics.load(this.hdr, HDR.SQ_TAIL);
  }

  get sqMask(): number {
    return this.sqEntries - 1;
  }

  get cqMask(): number {
    return this.cqEntries - 1;
  }

  /** IORING_SQ_* flags: CQ_OVERFLOW while completions wait outside a full CQ. */
  get sqFlags(): number {
    return Atomics.load(this.hdr, HDR.SQ_FLAGS);
  }

  get overflowed(): boolean {
    return (this.sqFlags & IORING_SQ.CQ_OVERFLOW) !== 0;
  }

  // ── submission side ────────────────────────────────────────────────────────────────────

  /** io_uring_get_sqe: the next free SQE, zeroed, or null when the SQ is full. */
  getSqe(): Sqe | null {
    if (this.closed) return null;
    const head = Atomics.load(this.hdr, HDR.SQ_HEAD);
    if (this.sqeTail - head >= this.sqEntries) return null;
    const sqe = this.sqeSlots[this.sqeTail & this.sqMask]!;
    this.sqeTail++;
    // Word stores: a byte fill of shared memory goes a byte at a time (SQEs are 4-byte aligned).
    const words = this.words;
    for (let w = sqe.offset >> 2, end = w + (this.sqeSize >> 2); w < end; w++) words[w] = 0;
    return sqe;
  }

  /** io_uring_sq_space_left */
  sqSpaceLeft(): number {
    return this.sqEntries - (this.sqeTail - Atomics.load(this.hdr, HDR.SQ_HEAD));
  }

  /** Publishes the SQEs handed out since the last flush; returns how many are now in the SQ. */
  private flushSq(): number {
    let tail = this.hdr[HDR.SQ_TAIL]!;
    const toSubmit = this.sqeTail - this.sqeHead;
    for (let i = 0; i < toSubmit; i++) {
      this.sqArray[tail & this.sqMask] = this.sqeHead & this.sqMask;
      tail++;
      this.sqeHead++;
    }
    Atomics.store(this.hdr, HDR.SQ_TAIL, tail);
    return tail - Atomics.load(this.hdr, HDR.SQ_HEAD);
  }

  /**
   * io_uring_submit: hands the queued SQEs to the consumer, which starts them (inline devices
   * may complete them before this returns). Returns the number consumed, or -EBUSY when
   * completions are waiting in the overflow list and the CQ has no room for them.
   */
  submit(): number {
    if (this.closed) return -Errno.EBADF;
    const pending = this.flushSq();
    if (this.sqpoll) {
      // The poller consumes the SQ; wake it if it went to sleep (IORING_ENTER_SQ_WAKEUP).
      if (Atomics.load(this.hdr, HDR.SQ_FLAGS) & IORING_SQ.NEED_WAKEUP) Atomics.notify(this.hdr, HDR.SQ_TAIL);
      return pending;
    }
    return this.consumer.enter(pending);
  }

  /** io_uring_submit_and_wait: submit, then wait until at least `waitNr` CQEs are ready. */
  submitAndWait(waitNr: number): Promise<number> {
    const submitted = this.submit();
    if (submitted < 0 || this.cqReady() >= waitNr) return Promise.resolve(submitted);
    const c = this._consumer;
    if (!c || this.fastWaiting) return this.waitReady(waitNr).then(() => submitted);
    // waitReady(waitNr).then(() => submitted), its first check made here: when it would wait for
    // the next CQE on this thread (no device thread to spin for), the wait below takes its place.
    const below = this.cqReady() < waitNr;
    if (!below || !c.busy || c.host.deviceWorkPending) return this.waitReady(waitNr, below).then(() => submitted);
    this.fastWaiting = true;
    this.fastN = waitNr;
    this.fastSubmitted = submitted;
    const p = new Promise<number>(this.fastExecutor);
    c.onNextEvent(this.fastWake);
    return p;
  }

  // ── submitAndWait's wait for a CQE on this thread ──
  //
  // The same promise hops as waitReady(n).then(() => submitted) when that awaits nextEvent(): the
  // wake queues one hop (where waitReady's loop resumes and checks), a second hop settles the
  // promise (where the `then` ran), and the caller resumes one hop later. Its state lives in
  // the ring and its callbacks are made once: no async frame, no promise per nextEvent, no
  // closures per wait. One such wait at a time; another concurrent one takes waitReady.

  private fastWaiting = false;
  private fastN = 0;
  private fastSubmitted = 0;
  private fastResolve: ((v: number) => void) | null = null;
  private fastReject: ((e: unknown) => void) | null = null;
  private readonly fastExecutor = (resolve: (v: number) => void, reject: (e: unknown) => void): void => {
    this.fastResolve = resolve;
    this.fastReject = reject;
  };
  /** Called by the consumer where nextEvent's promise would have been resolved. */
  private readonly fastWake = (): void => {
    void SETTLED.then(this.fastStep);
  };
  /** Where waitReady's loop resumes after nextEvent: ready, or on with the loop's next turn. */
  private readonly fastStep = (): void => {
    const n = this.fastN;
    if (this.cqReady() < n) this.waitReady(n, true).then(this.fastDone, this.fastFail);
    else void SETTLED.then(this.fastDone);
  };
  private readonly fastDone = (): void => {
    const resolve = this.fastResolve!;
    const v = this.fastSubmitted;
    this.fastClear();
    resolve(v);
  };
  private readonly fastFail = (e: unknown): void => {
    const reject = this.fastReject!;
    this.fastClear();
    reject(e);
  };
  private fastClear(): void {
    this.fastWaiting = false;
    this.fastResolve = this.fastReject = null;
  }

  // ── completion side ────────────────────────────────────────────────────────────────────

  /** CQEs ready to be reaped (io_uring_cq_ready). Reaps finished device work first. */
  cqReady(): number {
    if (this._consumer && !this.sqpoll) this._consumer.poll();
    return Atomics.load(this.hdr, HDR.CQ_TAIL) - this.hdr[HDR.CQ_HEAD]!;
  }

  /** io_uring_peek_cqe: the next CQE, or null when none is ready. */
  peekCqe(): Cqe | null {
    if (this._consumer && !this.sqpoll) this._consumer.poll();
    const head = this.hdr[HDR.CQ_HEAD]!;
    if (Atomics.load(this.hdr, HDR.CQ_TAIL) === head) return null;
    return this.cqeSlots[head & this.cqMask]!;
  }

  /** io_uring_wait_cqe: resolves with the next CQE. Rejects with EAGAIN when nothing is in flight to wait for. */
  waitCqe(): Promise<Cqe> {
    const c = this.peekCqe();
    if (c) return Promise.resolve(c);
    return this.waitReady(1).then(() => this.peekCqe()!);
  }

  /**
   * Resolves once `n` CQEs are ready. Its promise depth (a CQE's post, the loop resuming, then
   * the caller's `then`) is part of the lab's behaviour: waiters on different rings and on
   * lab.submit that complete at the same modeled instant resume, and submit again, in the order
   * their depths give, and that order is what the model sees.
   */
  private async waitReady(n: number, below?: boolean): Promise<void> {
    if (!this._consumer) {
      this.waitCqeSync(n);
      return;
    }
    // `below`: the loop's first check (fewer than n ready), when the caller made it.
    for (let wait = below ?? this.cqReady() < n; wait; wait = this.cqReady() < n) {
      if (!this.consumer.busy) {
        throw new ErrnoError(Errno.EAGAIN, `waiting for ${n} CQE(s) with ${this.cqReady()} ready and nothing in flight: it would wait forever`);
      }
      // Busy-poll device completions briefly before sleeping (io_uring's IOPOLL idea): a worker
      // device answers a small batch in microseconds, far less than a sleep and wake-up costs.
      const deviceWork = this.consumer.host.deviceWorkPending;
      if (deviceWork && this.spin.spin(() => this.cqReady() >= n)) return;
      if (!deviceWork) {
        // Only device threads are spun for, so only a park that waited for one teaches the spin
        // anything; the others (the lab's clock, ASYNC punts) skip the two clock reads.
        await this.consumer.nextEvent();
        continue;
      }
      const t0 = performance.now();
      await this.consumer.nextEvent();
      if (this.cqReady() >= n) this.spin.parked(performance.now() - t0);
    }
  }

  /**
   * Blocks this thread until `n` CQEs are ready (a thread attached to an SQPOLL ring): polls
   * briefly, then sleeps on the CQ tail with Atomics.wait, announcing itself so the consumer
   * notifies. Not for the lab's own thread, which would block its poller.
   */
  waitCqeSync(n = 1, timeoutMs = 10_000): number {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; ; i++) {
      const tail = Atomics.load(this.hdr, HDR.CQ_TAIL);
      if (tail - this.hdr[HDR.CQ_HEAD]! >= n) return tail - this.hdr[HDR.CQ_HEAD]!;
      if (i < 1000) continue;
      if (Date.now() > deadline) throw new ErrnoError(Errno.ETIMEDOUT, `no ${n} CQE(s) within ${timeoutMs} ms`);
      Atomics.add(this.hdr, HDR.CQ_WAITERS, 1);
      if (Atomics.load(this.hdr, HDR.CQ_TAIL) === tail) Atomics.wait(this.hdr, HDR.CQ_TAIL, tail, 50);
      Atomics.sub(this.hdr, HDR.CQ_WAITERS, 1);
    }
  }

  /** io_uring_cqe_seen: releases the oldest CQE slot. */
  cqeSeen(_cqe?: Cqe): void {
    this.cqAdvance(1);
  }

  /** io_uring_cq_advance: releases `n` CQE slots; completions waiting in overflow move in. */
  cqAdvance(n: number): void {
    const head = this.hdr[HDR.CQ_HEAD]!;
    const ready = Atomics.load(this.hdr, HDR.CQ_TAIL) - head;
    Atomics.store(this.hdr, HDR.CQ_HEAD, head + Math.min(n, ready));
    // With SQPOLL the poller moves overflowed completions in; otherwise do it now.
    if (this._consumer && !this.sqpoll) this._consumer.flushOverflow();
  }

  // ── registration ───────────────────────────────────────────────────────────────────────

  /** io_uring_register_buffers: buffers I/O may use; returns their base addresses. */
  registerBuffers(buffers: readonly Uint8Array[]): number[] {
    return this.consumer.registerBuffers(buffers);
  }

  /** The address of byte `offset` of registered buffer `index`, for prepRead/prepWrite/prepCopy. */
  bufferAddress(index: number, offset = 0): number {
    return (index + 1) * BUFFER_ADDRESS_STRIDE + offset;
  }

  /** io_uring_register_files: devices (by lab fd or path) that SQEs name by index with IOSQE_FIXED_FILE. */
  registerFiles(files: readonly (number | string)[]): void {
    this.consumer.registerFiles(files);
  }

  /** io_uring_queue_exit: no more submissions; work in flight still completes. */
  close(): void {
    this.closed = true;
    this._consumer?.stopPoller();
  }
}
