/**
 * The map pipe: GC map updates on a second thread. On the tag-only device the GC's one random
 * memory access per moved block is the logical→physical map entry it checks and rewrites (the
 * victim's summary, tags and bitmap are sequential). The main thread plans each victim as usual
 * (bitmap, owner tags, destinations, SIT counts, the device's tag copy) and puts every move on a
 * ring in shared memory; a worker (map-worker.ts) applies the moves in order, each one checked:
 * the map entry of the block's owner must name the source and the generation the source's tag
 * carries, or the run fails naming the block. The result is the same run as the inline one: the
 * same victims, the same moves, the same checks, one namespace and one greedy GC.
 *
 * The main thread never uses a map entry the worker has still to rewrite: it keeps an index of
 * the logical blocks with a move on the ring (a small hash table, each entry the move's ring
 * position; an entry the worker has passed is stale), looks a user write's block up there first,
 * and waits for that move if it is still in flight (rare: a few hundred thousand moves in flight
 * among a quarter billion blocks). So the threads meet only when the ring is full or on such a
 * block, not per victim: a victim's section may be reused while its moves are still in flight,
 * since no map entry is read without the index saying it is current. Blocks whose owner falls in
 * the main thread's share are applied inline and never enter the ring.
 *
 * Two ways to use the worker (MapWorkerMode): `moves`, as above, with 7 of 8 owners on the
 * worker; and `helper`, every move applied inline (no waits), the worker only taking the page
 * faults of the new map and tags and half the final read-back: the two parts that need no
 * exchange at all. On the shared 2-core machine `moves` cost about twice the CPU and wall time of
 * `helper` (docs/gc.md, Scale), so `helper` is what large runs use by default.
 */
import { AdaptiveSpin } from '../../core/block/adaptive-spin.js';
import { GcIntegrityError, MAP_PHYS_MASK, TAG_LBA_BITS, describeTag } from './tag.js';

export const MAP_PIPE = {
  /** Moves the ring holds (a power of two); 12 bytes each. */
  ringMoves: 1 << 16,
  /** Moves the worker applies before it publishes its progress; a parked worker is woken for no fewer. */
  workerBatch: 4096,
  /** Longest spin before a thread parks (µs). */
  spinUs: 200,
  /** Longest park before a waiting thread looks again (ms). */
  parkMs: 100,
  /** A wait that sees no progress for this long means the worker is gone (ms). */
  stallMs: 60_000,
  /**
   * `moves` mode: owners whose low bits (lba & mask) are 0 are applied by the main thread, the
   * rest by the worker: 1 of 8 (the main thread also runs the user writes and plans the victims).
   */
  movesShareMask: 7,
  /** Smallest user space the pipe is worth a thread for (blocks; 16 GiB). */
  autoMinBlocks: 1 << 22,
} as const;

/** Slots of the in-flight index (a power of two, four per ring move). */
const INDEX_SLOTS = 4 * MAP_PIPE.ringMoves;

/** Control words (Int32Array over the control buffer). */
export const PIPE_CTRL = {
  /** Moves written to the ring, wrapping (int32 arithmetic: differences stay below the ring size). */
  WRITTEN: 0,
  /** Moves the worker has applied, wrapping. */
  APPLIED: 1,
  /** 1 while the worker parks on WRITTEN; 1 while the main thread parks on APPLIED. */
  WORKER_PARKED: 2,
  MAIN_PARKED: 3,
  STOP: 4,
  /** 1 when the worker found a bad move: the four words after it say which. */
  FAILED: 5,
  FAIL_LBA: 6,
  FAIL_SRC: 7,
  FAIL_FOUND: 8,
  FAIL_EXPECTED: 9,
  /** The final read-back of [VERIFY_FROM, VERIFY_TO) asked of the worker: 1 asked, 2 done. */
  VERIFY_STATE: 10,
  VERIFY_FROM: 11,
  VERIFY_TO: 12,
  /** Its result: the first bad logical block (−1: none) and the blocks checked. */
  VERIFY_BAD: 13,
  VERIFY_COUNT: 14,
  WORDS: 16,
} as const;

/** Words between the pages the worker touches first, so the kernel maps them off the main thread. */
export const PREFAULT_STRIDE = 1024;

/** What the worker is given (workerData). */
export interface MapPipeData {
  readonly ctrl: SharedArrayBuffer;
  readonly ring: SharedArrayBuffer;
  readonly l2p: SharedArrayBuffer;
  readonly l2pLength: number;
  /** The tag device's tags (the final read-back). */
  readonly tags: SharedArrayBuffer;
}

/**
 * Every logical block of [from, to) reads back its latest write: the tag at the block's physical
 * place names it and its generation. Returns the blocks checked and the first bad block (−1).
 */
export function verifyRange(l2p: Uint32Array, tags: Uint32Array, from: number, to: number): { verified: number; bad: number } {
  let verified = 0;
  for (let lba = from; lba < to; lba++) {
    const e = l2p[lba]!;
    // Never written, or trimmed: nothing to read.
    if (e === 0) continue;
    if (tags[e & MAP_PHYS_MASK] !== (((e >>> TAG_LBA_BITS) << TAG_LBA_BITS) | lba) >>> 0) return { verified, bad: lba };
    verified++;
  }
  return { verified, bad: -1 };
}

/**
 * Applies moves [from, to) of the ring to the map, checking each. Returns the index of the first
 * bad move, or −1. One tight loop: each iteration's map access is independent of the others, so
 * the CPU keeps several of them in flight.
 */
export function applyMoves(ring: Uint32Array, l2p: Uint32Array, from: number, to: number): number {
  const mask = (ring.length / 3 - 1) | 0;
  for (let i = from; i !== to; i = (i + 1) | 0) {
    const k = (i & mask) * 3;
    const tag = ring[k]!;
    const src = ring[k + 1]!;
    const lba = tag & MAP_PHYS_MASK;
    const gen = (tag >>> TAG_LBA_BITS) << TAG_LBA_BITS;
    // Out of range reads undefined, which fails the check too.
    if (l2p[lba] !== ((gen | src) >>> 0)) return i;
    l2p[lba] = (gen | ring[k + 2]!) >>> 0;
  }
  return -1;
}

export function moveFailure(lba: number, src: number, found: number | undefined, expectedGen: number): GcIntegrityError {
  const where = found === undefined || found === 0 ? 'nowhere' : `${found & MAP_PHYS_MASK} (generation ${found >>> TAG_LBA_BITS})`;
  return new GcIntegrityError(`GC read of physical block ${src} returned ${describeTag(((expectedGen << TAG_LBA_BITS) | lba) >>> 0)}, but the map puts lba ${lba} at ${where}`, lba, src);
}

/** off: no worker; helper: page faults and half the read-back; moves: also the GC's map updates. */
export type MapWorkerMode = 'off' | 'helper' | 'moves';
export const MAP_WORKER_MODES: readonly MapWorkerMode[] = ['off', 'helper', 'moves'];

/** The main thread's end of the pipe. */
export class MapPipe {
  readonly ctrl: Int32Array;
  readonly ring: Uint32Array;
  private readonly mask: number;
  /** Next ring slot to write; published to the worker by `publish`. */
  written = 0;
  /** The worker's progress as last seen. */
  applied = 0;
  private readonly spin = new AdaptiveSpin(MAP_PIPE.spinUs);
  /** Times the main thread waited for the worker, and for how long in all (ms): for the bench. */
  waits = 0;
  waitMs = 0;
  private readonly appliedReached = (): boolean => this.poll();
  private target = 0;

  /** Owners with (lba & workerMask) !== 0 go to the worker (0: none do). */
  readonly workerMask: number;

  constructor(
    readonly l2p: Uint32Array,
    readonly tags: Uint32Array,
    mode: 'helper' | 'moves' = 'moves',
  ) {
    this.workerMask = mode === 'moves' ? MAP_PIPE.movesShareMask : 0;
    this.ctrl = new Int32Array(new SharedArrayBuffer(PIPE_CTRL.WORDS * 4));
    this.ring = new Uint32Array(new SharedArrayBuffer(MAP_PIPE.ringMoves * 12));
    this.mask = MAP_PIPE.ringMoves - 1;
  }

  data(): MapPipeData {
    return { ctrl: this.ctrl.buffer as SharedArrayBuffer, ring: this.ring.buffer as SharedArrayBuffer, l2p: this.l2p.buffer as SharedArrayBuffer, l2pLength: this.l2p.length, tags: this.tags.buffer as SharedArrayBuffer };
  }

  /** Queues one move (the owner's tag as read at the source, source, destination). */
  push(tag: number, src: number, dst: number): void {
    if (((this.written - this.applied) | 0) >= MAP_PIPE.ringMoves) {
      this.publish(true);
      this.waitFor((this.written - MAP_PIPE.ringMoves + MAP_PIPE.workerBatch) | 0);
    }
    const k = (this.written & this.mask) * 3;
    this.ring[k] = tag;
    this.ring[k + 1] = src;
    this.ring[k + 2] = dst;
    this.index(tag & MAP_PHYS_MASK, this.written);
    this.written = (this.written + 1) | 0;
  }

  /**
   * Makes the queued moves visible to the worker; wakes it if it parked and there are at least a
   * batch of moves for it (or `wake`), so that a worker faster than the planning does not cost a
   * wake-up per victim.
   */
  publish(wake = false): void {
    Atomics.store(this.ctrl, PIPE_CTRL.WRITTEN, this.written);
    if (Atomics.load(this.ctrl, PIPE_CTRL.WORKER_PARKED) === 0) return;
    if (wake || ((this.written - this.applied) | 0) >= MAP_PIPE.workerBatch) Atomics.notify(this.ctrl, PIPE_CTRL.WRITTEN);
  }

  // The index of blocks with a move on the ring: open addressing, keys lba + 1 (0: empty), values
  // the move's ring position (wrapping). Rebuilt from the ring every `ringMoves` moves: it then
  // holds at most `ringMoves` live entries and gains at most `ringMoves` more, half its slots.
  private readonly keys = new Int32Array(INDEX_SLOTS);
  private readonly at = new Int32Array(INDEX_SLOTS);
  private readonly slots = INDEX_SLOTS - 1;
  private readonly shift = 32 - Math.log2(INDEX_SLOTS);
  private sinceRebuild = 0;

  private index(lba: number, pos: number): void {
    if (++this.sinceRebuild >= MAP_PIPE.ringMoves) this.rebuild();
    const keys = this.keys;
    let h = Math.imul(lba, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const k = keys[h]!;
      // An empty slot, this block's own, or one whose move is applied: take it.
      if (k === 0 || k === lba + 1 || ((this.at[h]! - this.applied) | 0) < 0) {
        keys[h] = lba + 1;
        this.at[h] = pos;
        return;
      }
      h = (h + 1) & this.slots;
    }
  }

  private rebuild(): void {
    this.sinceRebuild = 0;
    this.applied = Atomics.load(this.ctrl, PIPE_CTRL.APPLIED);
    this.keys.fill(0);
    for (let i = this.applied; i !== this.written; i = (i + 1) | 0) {
      const lba = this.ring[(i & this.mask) * 3]! & MAP_PHYS_MASK;
      let h = Math.imul(lba, 0x9e3779b1) >>> this.shift;
      while (this.keys[h] !== 0 && this.keys[h] !== lba + 1) h = (h + 1) & this.slots;
      this.keys[h] = lba + 1;
      this.at[h] = i;
    }
  }

  /**
   * Waits until no move of `lba` is in flight. A slot whose move is applied is skipped, not
   * taken as the end of the probe: a later entry of the same block may sit beyond it.
   */
  settle(lba: number): void {
    const keys = this.keys;
    let h = Math.imul(lba, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const k = keys[h]!;
      if (k === 0) return;
      if (k === lba + 1) {
        const pos = this.at[h]!;
        if (((pos - this.applied) | 0) >= 0) this.waitFor((pos + 1) | 0);
        return;
      }
      h = (h + 1) & this.slots;
    }
  }

  /** True once every move before `target` is applied. */
  done(target: number): boolean {
    return ((target - this.applied) | 0) <= 0 || this.poll(target);
  }

  private poll(target = this.target): boolean {
    this.applied = Atomics.load(this.ctrl, PIPE_CTRL.APPLIED);
    if (Atomics.load(this.ctrl, PIPE_CTRL.FAILED) !== 0) this.throwFailure();
    return ((target - this.applied) | 0) <= 0;
  }

  /** Waits until the worker has applied every move before `target` (a wrapping move count). */
  waitFor(target: number): void {
    if (this.done(target)) return;
    this.publish(true);
    this.waits++;
    this.target = target;
    let last = this.applied;
    const start = performance.now();
    let since = start;
    try {
      this.waitLoop(last, since);
    } finally {
      this.waitMs += performance.now() - start;
    }
  }

  private waitLoop(last: number, since: number): void {
    while (!this.spin.spin(this.appliedReached)) {
      Atomics.store(this.ctrl, PIPE_CTRL.MAIN_PARKED, 1);
      const seen = Atomics.load(this.ctrl, PIPE_CTRL.APPLIED);
      const t0 = performance.now();
      if (!this.poll()) Atomics.wait(this.ctrl, PIPE_CTRL.APPLIED, seen, MAP_PIPE.parkMs);
      Atomics.store(this.ctrl, PIPE_CTRL.MAIN_PARKED, 0);
      const t1 = performance.now();
      if (this.poll()) {
        this.spin.parked(t1 - t0);
        return;
      }
      if (this.applied !== last) {
        last = this.applied;
        since = t1;
      } else if (t1 - since > MAP_PIPE.stallMs) throw new Error(`GC map worker made no progress for ${MAP_PIPE.stallMs / 1000} s`);
    }
  }

  /** Waits for every queued move. */
  drain(): void {
    this.publish(true);
    this.waitFor(this.written);
  }

  /**
   * The final read-back, on both threads: the worker checks [mid, to) while this thread checks
   * [from, mid). Every move must be applied first (drain).
   */
  verify(from: number, to: number): { verified: number; bad: number } {
    const c = this.ctrl;
    const mid = from + Math.floor((to - from) / 2);
    c[PIPE_CTRL.VERIFY_FROM] = mid;
    c[PIPE_CTRL.VERIFY_TO] = to;
    Atomics.store(c, PIPE_CTRL.VERIFY_STATE, 1);
    Atomics.notify(c, PIPE_CTRL.WRITTEN);
    const mine = verifyRange(this.l2p, this.tags, from, mid);
    const t0 = performance.now();
    while (Atomics.load(c, PIPE_CTRL.VERIFY_STATE) !== 2) {
      this.check();
      Atomics.wait(c, PIPE_CTRL.VERIFY_STATE, 1, MAP_PIPE.parkMs);
      if (performance.now() - t0 > MAP_PIPE.stallMs) throw new Error(`GC map worker did not finish its read-back in ${MAP_PIPE.stallMs / 1000} s`);
    }
    if (mine.bad >= 0) return mine;
    return { verified: mine.verified + c[PIPE_CTRL.VERIFY_COUNT]!, bad: c[PIPE_CTRL.VERIFY_BAD]! };
  }

  /** Throws what the worker found, if it found something. */
  check(): void {
    if (Atomics.load(this.ctrl, PIPE_CTRL.FAILED) !== 0) this.throwFailure();
  }

  private throwFailure(): never {
    const c = this.ctrl;
    const lba = c[PIPE_CTRL.FAIL_LBA]! >>> 0;
    throw moveFailure(lba, c[PIPE_CTRL.FAIL_SRC]! >>> 0, c[PIPE_CTRL.FAIL_FOUND]! >>> 0, c[PIPE_CTRL.FAIL_EXPECTED]! >>> 0);
  }

  stop(): void {
    Atomics.store(this.ctrl, PIPE_CTRL.STOP, 1);
    Atomics.notify(this.ctrl, PIPE_CTRL.WRITTEN);
  }
}
