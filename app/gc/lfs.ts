/**
 * The log-structured layer: an F2FS-like main area on a block device (layout.ts), a
 * logical→physical map (one Uint32 per logical block), the SIT (sit.ts), the summary of who owns
 * each physical block (the SSA; on the tag-only device the device's own tags), three data logs
 * by temperature (hot, warm, cold: F2FS CURSEG_{HOT,WARM,COLD}_DATA), and garbage collection
 * that moves a victim's valid blocks into the cold log (F2FS's gc_data_segment → cold data).
 *
 * The layer only decides; a backend moves the bytes (tag-device.ts, lab-backend.ts). GC is one
 * victim at a time: planVictim picks it, updates the map and allocates the destinations, the
 * backend executes the plan (and checks what it reads), and freeVictim gives the section back.
 */
import { GC_RESERVED_SECTIONS } from './constants.js';
import { LayoutError, type Layout } from './layout.js';
import type { VictimPolicy } from './policies.js';
import { SectionState, Sit } from './sit.js';
import { GcIntegrityError, MAP_MAX_PHYS, MAP_PHYS_MASK, TAG_GEN_MAX, TAG_LBA_BITS, TAG_LBA_MASK, TAG_MAX_LBAS, makeTag } from './tag.js';
import { moveFailure, type MapPipe } from './map-pipe.js';

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
}

export function newMovePlan(sectionBlocks: number): MovePlan {
  return { sectionBlocks, victim: -1, count: 0, src: new Uint32Array(sectionBlocks), dst: new Uint32Array(sectionBlocks), lba: new Uint32Array(sectionBlocks), tag: new Uint32Array(sectionBlocks) };
}

export class NoSpaceError extends Error {}

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
    this.freeRing = new Int32Array(layout.sections);
    this.dirtySinceReset = new Uint8Array(layout.sections);
    for (let s = 0; s < layout.sections; s++) this.freeRing[s] = s;
    this.freeCount = layout.sections;
    this.reserved = GC_RESERVED_SECTIONS;
    if ((layout.sections - this.reserved - NR_LOGS) * this.sb <= layout.userBlocks) {
      throw new LayoutError('--spare-factor', `${layout.spareFactor} leaves no room for GC: the user space needs more than ${layout.sections - this.reserved - NR_LOGS} of ${layout.sections} sections`);
    }
  }
  readonly ssa: Uint32Array;
  private readonly ownSsa: boolean;
  /**
   * With a map pipe (map-pipe.ts), GC map updates may be applied by a worker: planVictim queues
   * them, and a user write first waits for a move of its block still in flight. `shared` (the
   * constructor's last argument) puts the map in shared memory for it.
   */
  pipe: MapPipe | undefined;

  get gcNeeded(): boolean {
    return this.freeCount <= this.reserved;
  }

  private takeFree(): number {
    if (this.freeCount === 0) throw new NoSpaceError('no free section left (ENOSPC)');
    const s = this.freeRing[this.freeHead]!;
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

  private freeSection(s: number): void {
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

  /** The next block of a log, opening a new section when the current one is full. */
  private allocBlock(log: number): number {
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
  userWrite(lba: number, temp: number): number {
    const sb = this.sb;
    const sit = this.sit;
    if (this.pipe !== undefined && (lba & this.pipe.workerMask) !== 0) this.pipe.settle(lba);
    const e = this.l2p[lba]!;
    let g = 1;
    if (e !== 0) {
      const old = e & MAP_PHYS_MASK;
      const s = (old / sb) | 0;
      if (sit.state[s] === SectionState.FREE) this.lost(lba, s);
      g = (e >>> TAG_LBA_BITS) % TAG_GEN_MAX + 1;
      if (sit.invalidate(old, s) === 0 && sit.state[s] === SectionState.FULL) {
        this.freeSection(s);
        this.counters.freedClean++;
      }
    }
    const p = this.allocBlock(temp);
    const tag = makeTag(lba, g);
    this.l2p[lba] = ((g << TAG_LBA_BITS) | p) >>> 0;
    sit.validate(p, (p / sb) | 0, this.now);
    if (this.ownSsa) this.ssa[p] = tag;
    this.lastTagBuf[0] = tag;
    this.now++;
    this.counters.userBlocks++;
    return p;
  }

  /**
   * Warms the caches for the next user writes: first their map entries, then the bitmap word and
   * the SIT entry of the block each one will invalidate. Two loops of independent loads, so the
   * CPU overlaps the misses that the writes themselves (each a chain of dependent loads) would
   * take one after another. Only a hint: the writes read everything again.
   */
  prefetch(lbas: Int32Array, m: number): void {
    const l2p = this.l2p;
    const bm = this.sit.bitmap;
    const sit = this.sit;
    const sb = this.sb;
    let acc = 0;
    for (let j = 0; j < m; j++) acc ^= l2p[lbas[j]!]!;
    for (let j = 0; j < m; j++) {
      const p = l2p[lbas[j]!]! & MAP_PHYS_MASK;
      acc ^= bm[p >>> 5]! ^ sit.touch((p / sb) | 0);
    }
    this.sink = acc;
  }
  /** Where prefetch leaves what it read, so that its loads are not optimised away. */
  sink = 0;

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
    if (this.pipe !== undefined && (lba & this.pipe.workerMask) !== 0) this.pipe.settle(lba);
    const e = this.l2p[lba]!;
    if (e === 0) return;
    if (this.sit.state[((e & MAP_PHYS_MASK) / this.sb) | 0] === SectionState.FREE) this.lost(lba, ((e & MAP_PHYS_MASK) / this.sb) | 0);
    const old = e & MAP_PHYS_MASK;
    const s = (old / this.sb) | 0;
    this.l2p[lba] = 0;
    if (this.sit.invalidate(old, s) === 0 && this.sit.state[s] === SectionState.FULL) {
      this.freeSection(s);
      this.counters.freedClean++;
    }
  }

  /**
   * Picks a victim and plans its moves into the cold log, in three passes over the victim's
   * valid blocks: gather them (bitmap, owner from the summary: sequential), allocate their
   * destinations (sequential), then check each owner's map entry (it must name the source; a
   * mismatch is a lost block) and point it at the destination. The last pass is the only random
   * access, one independent map entry per block, in a loop of its own so that the CPU overlaps
   * them; with a map pipe most of them go to the worker. Returns false when there is no victim.
   */
  planVictim(plan: MovePlan): boolean {
    const sit = this.sit;
    const v = this.policy.select(sit, this.now);
    if (v < 0) return false;
    const sb = this.sb;
    // Moving a section whose every block is valid frees nothing: the device is full (ENOSPC).
    if (sit.valid[v] === sb) throw new NoSpaceError(`GC found no section with an invalid block to clean (ENOSPC)`);
    sit.removeFull(v);
    sit.state[v] = SectionState.OPEN; // being cleaned: neither a candidate nor free
    this.victimHistogram[Math.min(10, Math.floor((sit.valid[v]! * 10) / sb))]!++;
    const n = this.gather(v, plan);
    if (n !== sit.valid[v]) throw new GcIntegrityError(`GC: section ${v} counts ${sit.valid[v]} valid blocks but its bitmap has ${n}`, -1, v * sb);
    this.allocate(plan, n, sit.mtime[v]!);
    if (this.pipe !== undefined) this.queueMoves(plan, n);
    else this.applyMoves(plan, n);
    if (this.ownSsa) for (let i = 0; i < n; i++) this.ssa[plan.dst[i]!] = plan.tag[i]!;
    plan.victim = v;
    plan.count = n;
    return true;
  }

  /** The victim's valid blocks in ascending order: sources, owners, and the tags the summary holds. */
  private gather(v: number, plan: MovePlan): number {
    const bm = this.sit.bitmap;
    const ssa = this.ssa;
    const { src, lba, tag } = plan;
    const first = v * this.sb;
    const end = first + this.sb;
    let n = 0;
    for (let w = first >>> 5, wEnd = (end + 31) >>> 5; w < wEnd; w++) {
      let bits = bm[w]!;
      if (bits === 0) continue;
      const base = w << 5;
      if (base < first) bits &= ~0 << (first - base);
      if (base + 32 > end) bits &= (1 << (end - base)) - 1;
      while (bits !== 0) {
        const low = bits & -bits;
        const p = base + 31 - Math.clz32(low);
        bits ^= low;
        const t = ssa[p]!;
        src[n] = p;
        tag[n] = t;
        lba[n] = t & TAG_LBA_MASK;
        n++;
      }
    }
    return n;
  }

  /** Destinations in the cold log for n blocks last modified at `vm`; counts them valid there. */
  private allocate(plan: MovePlan, n: number, vm: number): void {
    const sb = this.sb;
    const bm = this.sit.bitmap;
    const dst = plan.dst;
    let i = 0;
    while (i < n) {
      // One run per cold section: open the next one when the current is full.
      if (this.logSection[Temp.COLD]! < 0 || this.logOffset[Temp.COLD] === sb) this.allocBlockAndBack(Temp.COLD);
      const ds = this.logSection[Temp.COLD]!;
      const off = this.logOffset[Temp.COLD]!;
      const k = Math.min(n - i, sb - off);
      const base = ds * sb + off;
      for (let j = 0; j < k; j++) {
        const d = base + j;
        dst[i + j] = d;
        bm[d >>> 5]! |= 1 << (d & 31);
      }
      this.logOffset[Temp.COLD] = off + k;
      this.addValid(ds, k, vm);
      i += k;
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

  /**
   * Queues the moves on the map pipe, applying the main thread's share here; the expected tag is
   * the one read at the source (the worker checks that the map agrees). A valid block that holds
   * no tag at all is lost already.
   */
  private queueMoves(plan: MovePlan, n: number): void {
    const pipe = this.pipe!;
    const l2p = this.l2p;
    const { src, dst, lba, tag } = plan;
    const share = pipe.workerMask;
    const before = pipe.written;
    for (let i = 0; i < n; i++) {
      const t = tag[i]!;
      if (t === 0) throw new GcIntegrityError(`GC read of physical block ${src[i]} returned nothing (never written or reset), though it is marked valid`, -1, src[i]!);
      const l = lba[i]!;
      if ((l & share) !== 0) {
        pipe.push(t, src[i]!, dst[i]!);
        continue;
      }
      const g = (t >>> TAG_LBA_BITS) << TAG_LBA_BITS;
      const e = l2p[l];
      if (e !== ((g | src[i]!) >>> 0)) throw moveFailure(l, src[i]!, e, t >>> TAG_LBA_BITS);
      l2p[l] = (g | dst[i]!) >>> 0;
    }
    if (pipe.written !== before) pipe.publish();
  }

  /** k blocks written into section s, whose data was last modified at t (update_segment_mtime with the old mtime). */
  private addValid(s: number, k: number, t: number): void {
    const sit = this.sit;
    const v = sit.valid[s]!;
    sit.mtime[s] = v === 0 ? t : (sit.mtime[s]! * v + t * k) / (v + k);
    sit.valid[s] = v + k;
  }

  /** After the backend moved the plan's blocks: the victim section is free. */
  freeVictim(plan: MovePlan): void {
    this.freeSection(plan.victim);
    this.counters.gcMoved += plan.count;
    this.counters.victims++;
  }
}
