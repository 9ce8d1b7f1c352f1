/**
 * A GC run on the tag-only device: build the layout, fill the user space once in order (the
 * warm-up), then N capacities of the workload's overwrites with foreground GC whenever free
 * sections fall to the reserve, every GC read checked; at the end every logical block is read
 * back and checked. One synchronous loop over typed arrays (no promise per block) so that a
 * terabyte runs in minutes. The layer's victim jobs go to a mover (mover.ts: this thread or a
 * worker's); the recorder (recorder.ts) makes the result, as on a lab device (lab-backend.ts).
 */
import { NoTimer, type GcTimer } from './cost.js';
import { ModelTimer } from './model-timer.js';
import { GcOptionError, checkGcOptions, type GcOptions } from './options.js';
import { makeLayout, type Layout } from './layout.js';
import { LogStructured, Temp } from './lfs.js';
import { DEFAULT_PATH_LIMITS, newPathCounters } from './paths.js';
import { makePolicy } from './policies.js';
import type { GcResult } from './result.js';
import { RunRecorder } from './recorder.js';
import { TagDevice } from './tag-device.js';
import { MAP_PHYS_MASK, TAG_LBA_BITS, makeTag } from './tag.js';
import { readBackFailure } from './read-back.js';
import { TraceOp, makeWorkload } from './workload.js';
import { moverModeFor, openMover, type GcMover } from './mover.js';
import type { GcHooks } from './hooks.js';
import { makeTimer } from './timing-spec.js';

/** User writes whose map and SIT entries are prefetched together (lfs.ts prefetch). */
const PREFETCH_WRITES = 256;

export function layoutOf(o: GcOptions): Layout {
  return makeLayout({
    bytes: o.size,
    spareFactor: o.spareFactor,
    segsPerSection: o.segsPerSection,
    ...(o.zoneBytes !== undefined ? { zoneBytes: o.zoneBytes, zoneCapacityBytes: o.zoneCapacityBytes ?? o.zoneBytes } : {}),
  });
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
  const rec = new RunRecorder(o, layout, lfs, () => timer.now(), t0);
  const gc = newPathCounters();
  const tags = dev.tags;
  const U = layout.userBlocks;
  const resets = lfs.resetQueue;
  const lastTag = lfs.lastTagBuf;
  rec.noteRss();

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
    if (timed) rec.gcTime(timer.now() - start);
  };

  // Warm-up: every logical block once, in order (the fill is not part of the WAF).
  const progressEvery = 1 << 20;
  const total = rec.total;
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

  // Overwrites, sampled into a series.
  let nextSample = rec.fillDone();
  const n = rec.overwrites;
  const half = rec.half;
  // The workload's next operations, a chunk at a time, so that their map entries are prefetched.
  const ahead = new Int32Array(PREFETCH_WRITES);
  const aheadOp = new Uint8Array(PREFETCH_WRITES);
  const aheadTemp = new Uint8Array(PREFETCH_WRITES);
  let aheadLen = 0;
  let aheadAt = 0;
  for (let i = 0; i < n; i++) {
    if (i === half) rec.atHalf();
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
        rec.latency(c - issued);
      }
    } else if (op === TraceOp.DISCARD) lfs.trim(lba);
    if (++done % progressEvery === 0) {
      hooks.onProgress?.(done / total);
      rec.noteRss();
    }
    if (i + 1 === nextSample || i + 1 === n) nextSample = rec.sample();
  }
  hooks.onProgress?.(1);
  rec.overwritesDone();

  // Every logical block reads back its latest write.
  mover.drain();
  mover.totals(gc);
  const { verified, bad } = mover.verify(0, U);
  if (bad >= 0) {
    const e = lfs.l2p[bad]!;
    const p = e & MAP_PHYS_MASK;
    throw readBackFailure(bad, p, tags[p]!, makeTag(bad, e >>> TAG_LBA_BITS));
  }
  const allocation = timer instanceof ModelTimer ? timer.params.allocation : 'frontier';
  return rec.result({ size: o.size, timing: timer.preset, allocation, device: 'tag-only', deviceCopy: timer.deviceCopy() }, gc, verified);
}
