/**
 * dm-raid raid1: a mirror. Reads go to the first in-sync leg (a leg that fails a read is
 * marked dead and the next leg is tried, as dm-raid1 does); writes go to every live leg, and a
 * leg that fails a write is marked dead. While a leg is not in sync, every region written is
 * marked for it (the dirty log's job); `dmsetup message NAME 0 resync` copies the marked
 * regions from an in-sync leg through the copy engine (offloaded where the legs can copy).
 *
 * Copies: the destination fans out to every live leg (each offloaded where it can be), the
 * source may be read from any in-sync leg; regions of dead legs are marked for resync. A leg
 * whose device fails a copy piece is marked dead as for a write (the locations' `failed`), and
 * every change of a leg's health is told to the dm device (mapChanged): copies plan again.
 *
 * A resync copies a window of regions at a time under md's resync barrier: writes onto the
 * window wait for it, and it waits for the writes in flight there; a copy onto the array is
 * written through the mirror while a resync runs (copyMap refuses), and the resync starts once
 * the copy pieces planned before it have ended. Otherwise a write landing between the resync's
 * read of a region and its write to the recovering leg left that leg stale while marked in sync.
 */
import { ReqOp, SECTOR_SIZE } from '../../block/ops.js';
import type { BlockDevice } from '../../block/device.js';
import type { CopyExtent, CopyRole } from '../../block/remap.js';
import { blkdevCopy } from '../../block/copy/engine.js';
import { Errno } from '../../util/errno.js';
import { devPath, lowerIo, type DmTarget, type TargetIo } from '../target.js';
import { legIndex, type RaidLeg } from './raid-leg.js';

/** Regions a resync copies under one barrier window (md copies a window of the array at a time). */
export const RESYNC_WINDOW = 64;

export class Raid1Target implements DmTarget {
  readonly type = 'raid';
  readonly devices: readonly BlockDevice[];
  /** Per leg: regions (index) it is missing. */
  private readonly dirty: Set<number>[];
  private resyncing = false;
  mapChanged?: () => void;
  earlierCopiesDone?: () => Promise<void>;
  /** The regions a resync is copying now (writes onto them wait), and when it is done with them. */
  private window: { first: number; last: number; done: Promise<void> } | null = null;
  /** Regions of the writes in flight (a resync window waits for those it overlaps). */
  private readonly writing = new Set<{ first: number; last: number }>();
  private writeEnded: (() => void)[] = [];

  /**
   * `sync` (dm-raid's full resynchronization): the legs the caller marked not in sync miss
   * every region, copied from the first leg by the next `resync` message.
   */
  constructor(readonly legs: RaidLeg[], readonly length: number, readonly regionSize: number, readonly sync = false) {
    this.devices = legs.map((l) => l.dev);
    const regions = Math.ceil(length / regionSize);
    this.dirty = legs.map((l) => new Set<number>(sync && l.health === 'a' ? Array.from({ length: regions }, (_, r) => r) : []));
    this.initialSync = sync;
  }

  /** The full resynchronization `sync` asked for has not finished (status action `resync`). */
  private initialSync: boolean;

  private markDirty(offset: number, length: number): void {
    if (length <= 0) return;
    const first = Math.floor(offset / this.regionSize);
    const last = Math.floor((offset + length - 1) / this.regionSize);
    this.legs.forEach((leg, i) => {
      if (leg.health === 'A') return;
      for (let r = first; r <= last; r++) this.dirty[i]!.add(r);
    });
  }

  private fail(i: number): void {
    if (this.legs[i]!.health === 'D') return;
    this.legs[i]!.health = 'D';
    this.mapChanged?.();
  }

  async io(req: TargetIo): Promise<number> {
    if (req.op === ReqOp.READ) {
      for (let i = 0; i < this.legs.length; i++) {
        if (this.legs[i]!.health !== 'A') continue;
        const res = await lowerIo(this.legs[i]!.dev, ReqOp.READ, req.offset, req.length, req.trace, req.data, req.flags);
        if (res >= 0) return res;
        this.fail(i);
      }
      return -Errno.EIO;
    }
    if (req.op === ReqOp.FLUSH || req.length === 0) return this.writeLegs(req);
    const ext = { first: Math.floor(req.offset / this.regionSize), last: Math.floor((req.offset + req.length - 1) / this.regionSize) };
    while (this.window && this.window.first <= ext.last && ext.first <= this.window.last) await this.window.done;
    this.writing.add(ext);
    try {
      return await this.writeLegs(req);
    } finally {
      this.writing.delete(ext);
      for (const fn of this.writeEnded.splice(0)) fn();
    }
  }

  /** A write (or flush, discard, write zeroes) to every live leg; a leg that fails it is marked dead. */
  private async writeLegs(req: TargetIo): Promise<number> {
    const live = this.legs.map((l, i) => ({ l, i })).filter(({ l }) => l.health !== 'D');
    if (req.op !== ReqOp.FLUSH) this.markDirty(req.offset, req.length);
    const rs = await Promise.all(live.map(({ l }) => lowerIo(l.dev, req.op, req.op === ReqOp.FLUSH ? 0 : req.offset, req.length, req.trace, req.data, req.flags)));
    let ok = false;
    let err = -Errno.EIO;
    rs.forEach((res, k) => {
      const { l, i } = live[k]!;
      if (res >= 0) {
        if (l.health === 'A') ok = true;
        return;
      }
      if (res === -Errno.ENOTSUP) {
        err = res;
        return;
      }
      this.fail(i);
    });
    if (req.op !== ReqOp.FLUSH) this.markDirty(req.offset, req.length);
    if (!ok) return err;
    return req.op === ReqOp.WRITE ? req.length : 0;
  }

  copyMap(offset: number, length: number, role: CopyRole): CopyExtent {
    const inSync = this.legs.filter((l) => l.health === 'A');
    if (inSync.length === 0) {
      return { kind: 'refuse', length, target: 'raid1', reason: { code: 'target_refused', detail: 'raid1 has no in-sync leg' } };
    }
    const failed = (l: RaidLeg) => () => this.fail(this.legs.indexOf(l));
    if (role === 'dst' && this.resyncing) {
      return { kind: 'refuse', length, target: 'raid1', reason: { code: 'target_refused', detail: 'raid1 is resynchronising: a copy onto it goes through its writes, which wait for the resync of their regions' } };
    }
    if (role === 'src') return { kind: 'remap', length, target: 'raid1', copies: inSync.map((l) => ({ dev: l.dev, offset, failed: failed(l) })) };
    this.markDirty(offset, length);
    const live = this.legs.filter((l) => l.health !== 'D');
    return { kind: 'remap', length, target: 'raid1', copies: live.map((l) => ({ dev: l.dev, offset, failed: failed(l) })) };
  }

  /** Regions a leg is missing, for status and tests. */
  outOfSync(leg: number): number {
    return this.dirty[leg]?.size ?? 0;
  }

  async message(args: readonly string[]): Promise<string | null> {
    const [verb, arg] = args;
    if (verb === 'fail' || verb === 'revive') {
      const i = legIndex(arg, this.legs.length);
      if (i === null) return `${verb}: expected a leg index 0..${this.legs.length - 1}`;
      if (verb === 'fail') this.fail(i);
      else if (this.legs[i]!.health === 'D') {
        this.legs[i]!.health = 'a';
        this.mapChanged?.();
      }
      return null;
    }
    if (verb === 'resync' || verb === 'recover') return this.resync();
    return `unknown message ${verb ?? ''} (fail N, revive N, resync)`;
  }

  /** Copies every region a recovering leg misses from an in-sync leg, through the copy engine. */
  private async resync(): Promise<string | null> {
    if (this.resyncing) return 'resync already running';
    const from = this.legs.find((l) => l.health === 'A');
    if (!from) return 'no in-sync leg to resync from';
    this.resyncing = true;
    // Copies onto the array are refused from now; pieces planned before may still write the legs.
    this.mapChanged?.();
    await this.earlierCopiesDone?.();
    try {
      for (let i = 0; i < this.legs.length; i++) {
        const leg = this.legs[i]!;
        if (leg.health !== 'a') continue;
        const regions = [...this.dirty[i]!].sort((a, b) => a - b);
        for (let k = 0; k < regions.length; ) {
          // A window: up to RESYNC_WINDOW regions that lie within RESYNC_WINDOW of the first.
          let end = k + 1;
          while (end < regions.length && end - k < RESYNC_WINDOW && regions[end]! - regions[k]! < RESYNC_WINDOW) end++;
          const batch = regions.slice(k, end);
          const problem = await this.resyncWindow(i, from.dev, batch);
          if (problem) return problem;
          k = end;
        }
        this.dirty[i]!.clear();
        leg.health = 'A';
      }
      this.initialSync = false;
      return null;
    } finally {
      this.resyncing = false;
      this.mapChanged?.();
    }
  }

  /** Copies `regions` (sorted) from `from` to leg `i` with writes onto them held off; a message when it fails. */
  private async resyncWindow(i: number, from: BlockDevice, regions: readonly number[]): Promise<string | null> {
    let release = (): void => undefined;
    const done = new Promise<void>((resolve) => (release = resolve));
    const window = { first: regions[0]!, last: regions[regions.length - 1]!, done };
    this.window = window;
    try {
      const busy = (): boolean => [...this.writing].some((w) => w.first <= window.last && window.first <= w.last);
      while (busy()) await new Promise<void>((resolve) => this.writeEnded.push(resolve));
      const ranges = regions.map((r) => {
        const off = r * this.regionSize;
        return { src: from, srcOffset: off, dstOffset: off, length: Math.min(this.regionSize, this.length - off) };
      });
      const r = await blkdevCopy(this.legs[i]!.dev, ranges);
      if (r.res < 0) return `resync of leg ${i} failed: ${r.message ?? r.res}`;
      if (this.legs[i]!.health !== 'a') return `leg ${i} failed during its resync`;
      return null;
    } finally {
      this.window = null;
      release();
    }
  }

  tableArgs(): string {
    return `raid1 ${this.sync ? '4 0 sync' : '3 0'} region_size ${this.regionSize / SECTOR_SIZE} ${this.legs.length} ${this.legs.map((l) => `- ${devPath(l.dev)}`).join(' ')}`;
  }

  statusArgs(): string {
    const regions = Math.ceil(this.length / this.regionSize);
    const missing = Math.max(0, ...this.dirty.map((d) => d.size));
    const synced = Math.min(this.length, (regions - missing) * this.regionSize) / SECTOR_SIZE;
    const action = !this.legs.some((l) => l.health === 'a') ? 'idle' : this.initialSync ? 'resync' : 'recover';
    return `raid1 ${this.legs.length} ${this.legs.map((l) => l.health).join('')} ${synced}/${this.length / SECTOR_SIZE} ${action} 0`;
  }
}
