/**
 * The GC mover's worker (src/app/gc/worker-mover.ts; what the two share: mover-protocol.ts): runs
 * the queued victim jobs in order (snapshot → owners from the tags → map checked and rewritten →
 * tags copied → commands counted), publishing its progress after each; spins for more work, then
 * parks on the queued count. A bad move stops it: the failure goes to the main thread as a
 * message on its port, and FAILED says to look.
 */
import { workerData } from 'node:worker_threads';
import { AdaptiveSpin } from '../src/core/block/adaptive-spin.js';
import { spinThenPark, type Parking } from '../src/core/thread/park.js';
import { holdLifeline } from '../src/core/thread/lifeline.js';
import { MOVER, MOVER_CTRL, PREFAULT_STRIDE, verifyChunks, type MoverData, type MoverFailure } from '../src/app/gc/mover-protocol.js';
import { makeJobRunner } from '../src/app/gc/job-runner.js';
import { makeVerifier } from '../src/app/gc/read-back.js';
import { PATH_COUNTER_FIELDS, newPathCounters } from '../src/app/gc/paths.js';
import { GcIntegrityError } from '../src/app/gc/tag.js';

const data = workerData as MoverData;
const ctrl = new Int32Array(data.ctrl);
// An exit wakes the main thread wherever it waits (a job done, the read-back); it then reads the lifeline.
holdLifeline(data.lifeline, () => {
  Atomics.notify(ctrl, MOVER_CTRL.DONE);
  Atomics.notify(ctrl, MOVER_CTRL.VERIFY_STATE);
});
const jobs = new Uint32Array(data.jobs);
const shared = new Float64Array(data.counters);
const l2p = new Uint32Array(data.l2p, 0, data.l2pLength);
const tags = new Uint32Array(data.tags);
const counters = newPathCounters();
const verify = makeVerifier(l2p, tags);
const run = makeJobRunner(l2p, tags, data.sectionBlocks, data.path, data.limits, counters, data.inject, true);
// While jobs come (every few tens of microseconds in a GC-bound run) the worker keeps spinning
// for the next one, so that the main thread need not wake it; after MOVER.busyMs without one
// (the fill, a run without GC) it spins as briefly as the gaps teach it and parks.
const busy = new AdaptiveSpin(MOVER.spinUs, 64, () => performance.now(), MOVER.spinUs);
const idle = new AdaptiveSpin(MOVER.spinUs);
let lastJob = -Infinity;
let done = Atomics.load(ctrl, MOVER_CTRL.DONE);
let queued = done;
const more = (): boolean => {
  queued = Atomics.load(ctrl, MOVER_CTRL.QUEUED);
  return queued !== done || Atomics.load(ctrl, MOVER_CTRL.STOP) !== 0 || Atomics.load(ctrl, MOVER_CTRL.VERIFY_STATE) === 1;
};

// The map and the tags are new memory: touching a word of each page here (an atomic no-op, so no
// write of the main thread is lost) takes the kernel's page faults off the main thread's fill,
// from the end backwards (the fill starts at the beginning), until the two meet.
for (let i = Math.floor((l2p.length - 1) / PREFAULT_STRIDE) * PREFAULT_STRIDE, j = Math.floor((tags.length - 1) / PREFAULT_STRIDE) * PREFAULT_STRIDE; i >= 0; i -= PREFAULT_STRIDE, j -= PREFAULT_STRIDE) {
  // Stop where the fill has been: its pages are mapped already.
  if (Atomics.or(l2p, i, 0) !== 0) break;
  Atomics.or(tags, j, 0);
}

const parking: Parking = { flag: { words: ctrl, index: MOVER_CTRL.WORKER_PARKED, value: 1 }, on: { words: ctrl, index: MOVER_CTRL.QUEUED }, seen: () => done, maxMs: MOVER.parkMs };

const fail = (err: unknown): void => {
  const f: MoverFailure = err instanceof GcIntegrityError ? { message: err.message, lba: err.lba, physical: err.physical } : { message: `GC mover: ${(err as Error).message}`, lba: -1, physical: -1 };
  data.port.postMessage(f);
  Atomics.store(ctrl, MOVER_CTRL.FAILED, 1);
  Atomics.notify(ctrl, MOVER_CTRL.DONE);
};

for (;;) {
  const spin = performance.now() - lastJob < MOVER.busyMs ? busy : idle;
  if (!spinThenPark(spin, more, parking)) continue;
  if (queued === done) {
    if (Atomics.load(ctrl, MOVER_CTRL.VERIFY_STATE) === 1) {
      const r = verifyChunks(ctrl, verify);
      ctrl[MOVER_CTRL.VERIFY_BAD] = r.bad;
      ctrl[MOVER_CTRL.VERIFY_COUNT] = r.verified;
      Atomics.store(ctrl, MOVER_CTRL.VERIFY_STATE, 2);
      Atomics.notify(ctrl, MOVER_CTRL.VERIFY_STATE);
      continue;
    }
    break; // STOP with nothing left
  }
  try {
    while (queued !== done) {
      const at = ((done >>> 0) % data.slots) * data.slotWords;
      run(jobs, at);
      lastJob = performance.now();
      done = (done + 1) | 0;
      for (let i = 0; i < PATH_COUNTER_FIELDS.length; i++) shared[i] = counters[PATH_COUNTER_FIELDS[i]!];
      Atomics.store(ctrl, MOVER_CTRL.DONE, done);
      if (Atomics.load(ctrl, MOVER_CTRL.MAIN_PARKED) !== 0) Atomics.notify(ctrl, MOVER_CTRL.DONE);
      if (((queued - done) | 0) === 0) queued = Atomics.load(ctrl, MOVER_CTRL.QUEUED);
    }
  } catch (err) {
    fail(err);
    break;
  }
}
