/** What a GC run reports (`copylab gc --json` prints one of these). */
import type { GcPathName, PathCounters } from './paths.js';
import type { VictimPolicyName } from './policies.js';

export interface GcSeriesPoint {
  /** User bytes written since the fill, at the end of this interval. */
  readonly user_bytes: number;
  /** WAF of this interval alone. */
  readonly waf: number;
  readonly modeled_s: number;
  /** Foreground write throughput in this interval, MB/s of modeled time (0 without timing). */
  readonly mbps: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly p999_us: number;
  readonly free_sections: number;
  readonly victims: number;
}

export interface GcResult {
  readonly policy: VictimPolicyName;
  readonly path: GcPathName;
  readonly workload: string;
  readonly spare_factor: number;
  readonly size: number;
  readonly zoned: boolean;
  readonly section_bytes: number;
  readonly sections: number;
  readonly user_blocks: number;
  readonly seed: number;
  readonly timing: string;
  readonly device: string;
  /** (user + GC-moved blocks) / user blocks over the overwrite phase. */
  readonly waf: number;
  /** The same over the second half of the overwrites (steady state). */
  readonly waf_steady: number;
  /** Desnoyers' greedy and LRU formulas at this spare factor and section size. */
  readonly waf_desnoyers_greedy: number;
  readonly waf_desnoyers_lru: number;
  readonly user_bytes: number;
  readonly fill_bytes: number;
  readonly gc_moved_bytes: number;
  /** Bytes the GC moved across the host link (0 for offloaded paths). */
  readonly host_bytes: number;
  readonly commands: number;
  readonly gc: PathCounters;
  readonly victims: number;
  readonly freed_clean: number;
  readonly resets: number;
  /** Victims by valid share at selection: [0-10%), [10-20%) … [90-100%), 100%. */
  readonly victim_valid_histogram: readonly number[];
  readonly modeled_s: number;
  /** Modeled time spent in GC moves (the host waiting on them). */
  readonly gc_modeled_s: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly p999_us: number;
  readonly max_us: number;
  readonly wall_s: number;
  readonly block_moves_per_s: number;
  readonly peak_rss_bytes: number;
  readonly verified_blocks: number;
  readonly series: readonly GcSeriesPoint[];
}
