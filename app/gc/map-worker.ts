/**
 * The GC map worker (src/gc/map-pipe.ts): applies the GC's moves to the logical→physical map in
 * ring order, each checked, publishing its progress every batch; spins briefly for more work,
 * then parks on the ring's write count. A bad move stops it with the move recorded for the main
 * thread to report.
 */
import { workerData } from 'node:worker_threads';
import { AdaptiveSpin } from '../../core/block/adaptive-spin.js';
import { MAP_PIPE, PIPE_CTRL, PREFAULT_STRIDE, applyMoves, verifyRange, type MapPipeData } from './map-pipe.js';
import { MAP_PHYS_MASK, TAG_LBA_BITS } from './tag.js';

const data = workerData as MapPipeData;
const ctrl = new Int32Array(data.ctrl);
const ring = new Uint32Array(data.ring);
const l2p = new Uint32Array(data.l2p, 0, data.l2pLength);
const tags = new Uint32Array(data.tags);
const mask = ring.length / 3 - 1;
const spin = new AdaptiveSpin(MAP_PIPE.spinUs);
let applied = Atomics.load(ctrl, PIPE_CTRL.APPLIED);
let written = applied;
const more = (): boolean => {
  written = Atomics.load(ctrl, PIPE_CTRL.WRITTEN);
  return written !== applied || Atomics.load(ctrl, PIPE_CTRL.STOP) !== 0 || Atomics.load(ctrl, PIPE_CTRL.VERIFY_STATE) === 1;
};

// The map and the tags are new memory: touching a word of each page here (an atomic no-op, so no
// write of the main thread is lost) takes the kernel's page faults off the main thread's fill,
// from the end backwards (the fill starts at the beginning), until the two meet.
for (let i = Math.floor((l2p.length - 1) / PREFAULT_STRIDE) * PREFAULT_STRIDE, j = Math.floor((tags.length - 1) / PREFAULT_STRIDE) * PREFAULT_STRIDE; i >= 0; i -= PREFAULT_STRIDE, j -= PREFAULT_STRIDE) {
  // Stop where the fill has been: its pages are mapped already.
  if (Atomics.or(l2p, i, 0) !== 0) break;
  Atomics.or(tags, j, 0);
}

let failed = false;
while (!failed) {
  if (!spin.spin(more)) {
    Atomics.store(ctrl, PIPE_CTRL.WORKER_PARKED, 1);
    const t0 = performance.now();
    if (!more()) Atomics.wait(ctrl, PIPE_CTRL.WRITTEN, applied, MAP_PIPE.parkMs);
    Atomics.store(ctrl, PIPE_CTRL.WORKER_PARKED, 0);
    if (!more()) continue;
    spin.parked(performance.now() - t0);
  }
  if (written === applied && Atomics.load(ctrl, PIPE_CTRL.VERIFY_STATE) === 1) {
    const r = verifyRange(l2p, tags, ctrl[PIPE_CTRL.VERIFY_FROM]!, ctrl[PIPE_CTRL.VERIFY_TO]!);
    ctrl[PIPE_CTRL.VERIFY_BAD] = r.bad;
    ctrl[PIPE_CTRL.VERIFY_COUNT] = r.verified;
    Atomics.store(ctrl, PIPE_CTRL.VERIFY_STATE, 2);
    Atomics.notify(ctrl, PIPE_CTRL.VERIFY_STATE);
    continue;
  }
  if (written === applied) break; // STOP with nothing left
  while (written !== applied) {
    const n = Math.min((written - applied) | 0, MAP_PIPE.workerBatch);
    const to = (applied + n) | 0;
    const bad = applyMoves(ring, l2p, applied, to);
    if (bad !== -1) {
      const k = (bad & mask) * 3;
      const tag = ring[k]!;
      const lba = tag & MAP_PHYS_MASK;
      ctrl[PIPE_CTRL.FAIL_LBA] = lba;
      ctrl[PIPE_CTRL.FAIL_SRC] = ring[k + 1]!;
      ctrl[PIPE_CTRL.FAIL_FOUND] = l2p[lba] ?? 0;
      ctrl[PIPE_CTRL.FAIL_EXPECTED] = tag >>> TAG_LBA_BITS;
      Atomics.store(ctrl, PIPE_CTRL.FAILED, 1);
      Atomics.notify(ctrl, PIPE_CTRL.APPLIED);
      failed = true;
      break;
    }
    applied = to;
    Atomics.store(ctrl, PIPE_CTRL.APPLIED, applied);
    if (Atomics.load(ctrl, PIPE_CTRL.MAIN_PARKED) !== 0) Atomics.notify(ctrl, PIPE_CTRL.APPLIED);
  }
}
