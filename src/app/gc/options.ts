/** The options of a GC run, their defaults, and their checks (one place for the CLI, scenarios and sweeps). */
import { GC_BLOCK_BYTES, GC_LIMITS, GC_SEGMENT_BYTES } from './constants.js';
import { GC_PATHS, type GcPathName } from './paths.js';
import { VICTIM_POLICIES, type VictimPolicyName } from './policies.js';
import { ALLOCATIONS, type AllocationName } from '../../../devices/timing/params.js';

export interface GcOptions {
  readonly size: number;
  /** Zoned layout: zone size and capacity (bytes); undefined = conventional. */
  readonly zoneBytes?: number;
  readonly zoneCapacityBytes?: number;
  readonly segsPerSection: number;
  readonly spareFactor: number;
  readonly policy: VictimPolicyName;
  readonly path: GcPathName;
  readonly workload: string;
  /** Overwrites after the fill, in capacities of the user space. */
  readonly overwrites: number;
  readonly seed: number;
  /** Timing preset ('none' = no modeled time). */
  readonly timing: string;
  /** Where the device places a copy's destination pages (timing models only): docs/timing.md, Copies. */
  readonly allocation: AllocationName;
  /** Age threshold of the age-threshold policy, in capacities of user writes. */
  readonly ageThreshold: number;
  /** Time-series samples over the overwrite phase. */
  readonly seriesPoints: number;
  /** A deliberate GC bug, for tests: drop or misplace the n-th moved block. */
  readonly inject?: { readonly kind: 'drop' | 'misplace'; readonly at: number };
}

export const GC_DEFAULTS: GcOptions = {
  size: 4 * 1024 ** 3,
  segsPerSection: 1,
  spareFactor: 0.1,
  policy: 'greedy',
  path: 'copy',
  workload: 'uniform',
  overwrites: 4,
  seed: 1,
  timing: 'none',
  allocation: 'frontier',
  ageThreshold: 0.5,
  seriesPoints: 100,
};

export class GcOptionError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
  }
}

/** Checks options that do not need the layout (which checks the rest). */
export function checkGcOptions(o: GcOptions): void {
  if (!VICTIM_POLICIES.includes(o.policy)) throw new GcOptionError('--policy', `expected ${VICTIM_POLICIES.join('|')}`);
  if (!GC_PATHS.includes(o.path)) throw new GcOptionError('--path', `expected ${GC_PATHS.join('|')}`);
  if (!(o.overwrites > 0 && o.overwrites <= GC_LIMITS.maxOverwrites)) throw new GcOptionError('--overwrites', `expected 0 < N ≤ ${GC_LIMITS.maxOverwrites} capacities`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new GcOptionError('--seed', 'expected an integer 0..2^32-1');
  if (!(o.ageThreshold >= 0 && o.ageThreshold <= 100)) throw new GcOptionError('--age-threshold', 'expected 0..100 capacities');
  if (!Number.isInteger(o.seriesPoints) || o.seriesPoints < 1 || o.seriesPoints > GC_LIMITS.maxSeriesPoints) throw new GcOptionError('--series-points', `expected 1..${GC_LIMITS.maxSeriesPoints}`);
  if (!ALLOCATIONS.includes(o.allocation)) throw new GcOptionError('--allocation', `expected ${ALLOCATIONS.join('|')}`);
  if (o.size % GC_SEGMENT_BYTES !== 0) throw new GcOptionError('--size', 'must be a multiple of 2 MiB');
  if (o.zoneBytes !== undefined && o.zoneBytes % GC_BLOCK_BYTES) throw new GcOptionError('--zone-size', 'must be a multiple of 4 KiB');
  if ((o.path === 'append' || o.path === 'izc') && o.zoneBytes === undefined) throw new GcOptionError('--path', `${o.path} needs a zoned layout (--zoned)`);
}
