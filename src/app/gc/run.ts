/**
 * A GC run on the tag-only device: build the layout, fill the user space once in order (the
 * warm-up), then N capacities of the workload's overwrites with foreground GC whenever free
 * sections fall to the reserve, every GC read checked; at the end every logical block is read
 * back and checked. One synchronous loop over typed arrays (no promise per block) so that a
 * terabyte runs in minutes.
 */
import { GC_BLOCK_BYTES } from './constants.js';
import { NoTimer, type GcTimer } from './cost.js';
import { ModelTimer } from './model-timer.js';
import { resolveTiming, type AllocationName } from '../../../devices/timing/params.js';
import { GcOptionError } from './options.js';
import { makeLayout, type Layout } from './layout.js';
import { LogStructured, Temp } from './lfs.js';
import { LatencyHistogram } from './histogram.js';
import { checkGcOptions, type GcOptions } from './options.js';
import { DEFAULT_PATH_LIMITS, newPathCounters, type PathLimits } from './paths.js';
import { makePolicy } from './policies.js';
import { gcResult, type GcResult, type GcSeriesPoint } from './result.js';
import { TagDevice } from './tag-device.js';
import { MAP_PHYS_MASK, TAG_LBA_BITS, makeTag } from './tag.js';
import { readBackFailure } from './read-back.js';
import { TraceOp, makeWorkload } from './workload.js';
import type { GcTrace } from './trace-file.js';
import type { TraceSink } from '../../core/trace/record.js';
import { moverModeFor, openMover, type GcMover, type MoverMode, type MoverStats } from './mover.js';

/** User writes whose map and SIT entries are prefetched together (lfs.ts prefetch). */
const PREFETCH_WRITES = 256;

export interface GcHooks {
  /** Called about every million blocks with the share done (0..1). */
  readonly onProgress?: (done: number) => void;
  readonly timer?: GcTimer;
  readonly trace?: GcTrace;
  readonly limits?: PathLimits;
  /** Lab devices only: every block-layer request the GC issues streams its trace events here (`--trace-out`). */
  readonly traceSink?: TraceSink;
  /**
   * Who moves the GC's blocks (mover.ts): inline (this thread) or worker (a second thread runs
   * the victim jobs, this one too when the worker falls behind; the worker also takes the page
   * faults and shares the final read-back). Default: worker for user spaces of
   * MOVER.autoMinBlocks and more, untimed; inline otherwise. The run's result is the same in both.
   */
  readonly mover?: MoverMode;
  /** Filled in at the end of a run: jobs run on each thread, how often and how long this thread waited, and the moves user writes took over from queued jobs (WorkerMover.forward). */
  readonly moverStats?: MoverStats;
}

export function layoutOf(o: GcOptions): Layout {
  return makeLayout({
    bytes: o.size,
    spareFactor: o.spareFactor,
    segsPerSection: o.segsPerSection,
    ...(o.zoneBytes !== undefined ? { zoneBytes: o.zoneBytes, zoneCapacityBytes: o.zoneCapacityBytes ?? o.zoneBytes } : {}),
  });
}

/**
 * The timer for `PRESET[,key=value…]` (timing keys as in a scenario's timing: mapping, e.g.
 * `nvmevirt-zns,dram_bytes=0`): none → no modeled time; otherwise a TimingModel on its own clock.
 */
export function makeTimer(spec: string, layout: Layout, limits: PathLimits, allocation: AllocationName = 'frontier'): GcTimer {
  let params;
  try {
    const [preset, ...kv] = spec.split(',');
    const o: Record<string, string | number> = { preset: preset! };
    for (const p of kv) {
      const m = /^([a-z_]+)=(.+)$/.exec(p.trim());
      if (!m) throw new RangeError(`expected key=value after the preset, got "${p}"`);
      o[m[1]!] = m[1] === 'link' || m[1] === 'allocation' ? m[2]! : Number(m[2]);
    }
    if (allocation !== 'frontier') {
      if (o.allocation !== undefined && o.allocation !== allocation) throw new RangeError(`allocation=${o.allocation} contradicts --allocation ${allocation}`);
      o.allocation = allocation;
    }
    params = resolveTiming(Object.keys(o).length > 1 ? (o as Parameters<typeof resolveTiming>[0]) : preset!);
  } catch (err) {
    throw new GcOptionError('--timing', (err as Error).message);
  }
  return params ? new ModelTimer(params, layout, limits) : new NoTimer();
}

export function runGc(o: GcOptions, hooks: GcHooks = {}): GcResult {
  checkGcOptions(o);
  // The tag-only device's dies exist only in its timing model (a lab device's model is its own: lab-backend.ts).
  if (o.allocation !== 'frontier' && o.timing === 'none') throw new GcOptionError('--allocation', `${o.allocation} places pages on dies: it needs a timing model (--timing)`);
  const t0 = performance.now();
  const layout = layoutOf(o);
  const limits = hooks.limits ?? DEFAULT_PATH_LIMITS;
  const timer = hooks.timer ?? makeTimer(o.timing, layout, limits, o.allocation);
  // A timed run's model takes each plan as it runs: every job on this thread.
  const timed = !(timer instanceof NoTimer);
  if (timed && hooks.mover === 'worker') throw new GcOptionError('--timing', 'a timed run moves on one thread (the model times each victim as it is moved)');
  const mode = moverModeFor(hooks.mover, layout.userBlocks, timed);
  // A worker reads the map and the tags: both in shared memory.
  const threaded = mode === 'worker';
  const dev = new TagDevice(layout, threaded);
  const lfs = new LogStructured(layout, makePolicy(o.policy, Math.round(o.ageThreshold * layout.userBlocks)), dev.tags, threaded);
  const mover = openMover(mode, lfs, dev, o, limits);
  try {
    return runOn(o, hooks, t0, layout, dev, lfs, mover, timer);
  } finally {
    if (hooks.moverStats) Object.assign(hooks.moverStats, mover.stats());
    void mover.close();
  }
}

function runOn(o: GcOptions, hooks: GcHooks, t0: number, layout: Layout, dev: TagDevice, lfs: LogStructured, mover: GcMover, timer: GcTimer): GcResult {
  const wl = makeWorkload(o.workload, layout.userBlocks, o.seed, hooks.trace);
  const timed = !(timer instanceof NoTimer);
  const gc = newPathCounters();
  const tags = dev.tags;
  const U = layout.userBlocks;
  const resets = lfs.resetQueue;
  const lastTag = lfs.lastTagBuf;
  let gcNs = 0;
  let peakRss = process.memoryUsage.rss();

  const drainResets = (): void => {
    for (const s of resets) {
      mover.resetSection(s);
      if (timed) timer.reset(s);
      gc.resets++;
    }
    resets.length = 0;
  };

  const collect = (): void => {
    // Foreground GC: clean until the reserve is back (f2fs_gc with FG_GC from f2fs_balance_fs).
    const start = timed ? timer.now() : 0;
    while (lfs.gcNeeded) {
      const at = mover.slot();
      if (!lfs.selectVictim(mover.jobs, at)) break;
      drainResets();
      const plan = mover.dispatch(at);
      if (timed) timer.advanceTo(timer.gcMoves(plan!, o.path));
    }
    if (timed) gcNs += timer.now() - start;
  };

  // Warm-up: every logical block once, in order (the fill is not part of the WAF).
  const progressEvery = 1 << 20;
  const total = U + Math.round(o.overwrites * U);
  let done = 0;
  for (let lba = 0; lba < U; ) {
    if (lfs.freeCount <= lfs.reserved) collect();
    // Untimed, the rest of the open section in one go (the same writes, without a call each).
    const k = timed ? 0 : lfs.fillRun(lba, Math.min(U - lba, progressEvery - (done % progressEvery)), Temp.WARM, tags);
    if (k === 0) {
      const p = lfs.userWrite(lba, Temp.WARM);
      if (resets.length) drainResets();
      tags[p] = lastTag[0]!;
      if (timed) timer.advanceTo(timer.userWrite(p));
    }
    const w = Math.max(k, 1);
    lba += w;
    done += w;
    if (done % progressEvery === 0) hooks.onProgress?.(done / total);
  }
  const fillUser = lfs.counters.userBlocks;
  const fillMoved = lfs.counters.gcMoved;
  const fillNs = timed ? timer.now() : 0;
  gcNs = 0;

  // Overwrites, sampled into a series.
  const n = Math.round(o.overwrites * U);
  const points = Math.min(o.seriesPoints, n);
  const series: GcSeriesPoint[] = [];
  const all = new LatencyHistogram();
  const interval = new LatencyHistogram();
  let nextSample = Math.ceil(n / points);
  let lastUser = 0;
  let lastMoved = fillMoved;
  let lastNs = fillNs;
  let lastVictims = lfs.counters.victims;
  let halfUser = 0;
  let halfMoved = 0;
  const half = Math.floor(n / 2);
  // The workload's next operations, a chunk at a time, so that their map entries are prefetched.
  const ahead = new Int32Array(PREFETCH_WRITES);
  const aheadOp = new Uint8Array(PREFETCH_WRITES);
  const aheadTemp = new Uint8Array(PREFETCH_WRITES);
  let aheadLen = 0;
  let aheadAt = 0;
  for (let i = 0; i < n; i++) {
    if (i === half) {
      halfUser = lfs.counters.userBlocks;
      halfMoved = lfs.counters.gcMoved;
    }
    if (aheadAt === aheadLen) {
      aheadLen = 0;
      aheadAt = 0;
      for (let k = Math.min(PREFETCH_WRITES, n - i); aheadLen < k; aheadLen++) {
        const l = wl.next();
        if (l < 0) break;
        ahead[aheadLen] = l;
        aheadOp[aheadLen] = wl.op;
        aheadTemp[aheadLen] = wl.temp;
      }
      if (aheadLen === 0) break;
      lfs.sink ^= lfs.prefetch(ahead, aheadLen);
    }
    const lba = ahead[aheadAt]!;
    const op = aheadOp[aheadAt]!;
    const temp = aheadTemp[aheadAt]!;
    aheadAt++;
    if (op === TraceOp.WRITE) {
      const issued = timed ? timer.now() : 0;
      if (lfs.freeCount <= lfs.reserved) collect();
      const p = lfs.userWrite(lba, temp);
      if (resets.length) drainResets();
      tags[p] = lastTag[0]!;
      if (timed) {
        const c = timer.userWrite(p);
        timer.advanceTo(c);
        all.record(c - issued);
        interval.record(c - issued);
      }
    } else if (op === TraceOp.DISCARD) lfs.trim(lba);
    if (++done % progressEvery === 0) {
      hooks.onProgress?.(done / total);
      const r = process.memoryUsage.rss();
      if (r > peakRss) peakRss = r;
    }
    if (i + 1 === nextSample || i + 1 === n) {
      const u = lfs.counters.userBlocks - fillUser;
      const m = lfs.counters.gcMoved;
      const du = u - lastUser;
      const ns = timed ? timer.now() : 0;
      series.push({
        user_bytes: u * GC_BLOCK_BYTES,
        waf: du > 0 ? (du + (m - lastMoved)) / du : 0,
        modeled_s: (ns - fillNs) / 1e9,
        mbps: ns > lastNs ? (du * GC_BLOCK_BYTES) / ((ns - lastNs) / 1e9) / 1e6 : 0,
        p50_us: interval.quantile(0.5) / 1e3,
        p99_us: interval.quantile(0.99) / 1e3,
        p999_us: interval.quantile(0.999) / 1e3,
        free_sections: lfs.freeCount,
        victims: lfs.counters.victims - lastVictims,
      });
      interval.reset();
      lastUser = u;
      lastMoved = m;
      lastNs = ns;
      lastVictims = lfs.counters.victims;
      nextSample = Math.min(n, Math.ceil(((series.length + 1) * n) / points));
    }
  }
  hooks.onProgress?.(1);

  // Every logical block reads back its latest write.
  mover.drain();
  mover.totals(gc);
  const { verified, bad } = mover.verify(0, U);
  if (bad >= 0) {
    const e = lfs.l2p[bad]!;
    const p = e & MAP_PHYS_MASK;
    throw readBackFailure(bad, p, tags[p]!, makeTag(bad, e >>> TAG_LBA_BITS));
  }

  const wall = (performance.now() - t0) / 1e3;
  const r = process.memoryUsage.rss();
  if (r > peakRss) peakRss = r;
  const modeledNs = timed ? timer.now() - fillNs : 0;
  return gcResult({
    options: o,
    size: o.size,
    zoned: layout.zoned,
    sectionBlocks: layout.sectionBlocks,
    sections: layout.sections,
    userBlocks: U,
    timing: timer.preset,
    allocation: timer instanceof ModelTimer ? timer.params.allocation : 'frontier',
    device: 'tag-only',
    counters: lfs.counters,
    fill: { user: fillUser, moved: fillMoved },
    half: { user: halfUser, moved: halfMoved },
    victimHistogram: lfs.victimHistogram,
    gc,
    modeledNs,
    gcNs,
    deviceCopy: timer.deviceCopy(),
    latency: all,
    wallS: wall,
    peakRss,
    verified,
    series,
  });
}
