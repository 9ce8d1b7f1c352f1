/**
 * Modeled time of NVMe I/O commands (docs/timing.md): which resources of the namespace's timing
 * model a command occupies, from its parsed SQE and its result. Admin commands take no modeled
 * time. A failed command costs its controller time only.
 */
import type { Clock } from '../../src/core/time/clock.js';
import type { NvmeController } from './controller.js';
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

export function commandTime(ctrl: NvmeController, cmd: Sqe, r: CmdResult): CommandTime | null {
  const nsid = cmd.nsid === NSID_BROADCAST ? 0 : cmd.nsid;
  const model = nsid ? ctrl.timingOf(nsid) : ctrl.timing;
  if (!model) return null;
  const clock = model.clock;
  if (r.status !== Status.SUCCESS) return { clock, at: model.discard(0, 0) };
  const ns = ctrl.namespace(nsid);
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
      const sources = ctrl.timedSources(r.copySources ?? [], model);
      const dst = slbaOf(cmd) * lbs;
      return { clock, at: model.copy(sources, dst) };
    }
    case IoOpc.ZONE_MGMT_SEND: {
      const z = ns?.zones;
      if (z && (cmd.cdw13 & 0xff) === ZSA.RESET) {
        const zoneBytes = z.cfg.zsze * lbs;
        if (cmd.cdw13 & ZMS_SELECT_ALL) return { clock, at: model.erase(0, ns!.nsze * lbs) };
        return { clock, at: model.erase(slbaOf(cmd) * lbs, zoneBytes) };
      }
      return { clock, at: model.discard(0, 0) };
    }
    default:
      // Write Zeroes, Dataset Management, Zone Management Receive: mapping and metadata work.
      return { clock, at: model.discard(0, 0) };
  }
}
