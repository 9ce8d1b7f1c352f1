/**
 * The worker mover: victim jobs go through a ring in shared memory (mover-protocol.ts) to a
 * second thread (workers/gc-mover.ts, started and closed through src/core/thread/handle.ts), which
 * runs them in order while this thread goes on with user writes and the next victims. The layer
 * (lfs.ts) has already freed each victim and counted its moves when the job is queued, so the
 * run's decisions are the same as inline; the threads meet only where the layer would read what a
 * pending job has not yet written (this mover is the layer's SectionFlight):
 *   - a free section is about to be written again: its job must be done (the worker has read
 *     the victim's tags) — settle, from takeFree;
 *   - a user write's map entry points into a free section: the block's move is pending; take it
 *     over from the job, or wait for it (forward);
 *   - a job this thread runs itself (below) moves blocks that a pending job moved in: wait for
 *     that one first.
 * When the worker falls behind by `lag` jobs, this thread runs the next job itself, so the two
 * share the moves as their speeds allow. The layer's reserve (constants.ts gcReserve) is what
 * lets the worker fall behind: a freed victim waits behind the reserve before it is reused.
 *
 * The worker also resets the victims it has read, takes the page faults of the new map and tags,
 * and shares the final read-back.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { AdaptiveSpin } from '../../core/block/adaptive-spin.js';
import { WorkerHandle } from '../../core/thread/handle.js';
import { newLifeline } from '../../core/thread/lifeline.js';
import { makeJobRunner, type JobRunner } from './job-runner.js';
import type { LogStructured, MovePlan } from './lfs.js';
import type { GcMover, MoverSetup, MoverStats } from './mover.js';
import { MOVER, MOVER_CTRL, ringSlots, verifyChunks, type MoverData, type MoverFailure } from './mover-protocol.js';
import { PATH_COUNTER_FIELDS, addPathCounters, newPathCounters, type PathCounters } from './paths.js';
import { makeVerifier, type Verifier } from './read-back.js';
import { FORWARD_DONE, FORWARD_GONE, type Forward, type SectionFlight } from './section-flight.js';
import { GcIntegrityError } from './tag.js';
import type { TagDevice } from './tag-device.js';
import { JOB, bitmapWords, destinationOf, jobWords } from './victim-job.js';

/** The worker's shared memory, as this thread sees it. */
interface WorkerShared {
  readonly ctrl: SharedArrayBuffer;
  readonly jobs: SharedArrayBuffer;
  readonly counters: SharedArrayBuffer;
  readonly port: MessagePort;
  /** Run a job here once this many are queued and not done. */
  readonly lag: number;
}

export class WorkerMover implements GcMover, SectionFlight {
  readonly jobs: Uint32Array;
  private readonly run: JobRunner;
  private readonly verifier: Verifier;
  private readonly dev: TagDevice;
  private readonly sectionBlocks: number;
  private readonly words: number;
  /** The path counters of the jobs this thread ran; the worker's, as it publishes them. */
  private readonly counters = newPathCounters();
  private readonly shared: Float64Array;
  private readonly slotWords: number;
  private readonly slots: number;
  private readonly lag: number;
  private readonly ctrl: Int32Array;
  private readonly port: MessagePort;
  /** Per section: the (1-based) job that freed it while pending, and the last job that moved blocks into it. */
  private readonly flightOf: Float64Array;
  private readonly lastInto: Float64Array;
  /** Per section: 1 while the worker's job for it (as a victim) stands for the next reset. */
  private readonly zeroedBy: Uint8Array;
  /** Jobs this thread ran, jobs queued for the worker. */
  private ranHere = 0;
  private queued = 0;
  /** Jobs the worker has finished, as last seen (a count from 0, not wrapping). */
  private done = 0;
  /** Times this thread waited for the worker, and how long in all (ms); moves user writes took over from queued jobs. */
  private waits = 0;
  private waitMs = 0;
  private cancels = 0;
  private readonly spin = new AdaptiveSpin(MOVER.spinUs);
  /** The worker thread, once started. */
  private thread: WorkerHandle | undefined;

  private constructor(s: MoverSetup, w: WorkerShared) {
    const sb = s.dev.layout.sectionBlocks;
    const sections = s.dev.layout.sections;
    this.dev = s.dev;
    this.sectionBlocks = sb;
    this.words = bitmapWords(sb);
    this.slotWords = jobWords(sb);
    this.run = makeJobRunner(s.l2p, s.dev.tags, sb, s.path, s.limits, this.counters, s.inject, false);
    this.verifier = makeVerifier(s.l2p, s.dev.tags);
    this.jobs = new Uint32Array(w.jobs);
    this.slots = this.jobs.length / this.slotWords;
    this.lag = Math.max(1, Math.min(w.lag, this.slots - 1));
    this.ctrl = new Int32Array(w.ctrl);
    this.shared = new Float64Array(w.counters);
    this.port = w.port;
    this.flightOf = new Float64Array(sections);
    this.zeroedBy = new Uint8Array(sections);
    this.lastInto = new Float64Array(sections);
  }

  /**
   * A worker mover for a run: its shared memory, its thread, and the layer's flight (the layer's
   * map and the device's tags must be in shared memory). A freed victim is written again about a
   * reserve of victims later: the worker may fall half a reserve behind.
   */
  static start(s: MoverSetup, lfs: LogStructured): WorkerMover {
    const sb = s.dev.layout.sectionBlocks;
    const slots = ringSlots(sb);
    const slotWords = jobWords(sb);
    const ctrl = new SharedArrayBuffer(MOVER_CTRL.WORDS * 4);
    const jobs = new SharedArrayBuffer(slots * slotWords * 4);
    const counters = new SharedArrayBuffer(PATH_COUNTER_FIELDS.length * 8);
    const { port1, port2 } = new MessageChannel();
    const lifeline = newLifeline();
    const data: MoverData = { ctrl, jobs, slotWords, slots, counters, l2p: s.l2p.buffer as SharedArrayBuffer, l2pLength: s.l2p.length, tags: s.dev.tags.buffer as SharedArrayBuffer, sectionBlocks: sb, path: s.path, limits: s.limits, inject: s.inject, port: port2, lifeline };
    const mover = new WorkerMover(s, { ctrl, jobs, counters, port: port1, lag: Math.floor(lfs.reserved / 2) });
    // A bad move or a lost worker reaches the mover through its shared words and port (FAILED), its
    // lifeline (an exit: the waits below read it, as the exit event cannot reach a blocked thread),
    // or a wait that sees no progress (a thread that died without running JavaScript: out of heap).
    mover.thread = new WorkerHandle('gc-mover', { workerData: data, transferList: [port2], name: 'copylab-gc-mover', what: 'GC mover', onGone: () => {}, lifeline });
    lfs.flight = mover;
    return mover;
  }

  /** Where the next job goes (an offset into `jobs`). */
  slot(): number {
    return (this.queued % this.slots) * this.slotWords;
  }

  dispatch(at: number): MovePlan | undefined {
    const ctrl = this.ctrl;
    this.poll();
    const jobs = this.jobs;
    const sb = this.sectionBlocks;
    const v = jobs[at + JOB.VICTIM]!;
    if (this.queued - this.done >= this.lag) {
      // A pending job may have moved blocks into this victim: theirs first.
      const before = this.lastInto[v]!;
      if (before > this.done) this.waitDone(before);
      this.ranHere++;
      return this.run(jobs, at);
    }
    const seq = ++this.queued;
    this.flightOf[v] = seq;
    this.zeroedBy[v] = 1;
    if (jobs[at + JOB.LEN0]! > 0) this.lastInto[(jobs[at + JOB.EXT0]! / sb) | 0] = seq;
    if (jobs[at + JOB.LEN1]! > 0) this.lastInto[(jobs[at + JOB.EXT1]! / sb) | 0] = seq;
    Atomics.store(ctrl, MOVER_CTRL.QUEUED, seq | 0);
    if (Atomics.load(ctrl, MOVER_CTRL.WORKER_PARKED) !== 0) Atomics.notify(ctrl, MOVER_CTRL.QUEUED);
    return undefined;
  }

  settle(section: number): boolean {
    // A destination of a pending job may empty (its blocks overwritten, forward) and be reused.
    const into = this.lastInto[section]!;
    if (into > this.done) this.waitDone(into);
    const seq = this.flightOf[section]!;
    if (seq === 0) return false;
    if (seq > this.done) this.waitDone(seq);
    return true;
  }

  taken(section: number): void {
    this.flightOf[section] = 0;
  }

  /**
   * A user write (or trim) found its block's map entry at `phys` in free section `section`, a
   * victim whose job may still be queued. If the job has not started, the block's move is
   * cancelled (the job leaves its map entry alone; its tag copy is of no matter, the destination
   * being overwritten) and the destination returned, so that the write goes on at once; if it has
   * started, wait for it and return the destination. This thread cancels, then looks whether the
   * job started; the worker marks it started, then reads the cancellations (both atomically), so
   * one of the two sees the other.
   */
  forward(section: number, phys: number): Forward {
    const seq = this.flightOf[section]!;
    if (seq === 0) return FORWARD_GONE;
    this.poll();
    if (seq <= this.done) return FORWARD_DONE;
    const at = ((seq - 1) % this.slots) * this.slotWords;
    const off = phys - section * this.sectionBlocks;
    if (off < 0 || off >= this.sectionBlocks) return FORWARD_GONE;
    const d = destinationOf(this.jobs, at, off);
    if (d < 0) return FORWARD_GONE;
    Atomics.or(this.jobs, at + JOB.BITS + this.words + (off >>> 5), 1 << (off & 31));
    if (Atomics.load(this.jobs, at + JOB.STARTED) !== 0) this.waitDone(seq);
    this.cancels++;
    return { kind: 'moved', to: d };
  }

  /**
   * The worker resets the tags of every victim it runs once it has read them (so this thread need
   * not), and a section is taken only after its job: that reset stands for the next one.
   */
  resetSection(section: number): void {
    if (this.zeroedBy[section] === 1) this.zeroedBy[section] = 0;
    else this.dev.reset(section);
  }

  /** Reads the worker's progress; throws what it found if it failed. */
  private poll(): void {
    const c = this.ctrl;
    // DONE wraps at 2^32; the queued count does not, and the two differ by less than the ring.
    this.done = this.queued - ((((this.queued | 0) - Atomics.load(c, MOVER_CTRL.DONE)) | 0) >>> 0);
    if (Atomics.load(c, MOVER_CTRL.FAILED) !== 0) this.throwFailure();
  }

  /** A wait's check that the worker still runs (its lifeline, or its owner's kill). */
  private checkThread(): void {
    const gone = this.thread?.dead;
    if (gone) throw new Error(`GC mover thread is gone (${gone})`);
  }

  private readonly reached = (): boolean => {
    this.poll();
    return this.done >= this.target;
  };
  private target = 0;

  /** Waits until the worker has finished job `seq` (1-based). */
  private waitDone(seq: number): void {
    this.poll();
    if (this.done >= seq) return;
    const c = this.ctrl;
    this.waits++;
    this.target = seq;
    const start = performance.now();
    let last = this.done;
    let since = start;
    try {
      this.checkThread();
      while (!this.spin.spin(this.reached)) {
        Atomics.store(c, MOVER_CTRL.MAIN_PARKED, 1);
        const seen = Atomics.load(c, MOVER_CTRL.DONE);
        const t0 = performance.now();
        if (!this.reached()) Atomics.wait(c, MOVER_CTRL.DONE, seen, MOVER.parkMs);
        Atomics.store(c, MOVER_CTRL.MAIN_PARKED, 0);
        const t1 = performance.now();
        if (this.reached()) {
          this.spin.parked(t1 - t0);
          return;
        }
        this.checkThread();
        if (this.done !== last) {
          last = this.done;
          since = t1;
        } else if (t1 - since > MOVER.stallMs) throw new Error(`GC mover made no progress for ${MOVER.stallMs / 1000} s`);
      }
    } finally {
      this.waitMs += performance.now() - start;
    }
  }

  drain(): void {
    this.waitDone(this.queued);
  }

  totals(into: PathCounters): void {
    addPathCounters(into, this.counters);
    PATH_COUNTER_FIELDS.forEach((f, i) => (into[f] += this.shared[i]!));
  }

  /**
   * The final read-back, on both threads: each claims chunks of [from, to) in turn
   * (verifyChunks), so the faster one checks more.
   */
  verify(from: number, to: number): { verified: number; bad: number } {
    const c = this.ctrl;
    c[MOVER_CTRL.VERIFY_NEXT] = from;
    c[MOVER_CTRL.VERIFY_TO] = to;
    c[MOVER_CTRL.VERIFY_STOP] = 0;
    Atomics.store(c, MOVER_CTRL.VERIFY_STATE, 1);
    Atomics.notify(c, MOVER_CTRL.QUEUED);
    const mine = verifyChunks(c, this.verifier);
    const t0 = performance.now();
    while (Atomics.load(c, MOVER_CTRL.VERIFY_STATE) !== 2) {
      this.poll();
      this.checkThread();
      Atomics.wait(c, MOVER_CTRL.VERIFY_STATE, 1, MOVER.parkMs);
      if (performance.now() - t0 > MOVER.stallMs) throw new Error(`GC mover did not finish its read-back in ${MOVER.stallMs / 1000} s`);
    }
    const theirs = c[MOVER_CTRL.VERIFY_BAD]!;
    const bad = mine.bad < 0 ? theirs : theirs < 0 ? mine.bad : Math.min(mine.bad, theirs);
    return { verified: mine.verified + c[MOVER_CTRL.VERIFY_COUNT]!, bad };
  }

  stats(): MoverStats {
    return { here: this.ranHere, worker: this.queued, waits: this.waits, waitMs: this.waitMs, cancels: this.cancels };
  }

  private throwFailure(): never {
    const m = receiveMessageOnPort(this.port)?.message as MoverFailure | undefined;
    if (m === undefined) throw new GcIntegrityError('GC mover failed and did not say why', -1, -1);
    throw new GcIntegrityError(m.message, m.lba, m.physical);
  }

  /** Kills the worker thread as a crash would (fault-injection tests). */
  kill(): Promise<void> {
    return this.thread!.kill();
  }

  /** Tells the worker to stop (the STOP word and a wake-up), then ends its thread. */
  async close(): Promise<void> {
    await this.thread?.close(() => {
      Atomics.store(this.ctrl, MOVER_CTRL.STOP, 1);
      Atomics.notify(this.ctrl, MOVER_CTRL.QUEUED);
    });
  }
}
