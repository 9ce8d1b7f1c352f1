/**
 * Modeled time for runs too large to put every command through the timing model (the terabyte
 * bench): the per-block costs a timed run measured on the same preset, path, policy, spare factor
 * and section size — modeled nanoseconds per user write and per GC-moved block, each the run's own
 * total over the overwrite phase divided by its blocks — applied to the large run's counts. The
 * costs settle as the device grows (Sf 0.1, 2 MiB zones, nvmevirt-zns, copy: 12.98, 13.40 and
 * 13.55 µs per moved block at 256 MiB, 1 GiB and 4 GiB; 4.28 µs per user write at each), so a
 * timed run of a few GiB calibrates a terabyte one to about a percent. An estimate, reported as
 * one: the terabyte run's commands are counted, not timed.
 */
import { GC_BLOCK_BYTES } from './constants.js';
import type { GcResult } from './result.js';

export interface ModeledRates {
  readonly timing: string;
  /** Bytes of the timed run the rates come from. */
  readonly size: number;
  readonly userNsPerBlock: number;
  readonly gcNsPerMove: number;
}

export class ModeledEstimateError extends Error {}

/** The per-block costs of a timed run. */
export function modeledRates(timed: GcResult): ModeledRates {
  const user = timed.user_bytes / GC_BLOCK_BYTES;
  const moved = timed.gc_moved_bytes / GC_BLOCK_BYTES;
  if (timed.timing === 'none' || user === 0 || moved === 0) throw new ModeledEstimateError('the calibration run needs a timing model, user writes and GC moves');
  return { timing: timed.timing, size: timed.size, userNsPerBlock: ((timed.modeled_s - timed.gc_modeled_s) * 1e9) / user, gcNsPerMove: (timed.gc_modeled_s * 1e9) / moved };
}

/** Modeled seconds of `run`'s overwrite phase at `rates`, and the GC's share of them. */
export function estimateModeled(rates: ModeledRates, run: GcResult): { modeled_s: number; gc_modeled_s: number } {
  const gc = ((run.gc_moved_bytes / GC_BLOCK_BYTES) * rates.gcNsPerMove) / 1e9;
  return { modeled_s: ((run.user_bytes / GC_BLOCK_BYTES) * rates.userNsPerBlock) / 1e9 + gc, gc_modeled_s: gc };
}
