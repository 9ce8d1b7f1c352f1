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
  ) {
    if (layout.userBlocks > TAG_MAX_LBAS) throw new LayoutError('--size', `at most ${TAG_MAX_LBAS} logical blocks (1 TiB of user space)`);
    this.sb = layout.sectionBlocks;
    this.sit = new Sit(layout.sections, layout.sectionBlocks);
    if (layout.physBlocks > MAP_MAX_PHYS) throw new LayoutError('--size', `at most ${MAP_MAX_PHYS} physical blocks (1 TiB of 4 KiB blocks)`);
    this.l2p = new Uint32Array(layout.userBlocks);
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
    const e = this.l2p[lba]!;
    let g = 1;
    if (e !== 0) {
      const old = e & MAP_PHYS_MASK;
      g = (e >>> TAG_LBA_BITS) % TAG_GEN_MAX + 1;
      const s = (old / sb) | 0;
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
    const e = this.l2p[lba]!;
    if (e === 0) return;
    const old = e & MAP_PHYS_MASK;
    const s = (old / this.sb) | 0;
    this.l2p[lba] = 0;
    if (this.sit.invalidate(old, s) === 0 && this.sit.state[s] === SectionState.FULL) {
      this.freeSection(s);
      this.counters.freedClean++;
    }
  }

  /**
   * Picks a victim and plans its moves into the cold log: reads each valid block's owner from
   * the summary, checks it against the map (a mismatch is a lost block), and points the map at
   * the destination. Returns false when there is no victim.
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
    const vm = sit.mtime[v]!;
    const bm = sit.bitmap;
    const l2p = this.l2p;
    const ssa = this.ssa;
    const first = v * sb;
    const end = first + sb;
    let n = 0;
    let ds = -1;
    let dsAdded = 0;
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
        const lba = ssa[p]! & TAG_LBA_MASK;
        const e = lba < l2p.length ? l2p[lba]! : 0;
        if (e === 0 || (e & MAP_PHYS_MASK) !== p) {
          throw new GcIntegrityError(`GC: physical block ${p} is marked valid but the map puts its owner (lba ${lba}) at ${e === 0 ? 'nowhere' : e & MAP_PHYS_MASK}`, lba, p);
        }
        const g = e >>> TAG_LBA_BITS;
        // Count what went into the cold section before allocBlock may close it.
        if (dsAdded && this.logOffset[Temp.COLD] === sb) {
          this.addValid(ds, dsAdded, vm);
          dsAdded = 0;
        }
        const off = this.logOffset[Temp.COLD]!;
        let d: number;
        if (off < sb && ds >= 0) {
          d = ds * sb + off;
          this.logOffset[Temp.COLD] = off + 1;
        } else d = this.allocBlock(Temp.COLD);
        const s = (d / sb) | 0;
        if (s !== ds) {
          if (dsAdded) this.addValid(ds, dsAdded, vm);
          ds = s;
          dsAdded = 0;
        }
        bm[d >>> 5]! |= 1 << (d & 31);
        dsAdded++;
        l2p[lba] = ((g << TAG_LBA_BITS) | d) >>> 0;
        const tag = ((g << TAG_LBA_BITS) | lba) >>> 0;
        plan.src[n] = p;
        plan.dst[n] = d;
        plan.lba[n] = lba;
        plan.tag[n] = tag;
        n++;
      }
    }
    if (dsAdded) this.addValid(ds, dsAdded, vm);
    if (n !== sit.valid[v]) throw new GcIntegrityError(`GC: section ${v} counts ${sit.valid[v]} valid blocks but its bitmap has ${n}`, -1, first);
    if (this.ownSsa) for (let i = 0; i < n; i++) ssa[plan.dst[i]!] = plan.tag[i]!;
    plan.victim = v;
    plan.count = n;
    return true;
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
