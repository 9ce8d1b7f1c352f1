/**
 * What a GC run records as it goes, on either backend (run.ts, lab-backend.ts), and the result it
 * makes of it at the end (result.ts gcResult): the layer's counters after the fill and at the
 * overwrites' half (the steady state), modeled time from the fill's end, the GC's share of it,
 * write latencies, a time series of the overwrites, and peak memory. The backend tells it when
 * the fill is done, when the overwrites reach their half and their end, and what each write and
 * each foreground GC took; what the device is and what the GC's commands were come at the end.
 */
import { GC_BLOCK_BYTES } from './constants.js';
import { LatencyHistogram } from './histogram.js';
import type { Layout } from './layout.js';
import type { LogStructured } from './lfs.js';
import type { GcOptions } from './options.js';
import type { PathCounters } from './paths.js';
import { gcResult, type GcResult, type GcSeriesPoint, type RunTotals } from './result.js';

/** What the backend knows of the device at the end of a run. */
export interface RunDevice {
  /** The device's bytes (the tag-only device: the options' size). */
  readonly size: number;
  readonly timing: string;
  readonly allocation: string;
  /** tag-only, or the lab device's path. */
  readonly device: string;
  /** The timing model's copy counters over the run (zeros untimed). */
  readonly deviceCopy: { readonly pages: number; readonly copyback: number };
  /** Lab devices: the copy engine's emulation on the copy path, and the notes said before the run. */
  readonly copyEmulation?: RunTotals['copyEmulation'];
  readonly notes?: readonly string[];
}

export class RunRecorder {
  /** Operations after the fill (`overwrites` capacities of the user space), and the first of the steady half. */
  readonly overwrites: number;
  readonly half: number;
  /** Every operation of the run, the fill's included (the progress's denominator). */
  readonly total: number;
  private readonly points: number;
  private fill = { user: 0, moved: 0 };
  private halfway = { user: 0, moved: 0 };
  private fillNs = 0;
  private endNs = 0;
  private gcNs = 0;
  private measuring = false;
  private readonly all = new LatencyHistogram();
  private readonly interval = new LatencyHistogram();
  private readonly series: GcSeriesPoint[] = [];
  private last = { user: 0, moved: 0, ns: 0, victims: 0 };
  private peakRss = 0;

  constructor(
    private readonly o: GcOptions,
    private readonly layout: Layout,
    private readonly lfs: LogStructured,
    /** Modeled time now (ns; 0 without a timing model). */
    private readonly now: () => number,
    /** When the run started (performance.now(), ms). */
    private readonly t0: number,
  ) {
    const u = layout.userBlocks;
    this.overwrites = Math.round(o.overwrites * u);
    this.half = Math.floor(this.overwrites / 2);
    this.total = u + this.overwrites;
    this.points = Math.min(o.seriesPoints, this.overwrites);
  }

  /** The fill is done: the WAF, modeled time and latencies count from here. Returns the overwrite that ends the first series interval (counted from 1). */
  fillDone(): number {
    const c = this.lfs.counters;
    this.fill = { user: c.userBlocks, moved: c.gcMoved };
    this.fillNs = this.now();
    this.measuring = true;
    this.last = { user: 0, moved: c.gcMoved, ns: this.fillNs, victims: c.victims };
    return Math.ceil(this.overwrites / this.points);
  }

  /** The overwrites reach their half: the steady-state WAF counts from here. */
  atHalf(): void {
    const c = this.lfs.counters;
    this.halfway = { user: c.userBlocks, moved: c.gcMoved };
  }

  /** The overwrites are done: modeled time ends here (the read-back is not part of it). */
  overwritesDone(): void {
    this.endNs = this.now();
  }

  /** A user write took `ns` of modeled time, from its issue (GC included) to its completion (counted after the fill). */
  latency(ns: number): void {
    if (!this.measuring) return;
    this.all.record(ns);
    this.interval.record(ns);
  }

  /** A foreground GC took `ns` of modeled time (counted after the fill). */
  gcTime(ns: number): void {
    if (this.measuring) this.gcNs += ns;
  }

  /** Takes a sample of the process's resident memory for the peak. */
  noteRss(): void {
    const r = process.memoryUsage.rss();
    if (r > this.peakRss) this.peakRss = r;
  }

  /** An overwrite ended a series interval: its point. Returns the overwrite that ends the next (counted from 1). */
  sample(): number {
    const c = this.lfs.counters;
    const u = c.userBlocks - this.fill.user;
    const m = c.gcMoved;
    const du = u - this.last.user;
    const ns = this.now();
    const interval = this.interval;
    this.series.push({
      user_bytes: u * GC_BLOCK_BYTES,
      waf: du > 0 ? (du + (m - this.last.moved)) / du : 0,
      modeled_s: (ns - this.fillNs) / 1e9,
      mbps: ns > this.last.ns ? (du * GC_BLOCK_BYTES) / ((ns - this.last.ns) / 1e9) / 1e6 : 0,
      p50_us: interval.quantile(0.5) / 1e3,
      p99_us: interval.quantile(0.99) / 1e3,
      p999_us: interval.quantile(0.999) / 1e3,
      max_us: interval.max / 1e3,
      free_sections: this.lfs.freeCount,
      victims: c.victims - this.last.victims,
    });
    interval.reset();
    this.last = { user: u, moved: m, ns, victims: c.victims };
    return Math.min(this.overwrites, Math.ceil(((this.series.length + 1) * this.overwrites) / this.points));
  }

  /** The run's result: its device, the GC's commands and the logical blocks read back. */
  result(dev: RunDevice, gc: PathCounters, verified: number): GcResult {
    const wallS = (performance.now() - this.t0) / 1e3;
    this.noteRss();
    const l = this.layout;
    return gcResult({
      options: this.o,
      size: dev.size,
      zoned: l.zoned,
      sectionBlocks: l.sectionBlocks,
      sections: l.sections,
      userBlocks: l.userBlocks,
      timing: dev.timing,
      allocation: dev.allocation,
      device: dev.device,
      counters: this.lfs.counters,
      fill: this.fill,
      half: this.halfway,
      victimHistogram: this.lfs.victimHistogram,
      gc,
      modeledNs: this.endNs - this.fillNs,
      gcNs: this.gcNs,
      deviceCopy: dev.deviceCopy,
      ...(dev.copyEmulation ? { copyEmulation: dev.copyEmulation } : {}),
      ...(dev.notes ? { notes: dev.notes } : {}),
      latency: this.all,
      wallS,
      peakRss: this.peakRss,
      verified,
      series: this.series,
    });
  }
}
