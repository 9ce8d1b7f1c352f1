/**
 * The log-structured layer: an F2FS-like main area on a block device (layout.ts), a
 * logical→physical map (one Uint32 per logical block), the SIT (sit.ts), the summary of who owns
 * each physical block (the SSA; on the tag-only device the device's own tags), three data logs
 * by temperature (hot, warm, cold: F2FS CURSEG_{HOT,WARM,COLD}_DATA), and garbage collection
 * that moves a victim's valid blocks into the cold log (F2FS's gc_data_segment → cold data).
 *
 * The layer only decides; a backend moves the bytes. GC is one victim at a time: selectVictim
 * picks it, writes its victim job (victim-job.ts: a snapshot of its valid blocks and their
 * destinations in the cold log), frees the section and counts the moves, on either backend. On
 * the tag-only device a mover (mover.ts) runs the job, on this thread or a second one, and the
 * layer waits for it only where it would otherwise read what the move has not yet written
 * (section-flight.ts); on a lab device applyJob points the map at the destinations and the lab
 * mover (lab-mover.ts) moves the bytes and checks what it reads.
 */
import { gcReserve } from './constants.js';
import { LayoutError, type Layout } from './layout.js';
import type { VictimPolicy } from './policies.js';
import { SectionState, Sit } from './sit.js';
import { GcIntegrityError, MAP_MAX_PHYS, MAP_PHYS_MASK, TAG_GEN_MAX, TAG_LBA_BITS, TAG_MAX_LBAS, makeTag } from './tag.js';
import { JOB, expandJob, popcount32 } from './victim-job.js';
import { specialize } from '../../core/util/specialize.js';
import type { SectionFlight } from './section-flight.js';

/** Logs by temperature (F2FS enum log_type's data logs). */
export const Temp = { HOT: 0, WARM: 1, COLD: 2 } as const;
export const LOG_NAMES = ['hot', 'warm', 'cold'] as const;
const NR_LOGS = 3;

/** One victim's moves: parallel arrays, `count` entries, sources in ascending order. */
export interface MovePlan {
  victim: number;
  count: number;
  readonly src: Uint32Array;
  readonly dst: Uint32Array;
  readonly lba: Uint32Array;
  /** The latest tag of each moved logical block: what a read of `src` must return. */
  readonly tag: Uint32Array;
  /** Dense block numbers are consecutive across a section end; device addresses are not. */
  readonly sectionBlocks: number;
  /** Where the mover leaves what its map pre-read saw, so that the loads are kept (job-runner.ts). */
  warm?: number;
}

export function newMovePlan(sectionBlocks: number): MovePlan {
  return { sectionBlocks, victim: -1, count: 0, src: new Uint32Array(sectionBlocks), dst: new Uint32Array(sectionBlocks), lba: new Uint32Array(sectionBlocks), tag: new Uint32Array(sectionBlocks) };
}

export class NoSpaceError extends Error {}

/** Pending jobs a block may pass through before a user write finds it (more is a broken map). */
const MOVED_MAX_HOPS = 64;

export interface LfsCounters {
  userBlocks: number;
  gcMoved: number;
  victims: number;
  /** Sections that became free without GC (every block overwritten). */
  freedClean: number;
  resets: number;
}

export class LogStructured {
  readonly sit: Sit;
  /** Logical → physical: (generation << 28) | physical block per logical block; 0 = unmapped (tag.ts). */
  readonly l2p: Uint32Array;
  /** Free sections, FIFO (a ring). */
  private readonly freeRing: Int32Array;
  private freeHead = 0;
  freeCount = 0;
  /** Sections written since their last reset; a reset is due before they are written again. */
  private readonly dirtySinceReset: Uint8Array;
  /** Sections to reset (zone reset / discard) before the next device write; the driver drains them. */
  readonly resetQueue: number[] = [];
  readonly logSection = new Int32Array(NR_LOGS).fill(-1);
  readonly logOffset = new Int32Array(NR_LOGS);
  /** Foreground GC runs while free sections are at most this many (has_not_enough_free_secs). */
  readonly reserved: number;
  readonly counters: LfsCounters = { userBlocks: 0, gcMoved: 0, victims: 0, freedClean: 0, resets: 0 };
  /** Victims' valid blocks at selection, in tenths of the section (index 0..10). */
  readonly victimHistogram = new Float64Array(11);
  /** The modification clock: user blocks written so far. */
  now = 0;
  private readonly sb: number;

  /**
   * `ssa`: the summary (owner tag per physical block). Pass the tag device's own tags array to
   * read owners from the device; omit to keep a host-side summary.
   */
  constructor(
    readonly layout: Layout,
    readonly policy: VictimPolicy,
    ssa?: Uint32Array,
    shared = false,
  ) {
    if (layout.userBlocks > TAG_MAX_LBAS) throw new LayoutError('--size', `at most ${TAG_MAX_LBAS} logical blocks (1 TiB of user space)`);
    this.sb = layout.sectionBlocks;
    this.sit = new Sit(layout.sections, layout.sectionBlocks);
    if (layout.physBlocks > MAP_MAX_PHYS) throw new LayoutError('--size', `at most ${MAP_MAX_PHYS} physical blocks (1 TiB of 4 KiB blocks)`);
    this.l2p = new Uint32Array(shared ? new SharedArrayBuffer(layout.userBlocks * 4) : new ArrayBuffer(layout.userBlocks * 4));
    this.ownSsa = ssa === undefined;
    this.ssa = ssa ?? new Uint32Array(layout.physBlocks);
    const K = { physMask: MAP_PHYS_MASK, lbaBits: TAG_LBA_BITS, genMax: TAG_GEN_MAX, free: SectionState.FREE, full: SectionState.FULL };
    this.userWrite = specialize(makeUserWrite)(this, this.l2p, this.sit, this.sit.state, this.logSection, this.logOffset, ssa === undefined ? this.ssa : undefined, this.lastTagBuf, this.counters, this.sb, K);
    this.prefetch = specialize(makePrefetch)(this.l2p, this.sit.bitmap, this.sit.valid, this.sit.state, this.sb, MAP_PHYS_MASK);
    this.freeRing = new Int32Array(layout.sections);
    this.dirtySinceReset = new Uint8Array(layout.sections);
    for (let s = 0; s < layout.sections; s++) this.freeRing[s] = s;
    this.freeCount = layout.sections;
    this.reserved = gcReserve(layout.sections);
    if ((layout.sections - this.reserved - NR_LOGS) * this.sb <= layout.userBlocks) {
      throw new LayoutError('--spare-factor', `${layout.spareFactor} leaves no room for GC: the user space needs more than ${layout.sections - this.reserved - NR_LOGS} of ${layout.sections} sections`);
    }
  }
  readonly ssa: Uint32Array;
  private readonly ownSsa: boolean;
  /**
   * Set by a mover that runs victim jobs on another thread (worker-mover.ts). `shared` (the
   * constructor's last argument) puts the map in shared memory for it.
   */
  flight: SectionFlight | undefined;

  get gcNeeded(): boolean {
    return this.freeCount <= this.reserved;
  }

  private takeFree(): number {
    if (this.freeCount === 0) throw new NoSpaceError('no free section left (ENOSPC)');
    const s = this.freeRing[this.freeHead]!;
    if (this.flight !== undefined && this.flight.settle(s)) this.flight.taken(s);
    this.freeHead = this.freeHead + 1 === this.freeRing.length ? 0 : this.freeHead + 1;
    this.freeCount--;
    if (this.dirtySinceReset[s]) {
      this.dirtySinceReset[s] = 0;
      this.resetQueue.push(s);
      this.counters.resets++;
    }
    this.sit.state[s] = SectionState.OPEN;
    return s;
  }

  /** A section becomes free (internal: the user write frees a section it empties). */
  freeSection(s: number): void {
    this.sit.clearSection(s);
    this.sit.state[s] = SectionState.FREE;
    this.dirtySinceReset[s] = 1;
    let tail = this.freeHead + this.freeCount;
    if (tail >= this.freeRing.length) tail -= this.freeRing.length;
    this.freeRing[tail] = s;
    this.freeCount++;
  }

  private closeSection(s: number): void {
    this.sit.state[s] = SectionState.FULL;
    if (this.sit.valid[s] === 0) {
      this.freeSection(s);
      this.counters.freedClean++;
    } else this.sit.insertFull(s);
  }

  /** The next block of a log, opening a new section when the current one is full (internal: the user write's slow path). */
  allocBlock(log: number): number {
    let s = this.logSection[log]!;
    if (s < 0 || this.logOffset[log] === this.sb) {
      if (s >= 0) this.closeSection(s);
      s = this.takeFree();
      this.logSection[log] = s;
      this.logOffset[log] = 0;
    }
    const off = this.logOffset[log]!;
    this.logOffset[log] = off + 1;
    return s * this.sb + off;
  }

  /**
   * A user write of one logical block into log `temp`: invalidates the old copy and returns the
   * physical block to write; the tag to write is `lastTag`. The caller runs GC first when
   * `gcNeeded` says so.
   */
  get lastTag(): number {
    return this.lastTagBuf[0]!;
  }
  /** The tag of the last user write, in a typed array so the hot loop never boxes a 32-bit value. */
  readonly lastTagBuf = new Uint32Array(1);
  /**
   * A closure of this instance's own (src/core/util/specialize.ts): the run's hottest path, called
   * once per user write (half a billion times in the terabyte bench).
   */
  readonly userWrite: (lba: number, temp: number) => number;

  /**
   * Warms the caches for the next user writes: first their map entries, then the bitmap word and
   * the SIT entry of the block each one will invalidate. Two loops of independent loads, so the
   * CPU overlaps the misses that the writes themselves (each a chain of dependent loads) would
   * take one after another. Only a hint: the writes read everything again. Returns what it read,
   * so that its loads are not optimised away. A closure of this instance's own.
   */
  readonly prefetch: (lbas: Int32Array, m: number) => number;
  /** Where the caller leaves what prefetch read. */
  sink = 0;

  /**
   * The map entry of `lba` points into free section `s`: a pending job moves the block (the entry
   * as the job will leave it: the block at its destination), or the block is lost (internal: the
   * user write's slow path).
   */
  moved(lba: number, s: number): number {
    if (this.flight !== undefined) {
      // The entry read again: the worker may have moved the block since the caller read it.
      let e = this.l2p[lba]!;
      if (e === 0) return this.lost(lba, s);
      let sec = ((e & MAP_PHYS_MASK) / this.sb) | 0;
      if (this.sit.state[sec] !== SectionState.FREE) return e;
      // A block may be moved by two pending jobs in a row (into a section that became a victim in
      // turn): follow it, each job giving up its move, until it rests in a section in use.
      for (let hops = 0; hops < MOVED_MAX_HOPS; hops++) {
        const f = this.flight.forward(sec, e & MAP_PHYS_MASK);
        if (f.kind === 'gone') break;
        e = f.kind === 'done' ? this.l2p[lba]! : (((e >>> TAG_LBA_BITS) << TAG_LBA_BITS) | f.to) >>> 0;
        if (e === 0) break;
        sec = ((e & MAP_PHYS_MASK) / this.sb) | 0;
        if (this.sit.state[sec] !== SectionState.FREE) return e;
      }
    }
    return this.lost(lba, s);
  }

  /** The map entry of `lba` points into free section `s`: the block is lost. */
  private lost(lba: number, s: number): never {
    const e = this.l2p[lba]!;
    throw new GcIntegrityError(`map: lba ${lba} points at physical block ${e & MAP_PHYS_MASK} in free section ${s}`, lba, e & MAP_PHYS_MASK);
  }

  /**
   * The fill's fast path: user writes of `count` consecutive logical blocks from `lba`, none
   * written before, into the open section of log `temp`, as that many userWrite calls would do
   * them (map, SIT, mtime, summary, counters), with the tags written to `tags` at once. Stops at
   * the end of the section, or before a block already written; returns how many it wrote (0:
   * the caller writes the next block with userWrite, which opens a section when one is due).
   */
  fillRun(lba: number, count: number, temp: number, tags: Uint32Array): number {
    const s = this.logSection[temp]!;
    if (s < 0) return 0;
    const sb = this.sb;
    const off = this.logOffset[temp]!;
    const k = Math.min(count, sb - off, this.l2p.length - lba);
    const l2p = this.l2p;
    const sit = this.sit;
    const bm = sit.bitmap;
    const gen1 = 1 << TAG_LBA_BITS;
    let v = sit.valid[s]!;
    let m = sit.mtime[s]!;
    let t = this.now;
    let p = s * sb + off;
    let i = 0;
    for (; i < k; i++, p++, t++) {
      const l = lba + i;
      if (l2p[l] !== 0) break;
      l2p[l] = (gen1 | p) >>> 0;
      tags[p] = (gen1 | l) >>> 0;
      bm[p >>> 5]! |= 1 << (p & 31);
      // update_segment_mtime's running mean, block by block as validate() keeps it.
      m = v === 0 ? t : (m * v + t) / (v + 1);
      v++;
    }
    if (i === 0) return 0;
    sit.valid[s] = v;
    sit.mtime[s] = m;
    this.logOffset[temp] = off + i;
    if (this.ownSsa) for (let j = 0; j < i; j++) this.ssa[s * sb + off + j] = tags[s * sb + off + j]!;
    this.lastTagBuf[0] = (gen1 | (lba + i - 1)) >>> 0;
    this.now = t;
    this.counters.userBlocks += i;
    return i;
  }

  /** Where the logical block is (−1: unmapped) and the tag its latest write carried (0: none). */
  physOf(lba: number): number {
    const e = this.l2p[lba]!;
    return e === 0 ? -1 : e & MAP_PHYS_MASK;
  }
  latestTag(lba: number): number {
    const e = this.l2p[lba]!;
    return e === 0 ? 0 : makeTag(lba, e >>> TAG_LBA_BITS);
  }

  /** A user discard (trim) of one logical block: its old copy becomes invalid. */
  trim(lba: number): void {
    let e = this.l2p[lba]!;
    if (e === 0) return;
    if (this.sit.state[((e & MAP_PHYS_MASK) / this.sb) | 0] === SectionState.FREE) e = this.moved(lba, ((e & MAP_PHYS_MASK) / this.sb) | 0);
    const old = e & MAP_PHYS_MASK;
    const s = (old / this.sb) | 0;
    this.l2p[lba] = 0;
    if (this.sit.invalidate(old, s) === 0 && this.sit.state[s] === SectionState.FULL) {
      this.freeSection(s);
      this.counters.freedClean++;
    }
  }

  /**
   * Picks a victim and writes its job at `jobs[at…]` (victim-job.ts): snapshot, destinations,
   * the moves before it; then frees the section and counts the moves. The caller has the job run
   * (a mover, mover.ts; on a lab device applyJob and the lab mover) before anything reads the
   * destinations. Returns false when there is no victim.
   */
  selectVictim(jobs: Uint32Array, at: number): boolean {
    const v = this.pickVictim();
    if (v < 0) return false;
    const n = this.snapshot(v, jobs, at);
    this.allocate(n, this.sit.mtime[v]!, jobs, at);
    const before = this.counters.gcMoved;
    jobs[at + JOB.BEFORE_LO] = before % 2 ** 32;
    jobs[at + JOB.BEFORE_HI] = Math.floor(before / 2 ** 32);
    this.freeSection(v);
    this.counters.gcMoved += n;
    this.counters.victims++;
    return true;
  }

  /**
   * A job's map update, done here with the owners from the layer's own summary (a backend whose
   * device holds payloads, not tags a mover could read the owners from: lab devices): the job
   * expanded into `plan`, each owner's map entry checked (it must name the source; a mismatch is
   * a lost block) and pointed at the destination, in a loop of its own so that the CPU overlaps
   * the random map accesses, and the destinations' summary written. The plan's tags are the
   * map's. The backend then moves the plan's blocks.
   */
  applyJob(jobs: Uint32Array, at: number, plan: MovePlan): void {
    expandJob(jobs, at, this.ssa, plan);
    const n = plan.count;
    this.applyMoves(plan, n);
    if (this.ownSsa) for (let i = 0; i < n; i++) this.ssa[plan.dst[i]!] = plan.tag[i]!;
  }

  /** The policy's victim, out of its bucket and marked as being cleaned; −1 when there is none. */
  private pickVictim(): number {
    const sit = this.sit;
    const v = this.policy.select(sit, this.now);
    if (v < 0) return -1;
    // Moving a section whose every block is valid frees nothing: the device is full (ENOSPC).
    if (sit.valid[v] === this.sb) throw new NoSpaceError(`GC found no section with an invalid block to clean (ENOSPC)`);
    sit.removeFull(v);
    sit.state[v] = SectionState.OPEN; // being cleaned: neither a candidate nor free
    this.victimHistogram[Math.min(10, Math.floor((sit.valid[v]! * 10) / this.sb))]!++;
    return v;
  }

  /** Copies section v's valid bitmap into the job and checks it against the valid count; returns the count. */
  private snapshot(v: number, jobs: Uint32Array, at: number): number {
    const bm = this.sit.bitmap;
    const sb = this.sb;
    const words = Math.ceil(sb / 32);
    const first = v * sb;
    const w0 = first >>> 5;
    const shift = first & 31;
    const out = at + JOB.BITS;
    let n = 0;
    for (let w = 0; w < words; w++) {
      // Sections need not start on a word: take the two words the section's 32 blocks straddle.
      let bits = shift === 0 ? bm[w0 + w]! : (bm[w0 + w]! >>> shift) | ((bm[w0 + w + 1] ?? 0) << (32 - shift));
      if (w === words - 1 && (sb & 31) !== 0) bits &= (1 << (sb & 31)) - 1;
      jobs[out + w] = bits;
      n += popcount32(bits);
    }
    // No cancellations, not started.
    jobs.fill(0, out + words, out + 2 * words);
    jobs[at + JOB.STARTED] = 0;
    jobs[at + JOB.VICTIM] = v;
    jobs[at + JOB.COUNT] = n;
    if (n !== this.sit.valid[v]) throw new GcIntegrityError(`GC: section ${v} counts ${this.sit.valid[v]} valid blocks but its bitmap has ${n}`, -1, first);
    return n;
  }

  /**
   * Destinations in the cold log for n blocks last modified at `vm`, as the job's extents (one
   * run per cold section: n is below a section, so at most two); counts them valid there.
   */
  private allocate(n: number, vm: number, jobs: Uint32Array, at: number): void {
    const sb = this.sb;
    const bm = this.sit.bitmap;
    jobs[at + JOB.LEN0] = 0;
    jobs[at + JOB.LEN1] = 0;
    let i = 0;
    let ext = 0;
    while (i < n) {
      if (this.logSection[Temp.COLD]! < 0 || this.logOffset[Temp.COLD] === sb) this.allocBlockAndBack(Temp.COLD);
      if (ext === 2) throw new Error(`GC: ${n} blocks need more than two cold extents`);
      const ds = this.logSection[Temp.COLD]!;
      const off = this.logOffset[Temp.COLD]!;
      const k = Math.min(n - i, sb - off);
      const base = ds * sb + off;
      jobs[at + (ext === 0 ? JOB.EXT0 : JOB.EXT1)] = base;
      jobs[at + (ext === 0 ? JOB.LEN0 : JOB.LEN1)] = k;
      setRun(bm, base, k);
      this.logOffset[Temp.COLD] = off + k;
      this.addValid(ds, k, vm);
      i += k;
      ext++;
    }
  }

  /** Opens the log's next section (allocBlock's first half: the block itself is not taken). */
  private allocBlockAndBack(log: number): void {
    this.allocBlock(log);
    this.logOffset[log] = 0;
  }

  /** Checks and rewrites the moved blocks' map entries here; the expected tag is the map's. */
  private applyMoves(plan: MovePlan, n: number): void {
    const l2p = this.l2p;
    const { src, dst, lba, tag } = plan;
    for (let i = 0; i < n; i++) {
      const l = lba[i]!;
      const e = l2p[l];
      if (e === undefined || e === 0 || (e & MAP_PHYS_MASK) !== src[i]) {
        throw new GcIntegrityError(`GC: physical block ${src[i]} is marked valid but the map puts its owner (lba ${l}) at ${e === undefined || e === 0 ? 'nowhere' : e & MAP_PHYS_MASK}`, l, src[i]!);
      }
      const g = (e >>> TAG_LBA_BITS) << TAG_LBA_BITS;
      l2p[l] = (g | dst[i]!) >>> 0;
      tag[i] = (g | l) >>> 0;
    }
  }

  /** k blocks written into section s, whose data was last modified at t (update_segment_mtime with the old mtime). */
  private addValid(s: number, k: number, t: number): void {
    const sit = this.sit;
    const v = sit.valid[s]!;
    sit.mtime[s] = v === 0 ? t : (sit.mtime[s]! * v + t * k) / (v + k);
    sit.valid[s] = v + k;
  }
}

/** Sets bits [from, from + len) of a bitmap, whole words where it can. */
function setRun(bm: Uint32Array, from: number, len: number): void {
  let p = from;
  const end = from + len;
  while (p < end && (p & 31) !== 0) {
    bm[p >>> 5]! |= 1 << (p & 31);
    p++;
  }
  while (p + 32 <= end) {
    bm[p >>> 5] = 0xffffffff;
    p += 32;
  }
  while (p < end) {
    bm[p >>> 5]! |= 1 << (p & 31);
    p++;
  }
}

// The closures' factories: self-contained (specialize evaluates their source again).

interface HotConstants {
  readonly physMask: number;
  readonly lbaBits: number;
  readonly genMax: number;
  readonly free: number;
  readonly full: number;
}

/**
 * The user write of one logical block into log `temp`: invalidates the old copy (a map entry
 * into a free section is a block a pending job is moving: lfs.moved), takes the log's next block
 * and points the map at it; returns the physical block to write, whose tag is in `lastTag`. The
 * caller runs GC first when `gcNeeded` says so.
 */
function makeUserWrite(lfs: LogStructured, l2p: Uint32Array, sit: Sit, state: Uint8Array, logSection: Int32Array, logOffset: Int32Array, ssa: Uint32Array | undefined, lastTag: Uint32Array, counters: LfsCounters, sb: number, K: HotConstants) {
  const PHYS = K.physMask;
  const BITS = K.lbaBits;
  const GENS = K.genMax;
  const FREE = K.free;
  const FULL = K.full;
  return (lba: number, temp: number): number => {
    let e = l2p[lba]!;
    let g = 1;
    if (e !== 0) {
      let old = e & PHYS;
      let s = (old / sb) | 0;
      if (state[s] === FREE) {
        e = lfs.moved(lba, s);
        old = e & PHYS;
        s = (old / sb) | 0;
      }
      g = ((e >>> BITS) % GENS) + 1;
      if (sit.invalidate(old, s) === 0 && state[s] === FULL) {
        lfs.freeSection(s);
        counters.freedClean++;
      }
    }
    let p: number;
    const off = logOffset[temp]!;
    if (off < sb && logSection[temp]! >= 0) {
      p = logSection[temp]! * sb + off;
      logOffset[temp] = off + 1;
    } else p = lfs.allocBlock(temp);
    const tag = ((g << BITS) | lba) >>> 0;
    l2p[lba] = ((g << BITS) | p) >>> 0;
    const t = lfs.now;
    sit.validate(p, (p / sb) | 0, t);
    if (ssa !== undefined) ssa[p] = tag;
    lastTag[0] = tag;
    lfs.now = t + 1;
    counters.userBlocks++;
    return p;
  };
}

function makePrefetch(l2p: Uint32Array, bm: Uint32Array, valid: Uint32Array, state: Uint8Array, sb: number, PHYS: number) {
  return (lbas: Int32Array, m: number): number => {
    let acc = 0;
    for (let j = 0; j < m; j++) acc ^= l2p[lbas[j]!]!;
    for (let j = 0; j < m; j++) {
      const p = l2p[lbas[j]!]! & PHYS;
      const s = (p / sb) | 0;
      acc ^= bm[p >>> 5]! ^ valid[s]! ^ state[s]!;
    }
    return acc;
  };
}
