/**
 * What a job issues next: direction, offset and length (or copy ranges), from its rw mode,
 * block sizes, random distribution and zone mode. Pure computation from the job and its seed:
 * the same job file issues the same requests every run.
 */
import { Prng } from '../../core/util/prng.js';
import { makePicker, type BlockPicker } from './distribution.js';
import { isCopy, isMixed, isRandom, type BsSplitEntry, type JobSpec } from './job.js';
import type { Ddir } from './units.js';

export type IoDir = Ddir | 'copy';

export interface CopyRangeIo {
  readonly src: number;
  readonly dst: number;
  readonly len: number;
}

export interface Io {
  readonly dir: IoDir;
  readonly offset: number;
  readonly len: number;
  /** copy: the ranges (each `len / ranges.length` bytes); offset is the first destination. */
  readonly ranges?: readonly CopyRangeIo[];
}

export interface Region {
  readonly start: number;
  readonly size: number;
}

/** The regions a job touches on its device(s), as resolved by the engine. */
export interface Layout {
  /** Where reads, writes, trims and copy destinations go. */
  readonly io: Region;
  /** copy: where sources come from (the copy_src device, or the first half of the region). */
  readonly src?: Region;
}

export class Workload {
  private readonly rng: Prng;
  /** Sequential positions per direction (bytes into the region), as cursors offsetIn moves. */
  private readonly pos: Record<IoDir, { v: number }> = { read: { v: 0 }, write: { v: 0 }, trim: { v: 0 }, copy: { v: 0 } };
  private readonly pickers = new Map<string, BlockPicker>();
  private readonly srcPos = { v: 0 };
  private readonly random: boolean;
  /** minBlock per direction, worked out at the first request of each (the job does not change). */
  private readonly minBlocks: Record<IoDir, number> = { read: 0, write: 0, trim: 0, copy: 0 };
  /** zonemode=zbd: write pointers (bytes into each zone) and the zones open for writing. */
  private readonly wp: Float64Array | null;
  private readonly open: number[] = [];
  private zoneCursor = 0;
  zoneResets = 0;

  constructor(readonly job: JobSpec, readonly layout: Layout, clone: number, private readonly blockAlign: number) {
    this.rng = new Prng((job.randseed + clone * 0x9e3779b1) >>> 0);
    this.random = isRandom(job.rw);
    this.wp = job.zonemode === 'zbd' ? new Float64Array(Math.max(1, Math.floor(layout.io.size / job.zonesize!))) : null;
  }

  /** Direction of the next request. */
  private dir(): IoDir {
    const rw = this.job.rw;
    if (isCopy(rw)) return 'copy';
    if (isMixed(rw)) return this.rng.below(100) < this.job.rwmixread ? 'read' : 'write';
    if (rw === 'trim' || rw === 'randtrim') return 'trim';
    return rw === 'write' || rw === 'randwrite' ? 'write' : 'read';
  }

  private blockSize(dir: IoDir): number {
    const d: Ddir = dir === 'copy' ? 'write' : dir;
    const split = this.job.bssplit?.[d];
    if (split && split.length) return pickSplit(split, this.rng.below(10000) / 100);
    return this.job.bs[d];
  }

  /** The smallest block size a direction may use (offset alignment for random I/O). */
  minBlock(dir: IoDir): number {
    const known = this.minBlocks[dir];
    if (known) return known;
    const d: Ddir = dir === 'copy' ? 'write' : dir;
    const split = this.job.bssplit?.[d];
    const min = split && split.length ? Math.min(...split.map((e) => e.bs)) : this.job.bs[d];
    return (this.minBlocks[dir] = Math.max(min, this.blockAlign));
  }

  /** The largest request size in bytes (for buffers). */
  maxBlock(): number {
    let m = 0;
    for (const d of ['read', 'write', 'trim'] as const) {
      const split = this.job.bssplit?.[d];
      m = Math.max(m, this.job.bs[d], ...(split ?? []).map((e) => e.bs));
    }
    return m;
  }

  private offsetIn(region: Region, key: string, len: number, align: number, seq: { v: number } | null): number {
    const blocks = Math.max(1, Math.floor(region.size / align));
    let off: number;
    if (!seq) {
      let p = this.pickers.get(key);
      if (!p) this.pickers.set(key, (p = makePicker(this.job.random_distribution, blocks, align, this.rng)));
      off = p() * align;
    } else {
      if (seq.v + len > region.size) seq.v = 0;
      off = seq.v;
      seq.v += len;
    }
    if (off + len > region.size) off = Math.max(0, Math.floor((region.size - len) / align) * align);
    return region.start + off;
  }

  next(): Io {
    const dir = this.dir();
    const random = this.random;
    if (dir === 'copy') {
      const len = this.blockSize('copy');
      const n = this.job.copy_ranges;
      const src = this.layout.src!;
      const align = this.minBlock('copy');
      const total = len * n;
      // Sources scattered (randcopy) or in order (copy), gathered onto one contiguous destination.
      const dstOff = random ? this.offsetIn(this.layout.io, 'copy-dst', total, align, null) : this.seqDst(total);
      const ranges: CopyRangeIo[] = [];
      for (let i = 0; i < n; i++) ranges.push({ src: this.offsetIn(src, 'copy-src', len, align, random ? null : this.srcPos), dst: dstOff + i * len, len });
      return { dir, offset: dstOff, len: total, ranges };
    }
    const len = this.blockSize(dir);
    if (this.wp && dir === 'write') return { dir, offset: this.zoneWrite(len, random), len };
    if (this.wp && dir === 'read') return { dir, offset: this.zoneRead(len, random), len };
    const off = this.offsetIn(this.layout.io, dir, len, this.minBlock(dir), random ? null : this.pos[dir]);
    return { dir, offset: off, len };
  }

  private seqDst(total: number): number {
    const r = this.layout.io;
    const pos = this.pos.copy;
    if (pos.v + total > r.size) pos.v = 0;
    const off = r.start + pos.v;
    pos.v += total;
    return off;
  }

  /** zbd: writes go to a zone's write pointer; a full zone is reset before it is written again. */
  private zoneWrite(len: number, random: boolean): number {
    const wp = this.wp!;
    const zs = this.job.zonesize!;
    const maxOpen = this.job.max_open_zones || wp.length;
    let z: number;
    if (!random) z = this.zoneCursor;
    else if (this.open.length < maxOpen) {
      z = this.rng.below(wp.length);
      if (!this.open.includes(z)) this.open.push(z);
    } else z = this.open[this.rng.below(this.open.length)]!;
    if (wp[z]! + len > zs) {
      // Full: sequential mode moves on; either way the next write to a full zone resets it first.
      if (!random) z = this.zoneCursor = (this.zoneCursor + 1) % wp.length;
      const i = this.open.indexOf(z);
      if (random && i >= 0) this.open.splice(i, 1);
      if (wp[z]! + len > zs) {
        wp[z] = 0;
        this.zoneResets++;
      }
      if (random && this.open.length < maxOpen && !this.open.includes(z)) this.open.push(z);
    }
    const off = z * zs + wp[z]!;
    wp[z] = wp[z]! + len;
    return this.layout.io.start + off;
  }

  /** zbd: reads stay below the write pointer (read_beyond_wp=0); unwritten zones read from their start. */
  private zoneRead(len: number, random: boolean): number {
    const wp = this.wp!;
    const zs = this.job.zonesize!;
    const z = random ? this.rng.below(wp.length) : this.zoneCursor;
    const written = Math.floor(wp[z]! / len);
    const off = written > 0 ? (random ? this.rng.below(written) : (this.pos.read.v++ % written)) * len : 0;
    return this.layout.io.start + z * zs + Math.min(off, zs - len);
  }
}

function pickSplit(split: readonly BsSplitEntry[], p: number): number {
  for (const e of split) {
    if (p < e.pct) return e.bs;
    p -= e.pct;
  }
  return split[split.length - 1]!.bs;
}
