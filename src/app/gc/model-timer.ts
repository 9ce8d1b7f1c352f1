/**
 * Modeled time for the tag-only device: its commands reserve time on a TimingModel
 * (devices/timing/) on a Clock of its own, the host waiting for each completion (QD 1 for user
 * writes; a victim's commands issued together, the host path's writes after its reads).
 * - host / append: a READ per run of valid blocks, then a WRITE (or Zone Append) per destination
 *   extent cut at the command size: every byte crosses the link twice; the host's writes to one
 *   zone go one at a time (zone write plugging), its appends all at once;
 * - copy: a device copy per command the copy limits allow (ranges, blocks), sources 4 KiB runs;
 * - izc: one device copy per destination zone carrying every run of the victim;
 * - a section reset erases its blocks (tBERS on the dies it spans), not waited for.
 * The model decides how a copy runs (same-die copyback or through the controller).
 */
import { Clock } from '../../core/time/clock.js';
import { TimingModel, type CopyCommand, type TimedSource } from '../../../devices/timing/model.js';
import type { TimingParams } from '../../../devices/timing/params.js';
import { GC_BLOCK_BYTES } from './constants.js';
import type { GcTimer } from './cost.js';
import { physToDeviceOffset, type Layout } from './layout.js';
import type { MovePlan } from './lfs.js';
import type { GcPathName, PathLimits } from './paths.js';

const noop = (): void => {};

export class ModelTimer implements GcTimer {
  readonly clock = new Clock({ mode: 'virtual' });
  readonly model: TimingModel;
  constructor(
    readonly params: TimingParams,
    private readonly layout: Layout,
    private readonly limits: PathLimits,
  ) {
    this.model = new TimingModel(params, this.clock);
  }

  get preset(): string {
    return this.params.preset;
  }

  now(): number {
    return this.clock.now();
  }

  advanceTo(t: number): void {
    if (t <= this.clock.now()) return;
    this.clock.at(t, noop);
    this.clock.runUntilIdle();
  }

  deviceCopy(): { pages: number; copyback: number } {
    const s = this.model.stats;
    return { pages: s.copyback_pages + s.cross_die_pieces + s.cross_device_pieces, copyback: s.copyback_pages };
  }

  private off(p: number): number {
    return physToDeviceOffset(this.layout, p);
  }

  userWrite(p: number): number {
    return this.model.write(this.off(p), GC_BLOCK_BYTES);
  }

  reset(section: number): number {
    return this.model.erase(this.off(section * this.layout.sectionBlocks), this.layout.sectionBlocks * GC_BLOCK_BYTES);
  }

  /** Runs [i, j) with consecutive sources and destinations (inside one section), at most `max` long. */
  private runs(plan: MovePlan, max: number, needSrc: boolean, needDst: boolean): [number, number][] {
    const out: [number, number][] = [];
    let i = 0;
    while (i < plan.count) {
      let j = i + 1;
      while (
        j < plan.count &&
        j - i < max &&
        (!needSrc || plan.src[j] === plan.src[j - 1]! + 1) &&
        (!needDst || (plan.dst[j] === plan.dst[j - 1]! + 1 && plan.dst[j]! % plan.sectionBlocks !== 0))
      )
        j++;
      out.push([i, j]);
      i = j;
    }
    return out;
  }

  gcMoves(plan: MovePlan, path: GcPathName): number {
    if (plan.count === 0) return this.now();
    const m = this.model;
    const lim = this.limits;
    let done = this.now();
    if (path === 'host' || path === 'append') {
      for (const [i, j] of this.runs(plan, lim.ioBlocks, true, false)) done = Math.max(done, m.read(this.off(plan.src[i]!), (j - i) * GC_BLOCK_BYTES));
      this.advanceTo(done);
      if (path === 'append') {
        // Zone Append: the device picks each command's LBA at the zone's write pointer, so the
        // host keeps every append to a zone in flight at once.
        for (const [i, j] of this.runs(plan, lim.appendBlocks, false, true)) done = Math.max(done, m.write(this.off(plan.dst[i]!), (j - i) * GC_BLOCK_BYTES));
        return done;
      }
      // Zoned writes land at the write pointer only in order, so the host keeps one write in
      // flight per zone (Linux's zone write plugging; mq-deadline's zone write lock before it):
      // a write to the zone of the write before it is issued when that one completes.
      let zone = -1;
      let zoneDone = 0;
      for (const [i, j] of this.runs(plan, lim.ioBlocks, false, true)) {
        const z = Math.floor(plan.dst[i]! / plan.sectionBlocks);
        if (z === zone) this.advanceTo(zoneDone);
        zoneDone = m.write(this.off(plan.dst[i]!), (j - i) * GC_BLOCK_BYTES);
        zone = z;
        if (zoneDone > done) done = zoneDone;
      }
      return done;
    }
    // Copy commands: a destination extent per command at least; `copy` also cuts by the copy limits.
    // A victim's commands are queued together: the device senses every source first (copyBatch).
    const pieces = this.runs(plan, path === 'copy' ? lim.rangeBlocks : Infinity, true, true);
    const cmds: CopyCommand[] = [];
    let k = 0;
    while (k < pieces.length) {
      const sources: TimedSource[] = [];
      const dst0 = plan.dst[pieces[k]![0]]!;
      let expect = dst0;
      let blocks = 0;
      while (k < pieces.length) {
        const [i, j] = pieces[k]!;
        if (plan.dst[i] !== expect || (expect !== dst0 && expect % plan.sectionBlocks === 0)) break;
        if (path === 'copy' && sources.length > 0 && (sources.length === lim.copyRanges || blocks + (j - i) > lim.copyBlocks)) break;
        sources.push({ model: m, offset: this.off(plan.src[i]!), length: (j - i) * GC_BLOCK_BYTES });
        blocks += j - i;
        expect += j - i;
        k++;
      }
      cmds.push({ sources, dstOffset: this.off(dst0) });
    }
    for (const t of m.copyBatch(cmds)) if (t > done) done = t;
    return done;
  }
}
