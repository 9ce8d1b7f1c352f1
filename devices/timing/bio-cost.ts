/**
 * What a bio costs on a timing model: the one mapping from block-layer operations to the model's
 * resource reservations, for drivers whose device takes bios directly (nullblk). NVMe and SCSI
 * models charge their own commands (devices/nvme/, devices/scsi/).
 */
import type { Bio } from '../../src/core/block/bio.js';
import { ReqOp } from '../../src/core/block/ops.js';
import { TimingModel, type TimedSource } from './model.js';

/** Reserves the bio's work on `model` from now; returns its modeled completion time (ns). */
export function timedCost(model: TimingModel, bio: Bio): number {
  switch (bio.op) {
    case ReqOp.READ:
      return model.read(bio.offset, bio.length);
    case ReqOp.WRITE:
      return model.write(bio.offset, bio.length);
    case ReqOp.FLUSH:
      return model.flush();
    case ReqOp.DISCARD:
    case ReqOp.WRITE_ZEROES:
      return model.discard(bio.offset, bio.length);
    case ReqOp.COPY: {
      const sources: TimedSource[] = [];
      for (const s of bio.sources ?? []) {
        const m = (s.dev as { timing?: unknown }).timing;
        // A source on an untimed device costs its reads on this device's model.
        sources.push({ model: m instanceof TimingModel ? m : model, offset: s.offset, length: s.length });
      }
      return model.copy(sources, bio.offset);
    }
    default:
      return model.discard(bio.offset, bio.length);
  }
}
