/**
 * The host side of one controller (the kernel's nvme driver, reduced): it owns the admin and I/O
 * queue pairs in the DMA arena, builds 64-byte commands with PRPs, rings doorbells and reaps
 * completions by phase tag. It knows the device only through what Identify tells it.
 *
 * `passthru` is the entry point for raw commands (the ioctl NVME_IOCTL_IO_CMD / admin and the
 * io_uring URING_CMD path): a 64-byte command and a data buffer in, status and DW0/DW1 out.
 */
import type { NvmeBar } from './bar.js';
import type { DmaArena } from './dma.js';
import { allocDmaBuffer, copyFromDma, copyToDma, type DmaBuffer } from './dma.js';
import { buildSqe, parseCqe, type SqeFields } from './codec.js';
import { AdminOpc, Cns, CQE_SIZE, Csi, DataXfer, Fid, HBS, HBS_SIZE, ID_CTRL, ID_CTRL_ZNS, ID_NS, ID_NS_ZNS, IDENTIFY_SIZE, NVME_PAGE_SIZE, QUEUE_PC, SQE, SQE_SIZE, Status } from './spec.js';
import { dataView, getAscii, le64, putLe64 } from '../../src/core/util/bytes.js';

/** What a raw command returns (struct nvme_passthru_cmd's result, plus the status the kernel returns). */
export interface PassthruResult {
  /** (SCT << 8) | SC, as nvme-cli prints it; 0 on success. */
  readonly status: number;
  readonly dw0: number;
  readonly dw1: number;
  readonly dnr: boolean;
  readonly more: boolean;
  /** Controller-to-host data, when the command has any. */
  readonly data?: Uint8Array;
}

export interface PassthruRequest {
  /** Admin queue (true) or an I/O queue. */
  readonly admin: boolean;
  /** The 64-byte command. CID and the data pointer (DW6-9) are the driver's: they are overwritten. */
  readonly cmd: Uint8Array;
  /** Host-to-controller data (opcode bits 1:0 = 01b). */
  readonly data?: Uint8Array;
  /** Controller-to-host length (opcode bits 1:0 = 10b); default: data.length or 0. */
  readonly dataLen?: number;
}

/** Largest passthrough transfer (bytes); beyond it -EINVAL as the kernel's MDTS check. */
export const PASSTHRU_MAX_BYTES = 16 * 1024 * 1024;

interface Pending {
  readonly resolve: (r: PassthruResult) => void;
  readonly buf: DmaBuffer | null;
  readonly readLen: number;
}

/** One submission/completion queue pair as the host drives it. */
class HostQueuePair {
  private sqTail = 0;
  private cqHead = 0;
  private phase = 1;
  private readonly freeCids: number[];
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: { sqe: Uint8Array; p: Pending }[] = [];

  constructor(readonly host: NvmeHost, readonly qid: number, readonly sqBase: number, readonly cqBase: number, readonly size: number) {
    // size - 1 commands in flight: a full submission queue has tail + 1 == head.
    this.freeCids = Array.from({ length: size - 1 }, (_, i) => size - 2 - i);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  submit(sqe: Uint8Array, p: Pending): void {
    const cid = this.freeCids.pop();
    if (cid === undefined) {
      this.waiting.push({ sqe, p });
      return;
    }
    dataView(sqe).setUint16(SQE.CID, cid, true);
    this.pending.set(cid, p);
    this.host.arena.view(this.sqBase + this.sqTail * SQE_SIZE, SQE_SIZE)!.set(sqe);
    this.host.ctrl.submitted?.(this.qid, cid, sqe);
    this.sqTail = (this.sqTail + 1) % this.size;
    this.host.ctrl.ringSqDoorbell(this.qid, this.sqTail);
  }

  /** Commands waiting for a command identifier. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** The controller is gone: every command in flight or waiting completes with `-errno` (no CQE will come). */
  abortAll(errno: number): void {
    const victims = [...this.pending.values(), ...this.waiting.splice(0).map((w) => w.p)];
    for (const [cid, p] of this.pending) {
      this.freeCids.push(cid);
      if (p.buf) this.host.arena.freePagesAt(p.buf.owned);
    }
    this.pending.clear();
    for (const p of victims) p.resolve({ status: -errno, dw0: 0, dw1: 0, dnr: true, more: false });
  }

  /** Interrupt handler: reaps every completion whose phase tag is current (nvme_process_cq); returns how many. */
  reap(): number {
    let n = 0;
    for (; n < this.size; n++) {
      const cqe = parseCqe(this.host.arena.view(this.cqBase + this.cqHead * CQE_SIZE, CQE_SIZE)!);
      if (cqe.phase !== this.phase) break;
      this.cqHead = (this.cqHead + 1) % this.size;
      if (this.cqHead === 0) this.phase ^= 1;
      const p = this.pending.get(cqe.cid);
      if (!p) continue; // a completion for no command: ignored, as the kernel warns and drops it
      const ctrl = this.host.ctrl;
      if (ctrl.finishAt) {
        ctrl.finishAt(this.qid, cqe, () => {
          this.finish(cqe, p);
          this.submitWaiting();
        });
      }
      else this.finish(cqe, p);
    }
    if (n) this.host.ctrl.ringCqDoorbell(this.qid, this.cqHead);
    this.submitWaiting();
    return n;
  }

  /** A reaped command is done: its CID is free again, its data copied out, its pages freed. */
  private finish(cqe: ReturnType<typeof parseCqe>, p: Pending): void {
    if (this.pending.get(cqe.cid) !== p) return; // aborted meanwhile
    this.pending.delete(cqe.cid);
    this.freeCids.push(cqe.cid);
    let data: Uint8Array | undefined;
    if (p.buf) {
      if (p.readLen > 0) {
        data = new Uint8Array(p.readLen);
        copyFromDma(this.host.arena, p.buf, data);
      }
      this.host.arena.freePagesAt(p.buf.owned);
    }
    p.resolve({ status: cqe.status, dw0: cqe.dw0, dw1: cqe.dw1, dnr: cqe.dnr, more: cqe.more, ...(data ? { data } : {}) });
  }

  private submitWaiting(): void {
    while (this.waiting.length && this.freeCids.length) {
      const w = this.waiting.shift()!;
      this.submit(w.sqe, w.p);
    }
  }
}

/** What Identify told the host about a namespace. */
export interface NsInfo {
  readonly nsid: number;
  readonly nsze: number;
  readonly lbs: number;
  readonly mssrl: number;
  readonly mcl: number;
  readonly msrc: number;
  /** PI format from the NVM command-set-specific Identify Namespace (ELBAF PIF). */
  readonly pif: number;
  readonly zoned: { readonly zsze: number; readonly nrZones: number; readonly maxOpen: number; readonly maxActive: number } | null;
}

export interface CtrlInfo {
  readonly mdts: number;
  readonly oncs: number;
  readonly ocfs: number;
  readonly subnqn: string;
  readonly serial: string;
  readonly model: string;
  readonly zasl: number;
}

export class NvmeHost {
  private readonly admin: HostQueuePair;
  private readonly io: HostQueuePair[] = [];
  private rr = 0;
  info!: CtrlInfo;
  namespaces: NsInfo[] = [];
  /** Host Behavior Support CDFE as the host last set it (the kernel snoops Set Features the same way). */
  cdfe = 0;

  constructor(readonly ctrl: NvmeBar, readonly arena: DmaArena, ioQueues: number, depth: number) {
    const aq = 32;
    const asq = arena.allocContiguous(Math.ceil((aq * SQE_SIZE) / NVME_PAGE_SIZE));
    const acq = arena.allocContiguous(Math.ceil((aq * CQE_SIZE) / NVME_PAGE_SIZE));
    if (asq === null || acq === null) throw new RangeError('DMA arena too small for the admin queues');
    // Queue memory starts zeroed (the kernel's dma_alloc_coherent): a stale phase tag left by an
    // earlier user of the pages would read as a completion.
    arena.view(acq, aq * CQE_SIZE)!.fill(0);
    ctrl.setAdminQueues(asq, acq, aq, aq);
    this.admin = new HostQueuePair(this, 0, asq, acq, aq);
    ctrl.onInterrupt(0, () => this.admin.reap());
    this.probe(ioQueues, depth);
  }

  /** Synchronous admin command (probe time only): submits, runs the device inline, reaps. */
  private adminSync(f: SqeFields, readLen = 0, write?: Uint8Array): PassthruResult {
    let out: PassthruResult | undefined;
    this.passthruQueued(this.admin, { admin: true, cmd: buildSqe(f), ...(write ? { data: write } : {}), dataLen: readLen }, (r) => (out = r), true);
    this.ctrl.runPending(() => out !== undefined);
    return out ?? { status: Status.INTERNAL_ERROR, dw0: 0, dw1: 0, dnr: true, more: false };
  }

  private probe(ioQueues: number, depth: number): void {
    const idc = this.adminSync({ opcode: AdminOpc.IDENTIFY, cdw: { 10: Cns.CTRL } }, IDENTIFY_SIZE);
    if (idc.status || !idc.data) throw new Error(`Identify Controller failed with status 0x${idc.status.toString(16)}`);
    const c = idc.data;
    const v = dataView(c);
    const zns = this.adminSync({ opcode: AdminOpc.IDENTIFY, cdw: { 10: Cns.CSI_CTRL, 11: Csi.ZNS << 24 } }, IDENTIFY_SIZE);
    this.info = {
      mdts: v.getUint8(ID_CTRL.MDTS),
      oncs: v.getUint16(ID_CTRL.ONCS, true),
      ocfs: v.getUint16(ID_CTRL.OCFS, true),
      subnqn: new TextDecoder().decode(c.subarray(ID_CTRL.SUBNQN, ID_CTRL.SUBNQN + ID_CTRL.SUBNQN_LEN)).replace(/\0+$/, ''),
      serial: getAscii(c, ID_CTRL.SN, ID_CTRL.SN_LEN),
      model: getAscii(c, ID_CTRL.MN, ID_CTRL.MN_LEN),
      zasl: zns.status === 0 && zns.data ? zns.data[ID_CTRL_ZNS.ZASL]! : 0,
    };
    // Number of Queues, then one CQ and one SQ per I/O queue pair (Base 3.5.1 step 10-11).
    this.adminSync({ opcode: AdminOpc.SET_FEATURES, cdw: { 10: Fid.NUMBER_OF_QUEUES, 11: ((ioQueues - 1) << 16) | (ioQueues - 1) } });
    for (let q = 1; q <= ioQueues; q++) {
      const sqPages = Math.ceil((depth * SQE_SIZE) / NVME_PAGE_SIZE);
      const cqPages = Math.ceil((depth * CQE_SIZE) / NVME_PAGE_SIZE);
      const sq = this.arena.allocContiguous(sqPages);
      const cq = this.arena.allocContiguous(cqPages);
      if (sq === null || cq === null) throw new RangeError('DMA arena too small for the I/O queues');
      this.arena.view(cq, cqPages * NVME_PAGE_SIZE)!.fill(0);
      const rc = this.adminSync({ opcode: AdminOpc.CREATE_IO_CQ, prp1: cq, cdw: { 10: ((depth - 1) << 16) | q, 11: QUEUE_PC } });
      const rs = this.adminSync({ opcode: AdminOpc.CREATE_IO_SQ, prp1: sq, cdw: { 10: ((depth - 1) << 16) | q, 11: (q << 16) | QUEUE_PC } });
      if (rc.status || rs.status) throw new Error(`creating I/O queue ${q} failed (0x${(rc.status || rs.status).toString(16)})`);
      const pair = new HostQueuePair(this, q, sq, cq, depth);
      this.io.push(pair);
      this.ctrl.onInterrupt(q, () => pair.reap());
    }
    this.rescan();
  }

  /** Identify → the namespace list and each namespace's geometry and copy limits. */
  rescan(): void {
    const list = this.adminSync({ opcode: AdminOpc.IDENTIFY, nsid: 0, cdw: { 10: Cns.ACTIVE_NS_LIST } }, IDENTIFY_SIZE);
    const ids: number[] = [];
    if (list.data) {
      const v = dataView(list.data);
      for (let i = 0; i < IDENTIFY_SIZE / 4; i++) {
        const n = v.getUint32(i * 4, true);
        if (!n) break;
        ids.push(n);
      }
    }
    this.namespaces = ids.map((nsid) => {
      const id = this.adminSync({ opcode: AdminOpc.IDENTIFY, nsid, cdw: { 10: Cns.NS } }, IDENTIFY_SIZE).data!;
      const v = dataView(id);
      const flbas = v.getUint8(ID_NS.FLBAS) & 0xf;
      const lbads = (v.getUint32(ID_NS.LBAF0 + 4 * flbas, true) >>> 16) & 0xff;
      const nvm = this.adminSync({ opcode: AdminOpc.IDENTIFY, nsid, cdw: { 10: Cns.CSI_NS, 11: Csi.NVM << 24 } }, IDENTIFY_SIZE);
      const pif = nvm.data ? (dataView(nvm.data).getUint32(12 + 4 * flbas, true) >>> 7) & 0x3 : 0;
      const z = this.adminSync({ opcode: AdminOpc.IDENTIFY, nsid, cdw: { 10: Cns.CSI_NS, 11: Csi.ZNS << 24 } }, IDENTIFY_SIZE);
      let zoned: NsInfo['zoned'] = null;
      const nsze = le64(id, ID_NS.NSZE);
      if (z.status === 0 && z.data) {
        const zv = dataView(z.data);
        const zsze = le64(z.data, ID_NS_ZNS.LBAFE0 + ID_NS_ZNS.LBAFE_SIZE * flbas);
        const mor = zv.getUint32(ID_NS_ZNS.MOR, true);
        const mar = zv.getUint32(ID_NS_ZNS.MAR, true);
        zoned = { zsze, nrZones: Math.floor(nsze / zsze), maxOpen: mor === 0xffffffff ? 0 : mor + 1, maxActive: mar === 0xffffffff ? 0 : mar + 1 };
      }
      return {
        nsid,
        nsze,
        lbs: 2 ** lbads,
        mssrl: v.getUint16(ID_NS.MSSRL, true),
        mcl: v.getUint32(ID_NS.MCL, true),
        msrc: v.getUint8(ID_NS.MSRC),
        pif,
        zoned,
      };
    });
  }

  /** Enables copy descriptor formats (Host Behavior Support, CDFE bit n = format n), synchronously at setup. */
  setCdfe(mask: number): number {
    const hbs = new Uint8Array(HBS_SIZE);
    dataView(hbs).setUint16(HBS.CDFE, mask, true);
    const r = this.adminSync({ opcode: AdminOpc.SET_FEATURES, cdw: { 10: Fid.HOST_BEHAVIOR } }, 0, hbs);
    if (r.status === 0) this.cdfe = mask;
    return r.status;
  }

  /** An I/O queue pair, round robin (the kernel maps CPUs to queues; the lab has one CPU). */
  private ioQueue(): HostQueuePair {
    const q = this.io[this.rr % this.io.length]!;
    this.rr++;
    return q;
  }

  /** Commands in flight on every I/O queue. */
  get inFlight(): number {
    return this.io.reduce((n, q) => n + q.inFlight, 0);
  }

  /** Commands not completed yet on every queue, admin included, and those waiting for a CID. */
  get outstanding(): number {
    return [this.admin, ...this.io].reduce((n, q) => n + q.inFlight + q.waitingCount, 0);
  }

  /** The controller is gone (its worker died or was closed): every outstanding command completes with -errno. */
  abortAll(errno: number): void {
    for (const q of [this.admin, ...this.io]) q.abortAll(errno);
  }

  /**
   * Sends a raw 64-byte command and resolves with its completion; never rejects. A bad request
   * (wrong command size, data too large, no arena pages) resolves with a negative `status`
   * errno-style: -22 EINVAL, -12 ENOMEM, as the ioctl would fail before reaching the device.
   */
  passthru(req: PassthruRequest): Promise<PassthruResult> {
    return new Promise((resolve) => {
      const q = req.admin ? this.admin : this.ioQueue();
      this.passthruQueued(q, req, resolve);
    });
  }

  /** `keepDptr`: the driver's own queue-creation commands carry a queue base address in PRP1. */
  private passthruQueued(q: HostQueuePair, req: PassthruRequest, resolve: (r: PassthruResult) => void, keepDptr = false): void {
    const bad = (errno: number): void => resolve({ status: -errno, dw0: 0, dw1: 0, dnr: true, more: false });
    if (req.cmd.length !== SQE_SIZE) return bad(22);
    const sqe = new Uint8Array(req.cmd);
    const opcode = sqe[SQE.OPCODE]!;
    const xfer = opcode & 0x3;
    const writeLen = req.data?.length ?? 0;
    const readLen = xfer === DataXfer.CTRL_TO_HOST || xfer === DataXfer.BIDI ? (req.dataLen ?? writeLen) : 0;
    const len = Math.max(writeLen, readLen);
    if (len > PASSTHRU_MAX_BYTES) return bad(22);
    let buf: DmaBuffer | null = null;
    const v = dataView(sqe);
    if (len > 0) {
      buf = allocDmaBuffer(this.arena, len);
      if (!buf) return bad(12);
      if (req.data) copyToDma(this.arena, buf, req.data);
      putLe64(sqe, SQE.PRP1, buf.prp1);
      putLe64(sqe, SQE.PRP2, buf.prp2);
    } else if (!keepDptr) {
      putLe64(sqe, SQE.PRP1, 0);
      putLe64(sqe, SQE.PRP2, 0);
    }
    const snoop = req.admin && opcode === AdminOpc.SET_FEATURES && (v.getUint32(SQE.CDW10, true) & 0xff) === Fid.HOST_BEHAVIOR && req.data && req.data.length >= HBS.CDFE + 2;
    q.submit(sqe, {
      buf,
      readLen,
      resolve: (r) => {
        // nvme_passthru_end-like effects: the host notes a Host Behavior Support change it did not make itself.
        if (snoop && r.status === 0) this.cdfe = dataView(req.data!).getUint16(HBS.CDFE, true);
        resolve(r);
      },
    });
  }
}
