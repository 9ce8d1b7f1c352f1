/**
 * An NVMe controller (Base 3): its admin and I/O queue pairs in host memory, doorbells, command
 * arbitration (round robin over submission queues, Base 3.4.4.1) and the dispatch of each
 * command to its handler. Commands are fetched from the arena, parsed, executed against the
 * namespaces, and completed into the completion queue with the phase tag; the host learns of
 * completions through the interrupt callback of the completion queue.
 *
 * Processing runs on a microtask after a doorbell write, so the commands a host queues in one
 * turn are arbitrated together, as a device that fetches several entries at a time would.
 * Modeled time (docs/timing.md) is given to I/O commands in the order their doorbells were
 * written, subsystem-wide (command-timer.ts), whatever order arbitration runs them in.
 */
import type { DmaArena } from './dma.js';
import { walkPrps, gather, scatter } from './dma.js';
import { parseSqe, writeCqe, type Sqe } from './codec.js';
import { cqFull, sqEmpty, type CompletionQueue, type SubmissionQueue } from './queues.js';
import { AdminOpc, CQE_SIZE, ERR_LOG, NSID_BROADCAST, NVME_PAGE_SIZE, SQE_SIZE, Status } from './spec.js';
import type { NvmeSubsystem } from './subsystem.js';
import type { NvmeNamespace } from './namespace.js';
import { NVME_DEFAULTS, NVME_LIMITS, type NvmeControllerOptions } from './defaults.js';
import { adminCommand } from './admin.js';
import { ioCommand } from './io.js';
import { fail, type CmdResult } from './command.js';
import type { TimingModel } from '../timing/model.js';
import { commandTime, modelOf, type NsGeometry, type TimedController } from './timing.js';

/** Commands executed per doorbell pass before yielding (a limit on loop counts). */
const MAX_COMMANDS_PER_PASS = 4096;

interface ErrorEntry {
  readonly count: number;
  readonly sqid: number;
  readonly cid: number;
  readonly status: number;
  readonly nsid: number;
}

export interface ControllerStats {
  commands: number;
  errors: number;
  /** Bytes the controller moved between its media and the host arena. */
  dma_bytes: number;
  /** Bytes copied inside the device by Copy commands. */
  copy_bytes: number;
}

export class NvmeController implements TimedController {
  readonly cntlid: number;
  readonly mdts: number;
  readonly zasl: number;
  readonly ocfs: number;
  readonly fastCopy: 'all' | 'same-namespace';
  readonly maxIoQueues: number;
  readonly serial: string;
  readonly stats: ControllerStats = { commands: 0, errors: 0, dma_bytes: 0, copy_bytes: 0 };
  /** Host Behavior Support CDFE (bit n enables descriptor format n). */
  cdfe = 0;
  /**
   * The controller's timing model (docs/timing.md): I/O commands complete at their modeled time.
   * Inline only: a controller on a worker thread is timed by its host end (worker-bar.ts).
   */
  timing: TimingModel | null = null;
  /** Number of Queues feature, as last set (0-based counts). */
  numQueues = { nsqr: 0, ncqr: 0 };
  private readonly sqs = new Map<number, SubmissionQueue>();
  private readonly cqs = new Map<number, CompletionQueue>();
  private readonly irq = new Map<number, () => void>();
  private readonly errors: ErrorEntry[] = [];
  private errorCount = 0;
  private scheduled = false;
  private rr = 0;
  /** Per I/O submission queue, each entry's number in the subsystem's timing order, stamped at its doorbell. */
  private readonly order = new Map<number, Float64Array>();

  constructor(readonly name: string, readonly subsystem: NvmeSubsystem, readonly arena: DmaArena, o: NvmeControllerOptions) {
    this.cntlid = subsystem.allocCntlid();
    this.mdts = o.mdts ?? NVME_DEFAULTS.mdts;
    this.zasl = o.zasl ?? NVME_DEFAULTS.zasl;
    this.ocfs = (o.copy_formats ?? NVME_DEFAULTS.copy_formats).reduce((m, f) => m | (1 << f), 0);
    this.fastCopy = o.fast_copy ?? NVME_DEFAULTS.fast_copy;
    this.maxIoQueues = NVME_LIMITS.maxIoQueues;
    this.serial = o.serial || `CL${String(this.cntlid).padStart(4, '0')}${name}`;
  }

  /** Largest data transfer in bytes (MDTS, Base Figure 275). */
  get maxTransfer(): number {
    return NVME_PAGE_SIZE << this.mdts;
  }

  /** Zone Append size limit in bytes (ZASL; 0 means MDTS). */
  get maxAppend(): number {
    return NVME_PAGE_SIZE << (this.zasl || this.mdts);
  }

  namespace(nsid: number): NvmeNamespace | undefined {
    return this.subsystem.namespaces.get(nsid);
  }

  /** AQA/ASQ/ACQ (Base 3.1.3.8-10): the host places the admin queues and enables the controller. */
  setAdminQueues(asq: number, acq: number, sqEntries: number, cqEntries: number): void {
    if (sqEntries < 2 || cqEntries < 2 || sqEntries > 4096 || cqEntries > 4096) throw new RangeError('admin queues take 2..4096 entries');
    this.cqs.set(0, { qid: 0, base: acq, size: cqEntries, tail: 0, head: 0, phase: 1 });
    this.sqs.set(0, { qid: 0, base: asq, size: sqEntries, cqid: 0, head: 0, tail: 0 });
  }

  /** The host's interrupt handler for a completion queue (MSI-X vector, reduced). */
  onInterrupt(cqid: number, fn: () => void): void {
    this.irq.set(cqid, fn);
  }

  // ── queue creation (admin commands call these) ──
  createCq(qid: number, base: number, size: number): number {
    if (qid === 0 || qid > this.maxIoQueues || this.cqs.has(qid)) return Status.INVALID_QID;
    if (size < 2 || size > NVME_LIMITS.maxQueueDepth) return Status.INVALID_QSIZE;
    if (base % NVME_PAGE_SIZE || !this.arena.view(base, size * CQE_SIZE)) return Status.INVALID_FIELD;
    this.cqs.set(qid, { qid, base, size, tail: 0, head: 0, phase: 1 });
    return Status.SUCCESS;
  }

  createSq(qid: number, base: number, size: number, cqid: number): number {
    if (qid === 0 || qid > this.maxIoQueues || this.sqs.has(qid)) return Status.INVALID_QID;
    if (size < 2 || size > NVME_LIMITS.maxQueueDepth) return Status.INVALID_QSIZE;
    if (cqid === 0 || !this.cqs.has(cqid)) return Status.INVALID_CQ;
    if (base % NVME_PAGE_SIZE || !this.arena.view(base, size * SQE_SIZE)) return Status.INVALID_FIELD;
    this.sqs.set(qid, { qid, base, size, cqid, head: 0, tail: 0 });
    this.order.set(qid, new Float64Array(size));
    return Status.SUCCESS;
  }

  deleteSq(qid: number): number {
    const sq = this.sqs.get(qid);
    if (qid === 0 || !sq) return Status.INVALID_QID;
    // Entries rung but never fetched are gone (Base 3.3.1.3): later commands are not timed after them.
    const order = this.order.get(qid)!;
    for (let s = sq.head; s !== sq.tail; s = (s + 1) % sq.size) this.subsystem.timer.drop(order[s]!);
    this.sqs.delete(qid);
    this.order.delete(qid);
    return Status.SUCCESS;
  }

  deleteCq(qid: number): number {
    if (qid === 0 || !this.cqs.has(qid)) return Status.INVALID_QID;
    for (const sq of this.sqs.values()) if (sq.cqid === qid) return Status.INVALID_QUEUE_DELETION;
    this.cqs.delete(qid);
    return Status.SUCCESS;
  }

  // ── doorbells (Base 3.1.4.x SQyTDBL / CQyHDBL) ──
  ringSqDoorbell(qid: number, tail: number): void {
    const sq = this.sqs.get(qid);
    if (!sq || !Number.isInteger(tail) || tail < 0 || tail >= sq.size) return; // an invalid doorbell write is ignored (an asynchronous error on hardware)
    const order = this.order.get(qid);
    if (order) for (let s = sq.tail; s !== tail; s = (s + 1) % sq.size) order[s] = this.subsystem.timer.stamp();
    sq.tail = tail;
    this.schedule();
  }

  ringCqDoorbell(qid: number, head: number): void {
    const cq = this.cqs.get(qid);
    if (!cq || !Number.isInteger(head) || head < 0 || head >= cq.size) return;
    cq.head = head;
    this.schedule();
  }

  /**
   * Inline mode: runs every pending command now, on the caller's turn (ARCHITECTURE: device
   * queues run inline or in a worker, same device code either way). A host uses it where it must
   * be synchronous, such as probing the controller when a device is added.
   */
  runPending(): void {
    this.process();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.process();
    });
  }

  /** Round-robin arbitration: one command from each non-empty submission queue per round. */
  private process(): void {
    const raised = new Set<number>();
    let done = 0;
    for (;;) {
      let progress = false;
      const qids = [...this.sqs.keys()].sort((a, b) => a - b);
      for (let k = 0; k < qids.length; k++) {
        const sq = this.sqs.get(qids[(this.rr + k) % qids.length]!)!;
        const cq = this.cqs.get(sq.cqid);
        if (!cq || sqEmpty(sq) || cqFull(cq)) continue;
        this.runOne(sq, cq);
        raised.add(cq.qid);
        progress = true;
        if (++done >= MAX_COMMANDS_PER_PASS) break;
      }
      this.rr++;
      if (!progress || done >= MAX_COMMANDS_PER_PASS) break;
    }
    for (const q of raised) this.irq.get(q)?.();
    if (done >= MAX_COMMANDS_PER_PASS) this.schedule();
  }

  private runOne(sq: SubmissionQueue, cq: CompletionQueue): void {
    const slot = sq.head;
    const raw = this.arena.view(sq.base + slot * SQE_SIZE, SQE_SIZE);
    sq.head = (sq.head + 1) % sq.size;
    const cmd = parseSqe(raw ?? new Uint8Array(SQE_SIZE));
    let r: CmdResult;
    try {
      r = raw ? (sq.qid === 0 ? adminCommand({ ctrl: this, sqid: sq.qid, cmd }) : ioCommand({ ctrl: this, sqid: sq.qid, cmd })) : fail(Status.DATA_TRANSFER_ERROR);
    } catch (err) {
      // A model bug must not take the host down: the command fails with Internal Error.
      process.emitWarning(`${this.name}: opcode 0x${cmd.opcode.toString(16)} threw: ${String(err)}`);
      r = fail(Status.INTERNAL_ERROR);
    }
    this.stats.commands++;
    if (r.status !== Status.SUCCESS) this.logError(sq.qid, cmd, r.status);
    if (sq.qid === 0) return this.post(sq, cq, cmd.cid, r);
    const seq = this.order.get(sq.qid)![slot]!;
    if (!modelOf(this, cmd)) {
      this.subsystem.timer.drop(seq);
      return this.post(sq, cq, cmd.cid, r);
    }
    // Modeled time: the command's effects are done; it is timed in doorbell order and its
    // completion posted when the model says.
    cq.reserved = (cq.reserved ?? 0) + 1;
    this.subsystem.timer.done(seq, () => {
      const t = commandTime(this, cmd, r)!;
      const deliver = (at: number): void => {
        t.clock.at(at, () => {
          cq.reserved!--;
          if (this.cqs.get(cq.qid) !== cq) return; // the queue was deleted meanwhile
          this.post(sq, cq, cmd.cid, r);
          this.irq.get(cq.qid)?.();
          this.schedule(); // a full CQ may have held commands back
        });
      };
      if (t.later) t.later(deliver);
      else deliver(t.at);
    });
  }

  private post(sq: SubmissionQueue, cq: CompletionQueue, cid: number, r: CmdResult): void {
    const slot = this.arena.view(cq.base + cq.tail * CQE_SIZE, CQE_SIZE);
    if (!slot) return;
    writeCqe(slot, { dw0: r.dw0 ?? 0, dw1: r.dw1 ?? 0, sqhd: sq.head, sqid: sq.qid, cid, phase: cq.phase, status: r.status, dnr: r.dnr ?? false });
    cq.tail = (cq.tail + 1) % cq.size;
    if (cq.tail === 0) cq.phase ^= 1;
  }

  /** The timing model a namespace's commands use: its own, else the controller's. */
  timingOf(nsid: number): TimingModel | null {
    return this.namespace(nsid)?.timing ?? this.timing;
  }

  /** A namespace's size and zone size in logical blocks. */
  geometry(nsid: number): NsGeometry | undefined {
    const ns = this.namespace(nsid);
    return ns ? { lbs: ns.lbs, nsze: ns.nsze, zsze: ns.zones?.cfg.zsze ?? 0 } : undefined;
  }

  private logError(sqid: number, cmd: Sqe, status: number): void {
    this.stats.errors++;
    this.errorCount++;
    this.errors.unshift({ count: this.errorCount, sqid, cid: cmd.cid, status, nsid: cmd.nsid });
    if (this.errors.length > NVME_DEFAULTS.error_log_entries) this.errors.pop();
  }

  /** Error Information log entries, newest first (Base 5.16.1.2). */
  errorLog(): Uint8Array {
    const out = new Uint8Array(ERR_LOG.SIZE * NVME_DEFAULTS.error_log_entries);
    const v = new DataView(out.buffer);
    this.errors.forEach((e, i) => {
      const o = i * ERR_LOG.SIZE;
      v.setBigUint64(o + ERR_LOG.COUNT, BigInt(e.count), true);
      v.setUint16(o + ERR_LOG.SQID, e.sqid, true);
      v.setUint16(o + ERR_LOG.CID, e.cid, true);
      v.setUint16(o + ERR_LOG.STATUS, ((e.status & 0xff) << 1) | (((e.status >> 8) & 7) << 9), true);
      v.setUint16(o + ERR_LOG.PEL, 0xffff, true);
      v.setUint32(o + ERR_LOG.NSID, e.nsid === NSID_BROADCAST ? 0 : e.nsid, true);
    });
    return out;
  }

  // ── data transfer for handlers ──
  /** Host → controller: `len` bytes through the command's PRPs, or a status. */
  h2c(cmd: Sqe, len: number): Uint8Array | number {
    const segs = walkPrps(this.arena, cmd.prp1, cmd.prp2, len);
    if (segs === 'offset') return Status.PRP_OFFSET_INVALID;
    if (segs === 'fault') return Status.DATA_TRANSFER_ERROR;
    const out = new Uint8Array(len);
    gather(segs, out);
    this.stats.dma_bytes += len;
    return out;
  }

  /** Controller → host: `data` into the command's PRPs; a status. */
  c2h(cmd: Sqe, data: Uint8Array): number {
    const segs = walkPrps(this.arena, cmd.prp1, cmd.prp2, data.length);
    if (segs === 'offset') return Status.PRP_OFFSET_INVALID;
    if (segs === 'fault') return Status.DATA_TRANSFER_ERROR;
    scatter(segs, data);
    this.stats.dma_bytes += data.length;
    return Status.SUCCESS;
  }

  /** Segments of the command's data (for reads and writes that move media straight to host pages). */
  segments(cmd: Sqe, len: number): Uint8Array[] | number {
    const segs = walkPrps(this.arena, cmd.prp1, cmd.prp2, len);
    if (segs === 'offset') return Status.PRP_OFFSET_INVALID;
    if (segs === 'fault') return Status.DATA_TRANSFER_ERROR;
    this.stats.dma_bytes += len;
    return segs;
  }

  /** Admin opcodes this controller executes (for the effects log). */
  static readonly ADMIN_OPCODES: readonly number[] = Object.values(AdminOpc);
}
