/**
 * The controllers of one NVMe subsystem on their own thread: the same NvmeSubsystem,
 * NvmeController, namespaces and handlers as inline, over the lab's DMA arena in shared memory.
 * Controllers arrive on the port (each with the namespaces its entry defines and its registers,
 * worker-regs.ts). The thread watches the controllers' doorbell registers: while busy it polls
 * them, then spins only as long as that pays (src/core/block/adaptive-spin.ts), then sleeps with
 * Atomics.wait after announcing NEED_WAKEUP. Each doorbell change is handed to its controller as
 * the inline host's register write would be; a controller's interrupts bump the lab's completion
 * doorbell.
 */
import { workerData, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { AdaptiveSpin } from '../src/core/block/adaptive-spin.js';
import { spinThenPark, type Parking } from '../src/core/thread/park.js';
import { holdLifeline } from '../src/core/thread/lifeline.js';
import { crashThread, type CrashHow } from '../src/core/thread/crash.js';
import { DOORBELL } from '../src/core/block/completion-poller.js';
import { DmaArena } from '../devices/nvme/dma.js';
import { NvmeSubsystem } from '../devices/nvme/subsystem.js';
import { NvmeNamespace } from '../devices/nvme/namespace.js';
import { NvmeController } from '../devices/nvme/controller.js';
import { NVME_LIMITS } from '../devices/nvme/defaults.js';
import { CSTS, DOORBELL_QUEUES, REG, REG_FLAG, REG_STATE, STAT, STATS_OFFSET, THREAD, type NvmeThreadFault, type NvmeWorkerController, type NvmeWorkerData } from '../devices/nvme/worker-regs.js';

const data = workerData as NvmeWorkerData & { port: MessagePort };
const thread = new Int32Array(data.thread);
const doorbell = new Int32Array(data.doorbell);
const arena = new DmaArena(data.arena.byteLength, data.arena);
const subsystem = new NvmeSubsystem(data.subsystem);
/** Longest single sleep; the loop re-checks STOP after it. */
const PARK_MS = 1000;
/** Arbitration passes per doorbell event (each runs up to the controller's own per-pass limit). */
const MAX_PASSES = 1024;
/** Controllers one subsystem thread runs (a limit on everything: one per CNTLID the lab gives out). */
const MAX_CONTROLLERS = 64;

/** One controller on this thread: its registers as it last saw them. */
class Port {
  readonly regs: Int32Array;
  readonly statWords: Float64Array;
  readonly ctrl: NvmeController;
  private readonly sqTails = new Int32Array(DOORBELL_QUEUES);
  private readonly cqHeads = new Int32Array(DOORBELL_QUEUES);
  private enabled = false;
  private seen = 0;
  private raised = false;

  constructor(c: NvmeWorkerController) {
    this.regs = new Int32Array(c.regs);
    this.statWords = new Float64Array(c.regs, STATS_OFFSET, STAT.COUNT);
    const o = c.options;
    // The namespaces this controller entry defines join the subsystem, as inline (NSIDs fixed by the host).
    for (const nso of o.namespaces) {
      const nsid = nso.nsid ?? subsystem.nextNsid();
      if (!Number.isInteger(nsid) || nsid < 1 || nsid > NVME_LIMITS.maxNamespaces) throw new RangeError(`${o.name}: nsid must be 1..${NVME_LIMITS.maxNamespaces}`);
      subsystem.addNamespace(new NvmeNamespace(nsid, nso));
    }
    // No timing model here: the host end times this controller's commands on the lab's thread (devices/nvme/host-timing.ts).
    const ctrl = new NvmeController(o.name, subsystem, arena, o);
    for (let q = 0; q < DOORBELL_QUEUES; q++) ctrl.onInterrupt(q, () => void (this.raised = true));
    this.ctrl = ctrl;
    Atomics.store(this.regs, REG.CNTLID, ctrl.cntlid);
  }

  /** Handles register writes since the last look; returns whether there were any. */
  service(): boolean {
    const ev = Atomics.load(this.regs, REG.EVENT);
    if (ev === this.seen) return false;
    this.seen = ev;
    this.applyRegisters();
    if (this.enabled) {
      // Arbitrate until a pass executes nothing new (a pass stops at the controller's own limit).
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        const before = this.ctrl.stats.commands;
        this.ctrl.runPending();
        if (this.ctrl.stats.commands === before) break;
      }
    }
    this.publish();
    return true;
  }

  /** Register writes in the order a controller would see them. */
  private applyRegisters(): void {
    const { regs, ctrl } = this;
    if (!this.enabled) {
      if (!Atomics.load(regs, REG.CC_EN)) return;
      const asq = (Atomics.load(regs, REG.ASQ_LO) >>> 0) + (Atomics.load(regs, REG.ASQ_HI) >>> 0) * 2 ** 32;
      const acq = (Atomics.load(regs, REG.ACQ_LO) >>> 0) + (Atomics.load(regs, REG.ACQ_HI) >>> 0) * 2 ** 32;
      ctrl.setAdminQueues(asq, acq, Atomics.load(regs, REG.AQA_SQ), Atomics.load(regs, REG.AQA_CQ));
      this.enabled = true;
      Atomics.store(regs, REG.CSTS, CSTS.RDY);
    }
    for (let q = 0; q < DOORBELL_QUEUES; q++) {
      const head = Atomics.load(regs, REG.DB + 2 * q + 1);
      if (head !== this.cqHeads[q]) {
        this.cqHeads[q] = head;
        ctrl.ringCqDoorbell(q, head);
      }
      const tail = Atomics.load(regs, REG.DB + 2 * q);
      if (tail !== this.sqTails[q]) {
        this.sqTails[q] = tail;
        ctrl.ringSqDoorbell(q, tail);
      }
    }
  }

  private publish(): void {
    const s = this.ctrl.stats;
    const w = this.statWords;
    w[STAT.COMMANDS] = s.commands;
    w[STAT.ERRORS] = s.errors;
    w[STAT.DMA_BYTES] = s.dma_bytes;
    w[STAT.COPY_BYTES] = s.copy_bytes;
    Atomics.store(this.regs, REG.NSQR, this.ctrl.numQueues.nsqr);
    if (!this.raised) return;
    this.raised = false;
    Atomics.add(this.regs, REG.IRQ, 1);
    Atomics.notify(this.regs, REG.IRQ);
    Atomics.add(doorbell, DOORBELL.COUNTER, 1);
    if (Atomics.load(doorbell, DOORBELL.WAITING)) Atomics.notify(doorbell, DOORBELL.COUNTER);
  }
}

const ports: Port[] = [];

// On the way out (process.exit, an uncaught exception): every controller reports fatal status
// (CSTS.CFS, Base 3.1.3.6) and a host waiting at probe time wakes; the lifeline says the thread is gone.
holdLifeline(data.lifeline, () => {
  for (const p of ports) {
    Atomics.store(p.regs, REG.CSTS, CSTS.FATAL);
    Atomics.add(p.regs, REG.IRQ, 1);
    Atomics.notify(p.regs, REG.IRQ);
  }
});

/** An injected crash waiting for the next controller (fault-injection tests). */
let crashNext: CrashHow | null = null;

/** Controllers posted on the port since the last look (each before its first register write). */
function admit(): void {
  for (let m = receiveMessageOnPort(data.port); m; m = receiveMessageOnPort(data.port)) {
    const fault = m.message as Partial<NvmeThreadFault>;
    if (fault.crash !== undefined) {
      crashNext = fault.crash;
      continue;
    }
    // Outside the try below: the crash must escape as a defect would.
    if (crashNext !== null) crashThread(crashNext);
    const c = m.message as NvmeWorkerController;
    const regs = new Int32Array(c.regs);
    try {
      if (ports.length >= MAX_CONTROLLERS) throw new RangeError(`at most ${MAX_CONTROLLERS} controllers per subsystem thread`);
      ports.push(new Port(c));
    } catch (err) {
      // The host's probe sees CSTS.CFS-like fatal status and gives up with the reason on stderr.
      process.emitWarning(`nvme worker: ${(err as Error).message}`);
      Atomics.store(regs, REG.CSTS, CSTS.FATAL);
      Atomics.add(regs, REG.IRQ, 1);
      Atomics.notify(regs, REG.IRQ);
    }
  }
}

let seen = -1;
const spin = new AdaptiveSpin(Math.max(0, data.idleMicros));
const stopping = (): boolean => Atomics.load(thread, THREAD.STATE) === REG_STATE.STOP;
const hasWork = (): boolean => Atomics.load(thread, THREAD.WAKE) !== seen || stopping();
const parking: Parking = { flag: { words: thread, index: THREAD.FLAGS, value: REG_FLAG.NEED_WAKEUP }, on: { words: thread, index: THREAD.WAKE }, seen: () => seen, maxMs: PARK_MS };

for (;;) {
  const wake = Atomics.load(thread, THREAD.WAKE);
  if (wake !== seen) {
    seen = wake;
    admit();
    // Until no controller has new register writes: one may have rung while another ran.
    for (let busy = true; busy; ) {
      busy = false;
      for (const p of ports) if (p.service()) busy = true;
    }
    continue;
  }
  if (stopping()) break;
  spinThenPark(spin, hasWork, parking);
}
data.port.close();
