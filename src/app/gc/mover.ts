/**
 * The mover: executes victim jobs (victim-job.ts) on the tag-only device. A job's moves are
 * read from the snapshot and the device's tags, checked against the map (each owner's entry
 * must name the source and the generation the source's tag carries, or the run fails naming the
 * block), the map entries pointed at the destinations, the tags copied, and the path's commands
 * counted (paths.ts). Those are the GC's only random memory accesses per moved block (the map
 * entry), about two billion of them in the terabyte bench.
 *
 * With a worker (mover-worker.ts), jobs go through a ring in shared memory and the worker runs
 * them in order while this thread goes on with user writes and the next victims. The layer
 * (lfs.ts) has already freed each victim and counted its moves when the job is queued, so the
 * run's decisions are the same with or without the worker; the threads meet only where the
 * layer would read what a pending job has not yet written:
 *   - a free section is about to be written again: its job must be done (the worker has read
 *     the victim's tags) — SectionFlight.settle from takeFree;
 *   - a user write's map entry points into a free section: the block's move is pending; wait
 *     for it and read the entry again;
 *   - a job this thread runs itself (below) moves blocks that a pending job moved in: wait for
 *     that one first.
 * When the worker falls behind by `lag` jobs, this thread runs the next job itself, so the two
 * share the moves as their speeds allow. The layer's reserve (constants.ts gcReserve) is what
 * lets the worker fall behind: a freed victim waits behind the reserve before it is reused.
 *
 * The worker also takes the page faults of the new map and tags, and half of the final read-back.
 */
import { AdaptiveSpin } from '../../core/block/adaptive-spin.js';
import { GcIntegrityError, MAP_PHYS_MASK, TAG_LBA_BITS, describeTag } from './tag.js';
import { JOB, bitmapWords, destinationOf, expandJob, jobWords, movedBefore } from './victim-job.js';
import { specialize } from '../../core/util/specialize.js';
import { newMovePlan, type MovePlan } from './lfs.js';
import { FORWARD_DONE, FORWARD_GONE, type Forward, type SectionFlight } from './section-flight.js';
import { moveTags } from './tag-device.js';
import { accountPlan, newPathCounters, type GcPathName, type PathCounters, type PathLimits } from './paths.js';
import type { GcOptions } from './options.js';
import type { MessagePort } from 'node:worker_threads';
import { receiveMessageOnPort } from 'node:worker_threads';

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

/** inline: every job on this thread; worker: a second thread runs jobs and the read-back's other half. */
export type MoverMode = 'inline' | 'worker';
export const MOVER_MODES: readonly MoverMode[] = ['inline', 'worker'];

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

/** The PathCounters fields, in the order the worker publishes them. */
export const COUNTER_FIELDS = ['commands', 'reads', 'writes', 'copies', 'appends', 'compactions', 'resets', 'host_bytes', 'ranges'] as const satisfies readonly (keyof PathCounters)[];

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
}

/** A failure the worker found, as it posts it. */
export interface MoverFailure {
  readonly message: string;
  readonly lba: number;
  readonly physical: number;
}

/** The plan as the buggy GC of a fault-injection run would execute it. */
export function injectFault(plan: MovePlan, movedBefore: number, inject: NonNullable<GcOptions['inject']>): boolean {
  const i = inject.at - movedBefore;
  if (i < 0 || i >= plan.count) return false;
  if (inject.kind === 'drop') {
    // The block is left out of the moves, though the map already points at its destination.
    for (let j = i; j + 1 < plan.count; j++) {
      plan.src[j] = plan.src[j + 1]!;
      plan.dst[j] = plan.dst[j + 1]!;
      plan.lba[j] = plan.lba[j + 1]!;
      plan.tag[j] = plan.tag[j + 1]!;
    }
    plan.count--;
  } else {
    // Two blocks written to each other's place (or one beside its own when it moves alone).
    const k = i + 1 < plan.count ? i + 1 : i - 1;
    if (k >= 0) {
      const d = plan.dst[i]!;
      plan.dst[i] = plan.dst[k]!;
      plan.dst[k] = d;
    } else plan.dst[i] = plan.dst[i]! ^ 1;
  }
  return true;
}

export function moveFailure(lba: number, src: number, found: number | undefined, expectedGen: number): GcIntegrityError {
  const where = found === undefined || found === 0 ? 'nowhere' : `${found & MAP_PHYS_MASK} (generation ${found >>> TAG_LBA_BITS})`;
  return new GcIntegrityError(`GC read of physical block ${src} returned ${describeTag(((expectedGen << TAG_LBA_BITS) | lba) >>> 0)}, but the map puts lba ${lba} at ${where}`, lba, src);
}

/** A job runner: runs the job at `jobs[at…]` and returns its plan (valid until the next job). */
export type JobRunner = (jobs: Uint32Array, at: number) => MovePlan;

/**
 * A job runner over one run's map and tags, the same steps on either thread: the moves from the
 * snapshot and the owners' tags (expandJob), each owner's map entry checked against the source
 * and the generation its tag carries and pointed at the destination (one tight loop: each
 * iteration's map access is independent of the others, so the CPU keeps several in flight), a
 * fault injected if the run asks for one, the tags copied, the commands counted. `shared`: the
 * worker's runner, which marks a job started and reads its cancellations first (Mover.forward).
 * A closure of its own (src/core/util/specialize.ts).
 */
export function makeJobRunner(l2p: Uint32Array, tags: Uint32Array, sectionBlocks: number, path: GcPathName, limits: PathLimits, counters: PathCounters, inject: GcOptions['inject'], shared: boolean): JobRunner {
  const steps = { expandJob, movedBefore, injectFault, moveTags, accountPlan, moveFailure, nothingRead };
  const K = { physMask: MAP_PHYS_MASK, lbaBits: TAG_LBA_BITS, started: JOB.STARTED, cancel: JOB.BITS + bitmapWords(sectionBlocks), words: bitmapWords(sectionBlocks) };
  return specialize(runnerFactory)(l2p, tags, newMovePlan(sectionBlocks), path, limits, counters, inject, shared, steps, K);
}

function nothingRead(src: number): GcIntegrityError {
  return new GcIntegrityError(`GC read of physical block ${src} returned nothing (never written or reset), though it is marked valid`, -1, src);
}

// Self-contained (specialize evaluates its source again): every function it calls comes in `steps`.
function runnerFactory(
  l2p: Uint32Array,
  tags: Uint32Array,
  plan: MovePlan,
  path: GcPathName,
  limits: PathLimits,
  counters: PathCounters,
  inject: GcOptions['inject'],
  shared: boolean,
  steps: {
    expandJob: typeof expandJob;
    movedBefore: typeof movedBefore;
    injectFault: typeof injectFault;
    moveTags: typeof moveTags;
    accountPlan: typeof accountPlan;
    moveFailure: typeof moveFailure;
    nothingRead: (src: number) => Error;
  },
  K: { physMask: number; lbaBits: number; started: number; cancel: number; words: number },
): JobRunner {
  const PHYS = K.physMask;
  const BITS = K.lbaBits;
  const cancel = new Uint32Array(K.words);
  const sb = plan.sectionBlocks;
  return (jobs: Uint32Array, at: number): MovePlan => {
    let cancelled = false;
    if (shared) {
      // Started, then the cancellations: this thread's store and the main thread's (which
      // cancels, then looks whether the job started) cannot both miss the other's.
      Atomics.store(jobs, at + K.started, 1);
      for (let w = 0; w < K.words; w++) {
        const c = Atomics.load(jobs, at + K.cancel + w);
        cancel[w] = c;
        if (c !== 0) cancelled = true;
      }
    }
    steps.expandJob(jobs, at, tags, plan);
    const { src, dst, tag, count } = plan;
    const first = plan.victim * sb;
    // The owners' map entries first, loads only: more of them in flight than the checked rewrite
    // below keeps (each iteration of which is longer).
    let warm = 0;
    for (let i = 0; i < count; i++) warm ^= l2p[tag[i]! & PHYS]!;
    plan.warm = warm;
    for (let i = 0; i < count; i++) {
      const t = tag[i]!;
      const p = src[i]!;
      if (t === 0) throw steps.nothingRead(p);
      if (cancelled && ((cancel[(p - first) >>> 5]! >>> ((p - first) & 31)) & 1) !== 0) continue;
      const l = t & PHYS;
      const g = (t >>> BITS) << BITS;
      const e = l2p[l];
      if (e !== ((g | p) >>> 0)) throw steps.moveFailure(l, p, e, t >>> BITS);
      l2p[l] = (g | dst[i]!) >>> 0;
    }
    if (inject) steps.injectFault(plan, steps.movedBefore(jobs, at), inject);
    steps.moveTags(tags, plan);
    steps.accountPlan(path, plan, limits, counters);
    // The worker resets the victim's zone once it has read it (Mover.zeroed): off the main thread.
    if (shared) tags.fill(0, first, first + sb);
    return plan;
  };
}

/** A read-back of [from, to): the blocks checked and the first bad block (−1). */
export type Verifier = (from: number, to: number) => { verified: number; bad: number };

/**
 * Every logical block of [from, to) reads back its latest write: the tag at the block's physical
 * place names it and its generation. A closure of its own (src/core/util/specialize.ts): a random tag
 * read per logical block, a quarter billion of them in the terabyte run.
 */
export function makeVerifier(l2p: Uint32Array, tags: Uint32Array): Verifier {
  return specialize(verifierFactory)(l2p, tags, MAP_PHYS_MASK, TAG_LBA_BITS);
}

function verifierFactory(l2p: Uint32Array, tags: Uint32Array, PHYS: number, BITS: number): Verifier {
  return (from: number, to: number) => {
    let verified = 0;
    for (let lba = from; lba < to; lba++) {
      const e = l2p[lba]!;
      // Never written, or trimmed: nothing to read.
      if (e === 0) continue;
      if (tags[e & PHYS] !== (((e >>> BITS) << BITS) | lba) >>> 0) return { verified, bad: lba };
      verified++;
    }
    return { verified, bad: -1 };
  };
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

/** This thread's end: where jobs are written, who runs them, and the waits. */
export class Mover implements SectionFlight {
  /** Where the next job is written (`slot()`), and this thread's plan for the jobs it runs. */
  readonly jobs: Uint32Array;
  private readonly run: JobRunner;
  private readonly verifier: Verifier;
  private readonly sectionBlocks: number;
  private readonly words: number;
  /** The path counters of the jobs this thread ran. */
  readonly counters = newPathCounters();
  /** Jobs this thread ran, and jobs the worker ran (for the bench). */
  ranHere = 0;
  queued = 0;
  /** Times this thread waited for the worker, and how long in all (ms). */
  waits = 0;
  waitMs = 0;
  private readonly slotWords: number;
  private readonly slots: number;
  /** Run a job here once this many are queued and not done. */
  private readonly lag: number;
  private readonly ctrl: Int32Array | undefined;
  private readonly shared: Float64Array | undefined;
  private readonly port: MessagePort | undefined;
  /** Per section: the (1-based) job that freed it while pending, and the last job that moved blocks into it. */
  private readonly flightOf: Float64Array | undefined;
  private readonly lastInto: Float64Array | undefined;
  /** Jobs the worker has finished, as last seen (a count from 0, not wrapping). */
  private done = 0;
  private readonly spin = new AdaptiveSpin(MOVER.spinUs);

  constructor(
    l2p: Uint32Array,
    tags: Uint32Array,
    sectionBlocks: number,
    sections: number,
    path: GcPathName,
    limits: PathLimits,
    inject: GcOptions['inject'],
    /** The worker's shared memory, or nothing for an inline mover. */
    worker?: { ctrl: SharedArrayBuffer; jobs: SharedArrayBuffer; counters: SharedArrayBuffer; port: MessagePort; lag: number },
  ) {
    this.slotWords = jobWords(sectionBlocks);
    this.sectionBlocks = sectionBlocks;
    this.words = bitmapWords(sectionBlocks);
    this.run = makeJobRunner(l2p, tags, sectionBlocks, path, limits, this.counters, inject, false);
    this.verifier = makeVerifier(l2p, tags);
    if (worker === undefined) {
      this.slots = 1;
      this.lag = 0;
      this.jobs = new Uint32Array(this.slotWords);
      this.ctrl = this.shared = this.port = this.flightOf = this.lastInto = this.zeroedBy = undefined;
      return;
    }
    this.jobs = new Uint32Array(worker.jobs);
    this.slots = this.jobs.length / this.slotWords;
    this.lag = Math.max(1, Math.min(worker.lag, this.slots - 1));
    this.ctrl = new Int32Array(worker.ctrl);
    this.shared = new Float64Array(worker.counters);
    this.port = worker.port;
    this.flightOf = new Float64Array(sections);
    this.zeroedBy = new Uint8Array(sections);
    this.lastInto = new Float64Array(sections);
  }

  /** Ring slots for sections of `sectionBlocks` blocks: a power of two within MOVER's limits. */
  static slotsFor(sectionBlocks: number): number {
    const bytes = jobWords(sectionBlocks) * 4;
    let n = MOVER.ringJobs;
    while (n > 2 && n * bytes > MOVER.ringBytes) n >>= 1;
    return n;
  }

  /** Where the next job goes (an offset into `jobs`). */
  slot(): number {
    return this.ctrl === undefined ? 0 : (this.queued % this.slots) * this.slotWords;
  }

  /**
   * Runs the job written at `at` here, or queues it for the worker. Returns the plan when it ran
   * here (the timed runs' model needs it), else undefined.
   */
  dispatch(at: number): MovePlan | undefined {
    const ctrl = this.ctrl;
    if (ctrl === undefined) return this.runHere(at);
    this.poll();
    const jobs = this.jobs;
    const sb = this.sectionBlocks;
    const v = jobs[at + JOB.VICTIM]!;
    if (this.queued - this.done >= this.lag) {
      // A pending job may have moved blocks into this victim: theirs first.
      const before = this.lastInto![v]!;
      if (before > this.done) this.waitDone(before);
      return this.runHere(at);
    }
    const seq = ++this.queued;
    this.flightOf![v] = seq;
    this.zeroedBy![v] = 1;
    if (jobs[at + JOB.LEN0]! > 0) this.lastInto![(jobs[at + JOB.EXT0]! / sb) | 0] = seq;
    if (jobs[at + JOB.LEN1]! > 0) this.lastInto![(jobs[at + JOB.EXT1]! / sb) | 0] = seq;
    Atomics.store(ctrl, MOVER_CTRL.QUEUED, seq | 0);
    if (Atomics.load(ctrl, MOVER_CTRL.WORKER_PARKED) !== 0) Atomics.notify(ctrl, MOVER_CTRL.QUEUED);
    return undefined;
  }

  private runHere(at: number): MovePlan {
    this.ranHere++;
    return this.run(this.jobs, at);
  }

  settle(section: number): boolean {
    const f = this.flightOf;
    if (f === undefined) return false;
    // A destination of a pending job may empty (its blocks overwritten, forward) and be reused.
    const into = this.lastInto![section]!;
    if (into > this.done) this.waitDone(into);
    const seq = f[section]!;
    if (seq === 0) return false;
    if (seq > this.done) this.waitDone(seq);
    return true;
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
    const f = this.flightOf;
    if (f === undefined) return FORWARD_GONE;
    const seq = f[section]!;
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
  /** Moves cancelled by user writes (forward). */
  cancels = 0;

  taken(section: number): void {
    this.flightOf![section] = 0;
  }

  /**
   * Whether the worker has reset the section's tags already: it does so for every victim it runs,
   * once it has read them (so this thread need not), and a section is taken only after its job.
   */
  zeroed(section: number): boolean {
    return this.zeroedBy !== undefined && this.zeroedBy[section] === 1;
  }
  /** Per section: 1 while the worker's job for it (as a victim) stands for the next reset. */
  private readonly zeroedBy: Uint8Array | undefined;
  /** The reset is done (drainResets): the next one is this thread's again. */
  resetDone(section: number): void {
    if (this.zeroedBy !== undefined) this.zeroedBy[section] = 0;
  }

  /** Reads the worker's progress; throws what it found if it failed. */
  private poll(): void {
    const c = this.ctrl!;
    // DONE wraps at 2^32; the queued count does not, and the two differ by less than the ring.
    this.done = this.queued - ((((this.queued | 0) - Atomics.load(c, MOVER_CTRL.DONE)) | 0) >>> 0);
    if (Atomics.load(c, MOVER_CTRL.FAILED) !== 0) this.throwFailure();
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
    const c = this.ctrl!;
    this.waits++;
    this.target = seq;
    const start = performance.now();
    let last = this.done;
    let since = start;
    try {
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
        if (this.done !== last) {
          last = this.done;
          since = t1;
        } else if (t1 - since > MOVER.stallMs) throw new Error(`GC mover made no progress for ${MOVER.stallMs / 1000} s`);
      }
    } finally {
      this.waitMs += performance.now() - start;
    }
  }

  /** Waits for every queued job. */
  drain(): void {
    if (this.ctrl !== undefined) this.waitDone(this.queued);
  }

  /** The path counters of every job, on both threads (after drain). */
  totals(into: PathCounters): void {
    const add = (c: PathCounters): void => {
      for (const f of COUNTER_FIELDS) into[f] += c[f];
    };
    add(this.counters);
    if (this.shared !== undefined) COUNTER_FIELDS.forEach((f, i) => (into[f] += this.shared![i]!));
  }

  /**
   * The final read-back, on both threads: each claims chunks of [from, to) in turn
   * (verifyChunks), so the faster one checks more. Every job must be done first (drain).
   */
  verify(from: number, to: number): { verified: number; bad: number } {
    const c = this.ctrl;
    if (c === undefined) return this.verifier(from, to);
    c[MOVER_CTRL.VERIFY_NEXT] = from;
    c[MOVER_CTRL.VERIFY_TO] = to;
    c[MOVER_CTRL.VERIFY_STOP] = 0;
    Atomics.store(c, MOVER_CTRL.VERIFY_STATE, 1);
    Atomics.notify(c, MOVER_CTRL.QUEUED);
    const mine = verifyChunks(c, this.verifier);
    const t0 = performance.now();
    while (Atomics.load(c, MOVER_CTRL.VERIFY_STATE) !== 2) {
      this.poll();
      Atomics.wait(c, MOVER_CTRL.VERIFY_STATE, 1, MOVER.parkMs);
      if (performance.now() - t0 > MOVER.stallMs) throw new Error(`GC mover did not finish its read-back in ${MOVER.stallMs / 1000} s`);
    }
    const theirs = c[MOVER_CTRL.VERIFY_BAD]!;
    const bad = mine.bad < 0 ? theirs : theirs < 0 ? mine.bad : Math.min(mine.bad, theirs);
    return { verified: mine.verified + c[MOVER_CTRL.VERIFY_COUNT]!, bad };
  }

  private throwFailure(): never {
    const m = receiveMessageOnPort(this.port!)?.message as MoverFailure | undefined;
    if (m === undefined) throw new GcIntegrityError('GC mover failed and did not say why', -1, -1);
    throw new GcIntegrityError(m.message, m.lba, m.physical);
  }

  stop(): void {
    if (this.ctrl === undefined) return;
    Atomics.store(this.ctrl, MOVER_CTRL.STOP, 1);
    Atomics.notify(this.ctrl, MOVER_CTRL.QUEUED);
  }
}
