/**
 * Modeled time of a controller that runs on a worker thread, kept on the lab's thread
 * (docs/timing.md): the worker moves the bytes and posts each CQE at once; the host end of the
 * controller (worker-bar.ts) times the command here, from the SQE the host wrote and the CQE it
 * reaped, with the same code and the same models as an inline controller (timing.ts), in the
 * same order (command-timer.ts), and finishes the command at that time on the lab's clock. So a
 * read dispatched on events (read_dispatch: event), whose time is known only once its chip gets
 * to it, is timed on a worker as inline, and modeled times do not depend on wall time.
 */
import type { TimingModel } from '../timing/model.js';
import type { CommandTimer } from './command-timer.js';
import { decodeRanges, parseCopyCmd, parseSqe, type Cqe, type Sqe } from './codec.js';
import type { CmdResult } from './command.js';
import { gather, walkPrps, type DmaArena } from './dma.js';
import type { NsInfo } from './host.js';
import { descSize, IoOpc, Status } from './spec.js';
import { commandTime, modelOf, type NsGeometry, type TimedController } from './timing.js';

/** The models of one subsystem on a worker, shared by the host ends of its controllers. */
export interface SubsystemTiming {
  /** The subsystem's timing order (every controller's I/O doorbells). */
  readonly timer: CommandTimer;
  /** Namespaces with a timing model of their own, by NSID. */
  readonly namespaces: Map<number, TimingModel>;
}

/** Command identifiers per queue: CID is 16 bits (Base 4.2, Common Command Format). */
const CID_SPACE = 1 << 16;

interface Stamped {
  readonly seq: number;
  readonly cmd: Sqe;
}

export class HostTiming implements TimedController {
  /** I/O commands on the worker: their place in the timing order and their SQE, by queue and CID. */
  private readonly stamped = new Map<number, Stamped>();
  private infos: () => readonly NsInfo[] = () => [];

  constructor(
    private readonly arena: DmaArena,
    private readonly sub: SubsystemTiming,
    /** The controller's own model (commands to NSID 0, namespaces without their own). */
    private readonly ctrlModel: TimingModel | null,
  ) {}

  /** What Identify told the host of the namespaces (after the host's probe). */
  bindNamespaces(infos: () => readonly NsInfo[]): void {
    this.infos = infos;
  }

  timingOf(nsid: number): TimingModel | null {
    return (nsid && this.sub.namespaces.get(nsid)) || this.ctrlModel;
  }

  geometry(nsid: number): NsGeometry | undefined {
    const ns = this.infos().find((n) => n.nsid === nsid);
    return ns ? { lbs: ns.lbs, nsze: ns.nsze, zsze: ns.zoned?.zsze ?? 0 } : undefined;
  }

  /** The host wrote `sqe` to I/O queue `qid` and rings its doorbell next: its place in the order. */
  submitted(qid: number, cid: number, sqe: Uint8Array): void {
    // Admin commands take no modeled time; nor does anything while no model exists (an untimed subsystem).
    if (qid === 0 || (!this.ctrlModel && this.sub.namespaces.size === 0)) return;
    this.stamped.set(qid * CID_SPACE + cid, { seq: this.sub.timer.stamp(), cmd: parseSqe(sqe) });
  }

  /**
   * The host reaped `cqe`: `finish` runs at the command's modeled completion time, once every
   * command rung before it has been timed; at once for an admin or untimed command.
   */
  finishAt(qid: number, cqe: Cqe, finish: () => void): void {
    const key = qid * CID_SPACE + cqe.cid;
    const s = this.stamped.get(key);
    if (!s) return finish();
    this.stamped.delete(key);
    if (!modelOf(this, s.cmd)) {
      this.sub.timer.drop(s.seq);
      return finish();
    }
    this.sub.timer.done(s.seq, () => {
      const t = commandTime(this, s.cmd, this.result(s.cmd, cqe))!;
      const deliver = (at: number): void => void t.clock.at(at, finish);
      if (t.later) t.later(deliver);
      else deliver(t.at);
    });
  }

  /** The controller is gone: nothing on it will be timed, and later commands must not wait for it. */
  abandon(): void {
    for (const s of this.stamped.values()) this.sub.timer.drop(s.seq);
    this.stamped.clear();
  }

  /** The command's result as the controller returned it; a Copy's sources read back from its descriptor list. */
  private result(cmd: Sqe, cqe: Cqe): CmdResult {
    const r = { status: cqe.status, dw0: cqe.dw0, dw1: cqe.dw1 };
    if (cmd.opcode !== IoOpc.COPY || cqe.status !== Status.SUCCESS) return r;
    return { ...r, copySources: this.copySources(cmd) };
  }

  /**
   * The extents a successful Copy read (NVM 3.2.2): its descriptor list is still in the host's
   * pages until the command finishes. Formats 2 and 3 name each range's namespace; a copy that
   * succeeded had every source at the destination's LBA size (else 0185h).
   */
  private copySources(cmd: Sqe): CmdResult['copySources'] {
    const c = parseCopyCmd(cmd);
    const len = c.nr * descSize(c.format);
    const segs = walkPrps(this.arena, cmd.prp1, cmd.prp2, len);
    if (typeof segs === 'string') return [];
    const list = new Uint8Array(len);
    gather(segs, list);
    const lbs = this.geometry(cmd.nsid)?.lbs ?? 512;
    const named = c.format === 2 || c.format === 3;
    return decodeRanges(c.format, list, c.nr).map((r) => ({ nsid: named ? r.snsid : cmd.nsid, offset: r.slba * lbs, length: r.nlb * lbs }));
  }
}
