/**
 * An NVMe controller on its own thread: the same NvmeController, namespaces and handlers as
 * inline, over the lab's DMA arena in shared memory. The thread watches the doorbell registers
 * (worker-regs.ts): while busy it polls them, then spins only as long as that pays
 * (core/block/adaptive-spin.ts), then sleeps with Atomics.wait after announcing NEED_WAKEUP.
 * Each doorbell change is handed to the controller as the inline host's register write would
 * be; the controller's interrupts bump the lab's completion doorbell.
 */
import { workerData } from 'node:worker_threads';
import { AdaptiveSpin } from '../../core/block/adaptive-spin.js';
import { DOORBELL } from '../../core/block/completion-poller.js';
import { DmaArena } from './dma.js';
import { NvmeSubsystem } from './subsystem.js';
import { NvmeNamespace } from './namespace.js';
import { NvmeController } from './controller.js';
import { NVME_LIMITS } from './defaults.js';
import { CSTS, DOORBELL_QUEUES, DUE_STRIDE, REG, REG_FLAG, REG_STATE, STAT, STATS_OFFSET, type NvmeWorkerData } from './worker-regs.js';
import { Clock } from '../../core/time/clock.js';
import { TimingModel } from '../timing/model.js';
import { resolveTiming } from '../timing/params.js';

const data = workerData as NvmeWorkerData;
const regs = new Int32Array(data.regs);
const statWords = new Float64Array(data.regs, STATS_OFFSET, STAT.COUNT);
const doorbell = new Int32Array(data.doorbell);
/** Longest single sleep; the loop re-checks STOP after it. */
const PARK_MS = 1000;
/** Arbitration passes per doorbell event (each runs up to the controller's own per-pass limit). */
const MAX_PASSES = 1024;

/**
 * Modeled time on this thread is the lab clock's time as the host published it with the doorbell
 * write of the commands being executed (the lab's virtual clock is held until they come back).
 */
class PublishedClock extends Clock {
  override now(): number {
    return statWords[STAT.NOW]!;
  }
}

/** The controller and its own subsystem, built as the inline attach builds them (timing models included). */
function build(): NvmeController {
  const o = data.options;
  const clock = new PublishedClock();
  const sub = new NvmeSubsystem(o.subsystem ?? o.name);
  for (const nso of o.namespaces) {
    const nsid = nso.nsid ?? sub.nextNsid();
    if (!Number.isInteger(nsid) || nsid < 1 || nsid > NVME_LIMITS.maxNamespaces) throw new RangeError(`${o.name}: nsid must be 1..${NVME_LIMITS.maxNamespaces}`);
    const ns = new NvmeNamespace(nsid, nso);
    const nsTiming = resolveTiming(nso.timing);
    if (nsTiming) ns.timing = new TimingModel(nsTiming, clock);
    sub.addNamespace(ns);
  }
  const ctrl = new NvmeController(o.name, sub, new DmaArena(data.arena.byteLength, data.arena), o);
  const ctrlTiming = resolveTiming(o.timing);
  if (ctrlTiming) ctrl.timing = new TimingModel(ctrlTiming, clock);
  if (data.due) {
    const due = new Float64Array(data.due);
    ctrl.hostTimedCompletion = (sqid, cid, at) => {
      if (sqid < DOORBELL_QUEUES && cid < DUE_STRIDE) due[sqid * DUE_STRIDE + cid] = at;
    };
  }
  return ctrl;
}

let ctrl: NvmeController;
try {
  ctrl = build();
} catch (err) {
  Atomics.store(regs, REG.CSTS, CSTS.FATAL);
  Atomics.add(regs, REG.IRQ, 1);
  Atomics.notify(regs, REG.IRQ);
  throw err;
}
Atomics.store(regs, REG.CNTLID, ctrl.cntlid);

let raised = false;
for (let q = 0; q < DOORBELL_QUEUES; q++) ctrl.onInterrupt(q, () => void (raised = true));

const stopping = (): boolean => Atomics.load(regs, REG.STATE) === REG_STATE.STOP;
const sqTails = new Int32Array(DOORBELL_QUEUES);
const cqHeads = new Int32Array(DOORBELL_QUEUES);
let enabled = false;

/** Register writes since the last look, in the order a controller would see them. */
function applyRegisters(): void {
  if (!enabled) {
    if (!Atomics.load(regs, REG.CC_EN)) return;
    const asq = (Atomics.load(regs, REG.ASQ_LO) >>> 0) + (Atomics.load(regs, REG.ASQ_HI) >>> 0) * 2 ** 32;
    const acq = (Atomics.load(regs, REG.ACQ_LO) >>> 0) + (Atomics.load(regs, REG.ACQ_HI) >>> 0) * 2 ** 32;
    ctrl.setAdminQueues(asq, acq, Atomics.load(regs, REG.AQA_SQ), Atomics.load(regs, REG.AQA_CQ));
    enabled = true;
    Atomics.store(regs, REG.CSTS, CSTS.RDY);
  }
  for (let q = 0; q < DOORBELL_QUEUES; q++) {
    const head = Atomics.load(regs, REG.DB + 2 * q + 1);
    if (head !== cqHeads[q]) {
      cqHeads[q] = head;
      ctrl.ringCqDoorbell(q, head);
    }
    const tail = Atomics.load(regs, REG.DB + 2 * q);
    if (tail !== sqTails[q]) {
      sqTails[q] = tail;
      ctrl.ringSqDoorbell(q, tail);
    }
  }
}

function publish(): void {
  const s = ctrl.stats;
  statWords[STAT.COMMANDS] = s.commands;
  statWords[STAT.ERRORS] = s.errors;
  statWords[STAT.DMA_BYTES] = s.dma_bytes;
  statWords[STAT.COPY_BYTES] = s.copy_bytes;
  Atomics.store(regs, REG.NSQR, ctrl.numQueues.nsqr);
  if (!raised) return;
  raised = false;
  Atomics.add(regs, REG.IRQ, 1);
  Atomics.notify(regs, REG.IRQ);
  Atomics.add(doorbell, DOORBELL.COUNTER, 1);
  if (Atomics.load(doorbell, DOORBELL.WAITING)) Atomics.notify(doorbell, DOORBELL.COUNTER);
}

let seen = 0;
const spin = new AdaptiveSpin(Math.max(0, data.idleMicros));
const hasWork = (): boolean => Atomics.load(regs, REG.EVENT) !== seen || stopping();

for (;;) {
  const ev = Atomics.load(regs, REG.EVENT);
  if (ev !== seen) {
    seen = ev;
    applyRegisters();
    if (enabled) {
      // Arbitrate until a pass executes nothing new (a pass stops at the controller's own limit).
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        const before = ctrl.stats.commands;
        ctrl.runPending();
        if (ctrl.stats.commands === before) break;
      }
    }
    publish();
    continue;
  }
  if (stopping()) break;
  if (spin.spin(hasWork)) continue;
  Atomics.store(regs, REG.FLAGS, REG_FLAG.NEED_WAKEUP);
  const t0 = performance.now();
  if (Atomics.load(regs, REG.EVENT) === seen && !stopping()) Atomics.wait(regs, REG.EVENT, seen, PARK_MS);
  Atomics.store(regs, REG.FLAGS, 0);
  if (Atomics.load(regs, REG.EVENT) !== seen) spin.parked(performance.now() - t0);
}
