/**
 * Modeled time of NVMe I/O commands (docs/timing.md): which resources of the namespace's timing
 * model a command occupies, from its parsed SQE and its result. Admin commands take no modeled
 * time. A failed command costs its controller time only.
 */
import type { Clock } from '../../src/core/time/clock.js';
import type { TimingModel } from '../timing/model.js';
import type { CmdResult } from './command.js';
import type { Sqe } from './codec.js';
import { slbaOf } from './codec.js';
import { IoOpc, NSID_BROADCAST, RW_NLB_MASK, Status, ZMS_SELECT_ALL, ZSA } from './spec.js';

export interface CommandTime {
  readonly clock: Clock;
  /** Modeled time at which the completion is posted (NaN when `later` gives it). */
  readonly at: number;
  /** A read dispatched on events (read_dispatch: event): hands its time to `cb` once its chips have got to it. */
  readonly later?: (cb: (at: number) => void) => void;
}

/** Size and zone size, in logical blocks, of a namespace. */
export interface NsGeometry {
  readonly lbs: number;
  readonly nsze: number;
  /** Zone size in logical blocks; 0: not zoned. */
  readonly zsze: number;
}

/**
 * What timing a command needs of its controller: the inline controller itself, or the host end
 * of a controller on a worker thread (worker-bar.ts), which times the commands the worker runs.
 */
export interface TimedController {
  /** The model a namespace's commands use: its own, else the controller's (nsid 0: the controller's); null: untimed. */
  timingOf(nsid: number): TimingModel | null;
  geometry(nsid: number): NsGeometry | undefined;
}

/** The model that times `cmd` (null: untimed). */
export function modelOf(ctrl: TimedController, cmd: Sqe): TimingModel | null {
  return ctrl.timingOf(cmd.nsid === NSID_BROADCAST ? 0 : cmd.nsid);
}

export function commandTime(ctrl: TimedController, cmd: Sqe, r: CmdResult): CommandTime | null {
  const nsid = cmd.nsid === NSID_BROADCAST ? 0 : cmd.nsid;
  const model = ctrl.timingOf(nsid);
  if (!model) return null;
  const clock = model.clock;
  if (r.status !== Status.SUCCESS) return { clock, at: model.discard(0, 0) };
  const ns = nsid ? ctrl.geometry(nsid) : undefined;
  const lbs = ns?.lbs ?? 512;
  const nlb = (cmd.cdw12 & RW_NLB_MASK) + 1;
  switch (cmd.opcode) {
    case IoOpc.READ:
      if (model.params.read_dispatch === 'event') {
        const off = slbaOf(cmd) * lbs;
        return { clock, at: NaN, later: (cb) => model.readThen(off, nlb * lbs, cb) };
      }
      return { clock, at: model.read(slbaOf(cmd) * lbs, nlb * lbs) };
    case IoOpc.WRITE:
      return { clock, at: model.write(slbaOf(cmd) * lbs, nlb * lbs) };
    case IoOpc.ZONE_APPEND: {
      // The LBA the controller chose comes back in DW0/DW1 (ZNS Figure 33).
      const slba = (r.dw0 ?? 0) + (r.dw1 ?? 0) * 2 ** 32;
      return { clock, at: model.write(slba * lbs, nlb * lbs) };
    }
    case IoOpc.FLUSH:
      return { clock, at: model.flush() };
    case IoOpc.COPY: {
      const sources = (r.copySources ?? []).map((c) => ({ model: ctrl.timingOf(c.nsid) ?? model, offset: c.offset, length: c.length }));
      const dst = slbaOf(cmd) * lbs;
      return { clock, at: model.copy(sources, dst) };
    }
    case IoOpc.ZONE_MGMT_SEND: {
      if (ns && ns.zsze > 0 && (cmd.cdw13 & 0xff) === ZSA.RESET) {
        const zoneBytes = ns.zsze * lbs;
        if (cmd.cdw13 & ZMS_SELECT_ALL) return { clock, at: model.erase(0, ns.nsze * lbs) };
        return { clock, at: model.erase(slbaOf(cmd) * lbs, zoneBytes) };
      }
      return { clock, at: model.discard(0, 0) };
    }
    default:
      // Write Zeroes, Dataset Management, Zone Management Receive: mapping and metadata work.
      return { clock, at: model.discard(0, 0) };
  }
}
