/** What a GC run reports (`copylab gc --json` prints one of these). */
import { commandKindsSum, type GcPathName, type PathCounters } from './paths.js';
import type { VictimPolicyName } from './policies.js';
import { GC_BLOCK_BYTES } from './constants.js';
import { wafGreedy, wafLru } from './desnoyers.js';
import type { CopyEmulationReason } from './copy-emulation.js';

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
  /** The longest write of this interval (µs): the stall a foreground GC caused, which p99.9 of a short interval may not reach. */
  readonly max_us: number;
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
  /** Where the device placed copies' destination pages (frontier | copyback-aware). */
  readonly allocation: string;
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
  /** Copy path on a lab device: bytes the copy engine emulated (read and written by the host), and why (0 and none elsewhere). */
  readonly copy_emulated_bytes: number;
  readonly copy_emulation: readonly CopyEmulationReason[];
  /** What the run said before it started (stderr notes of copylab gc): a path that will be emulated, and the key that changes it. */
  readonly notes: readonly string[];
  readonly victims: number;
  readonly freed_clean: number;
  readonly resets: number;
  /** Victims by valid share at selection: [0-10%), [10-20%) … [90-100%), 100%. */
  readonly victim_valid_histogram: readonly number[];
  readonly modeled_s: number;
  /** Modeled time spent in GC moves (the host waiting on them). */
  readonly gc_modeled_s: number;
  /** Destination pages device copies programmed (timing models only), and how many by copyback. */
  readonly device_copy_pages: number;
  readonly copyback_pages: number;
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

/** What a finished run knows; `gcResult` turns it into the result both backends report. */
export interface RunTotals {
  readonly options: { readonly policy: VictimPolicyName; readonly path: GcPathName; readonly workload: string; readonly spareFactor: number; readonly seed: number };
  readonly size: number;
  readonly zoned: boolean;
  readonly sectionBlocks: number;
  readonly sections: number;
  readonly userBlocks: number;
  readonly timing: string;
  readonly allocation: string;
  readonly device: string;
  /** Counters of the log-structured layer at the end, after the fill, and at the run's half. */
  readonly counters: { readonly userBlocks: number; readonly gcMoved: number; readonly victims: number; readonly freedClean: number; readonly resets: number };
  readonly fill: { readonly user: number; readonly moved: number };
  readonly half: { readonly user: number; readonly moved: number };
  readonly victimHistogram: ArrayLike<number>;
  readonly gc: PathCounters;
  /** Lab devices: the copy engine's emulation, and the notes said before the run. */
  readonly copyEmulation?: { readonly bytes: number; readonly reasons: readonly CopyEmulationReason[] };
  readonly notes?: readonly string[];
  readonly modeledNs: number;
  readonly gcNs: number;
  /** The timing model's copy counters over the run (zeros untimed). */
  readonly deviceCopy: { readonly pages: number; readonly copyback: number };
  readonly latency: { quantile(q: number): number; readonly max: number };
  readonly wallS: number;
  readonly peakRss: number;
  readonly verified: number;
  readonly series: GcSeriesPoint[];
}

/** The one place a run's figures are derived (WAF over the run and its steady half, rates, percentiles). */
export function gcResult(t: RunTotals): GcResult {
  const user = t.counters.userBlocks - t.fill.user;
  const moved = t.counters.gcMoved - t.fill.moved;
  const su = t.counters.userBlocks - t.half.user;
  // The breakdown is the total: a command counted under no kind (or under two) is a bug.
  if (commandKindsSum(t.gc) !== t.gc.commands) throw new Error(`GC commands ${t.gc.commands} but their kinds add up to ${commandKindsSum(t.gc)} (${JSON.stringify(t.gc)})`);
  const sm = t.counters.gcMoved - t.half.moved;
  return {
    policy: t.options.policy,
    path: t.options.path,
    workload: t.options.workload,
    spare_factor: t.options.spareFactor,
    size: t.size,
    zoned: t.zoned,
    section_bytes: t.sectionBlocks * GC_BLOCK_BYTES,
    sections: t.sections,
    user_blocks: t.userBlocks,
    seed: t.options.seed,
    timing: t.timing,
    allocation: t.allocation,
    device: t.device,
    waf: user > 0 ? (user + moved) / user : 0,
    waf_steady: su > 0 ? (su + sm) / su : 0,
    waf_desnoyers_greedy: wafGreedy(t.options.spareFactor, t.sectionBlocks),
    waf_desnoyers_lru: wafLru(t.options.spareFactor),
    user_bytes: user * GC_BLOCK_BYTES,
    fill_bytes: t.fill.user * GC_BLOCK_BYTES,
    gc_moved_bytes: moved * GC_BLOCK_BYTES,
    host_bytes: t.gc.host_bytes,
    commands: t.gc.commands,
    gc: t.gc,
    copy_emulated_bytes: t.copyEmulation?.bytes ?? 0,
    copy_emulation: t.copyEmulation?.reasons ?? [],
    notes: t.notes ?? [],
    victims: t.counters.victims,
    freed_clean: t.counters.freedClean,
    resets: t.counters.resets,
    victim_valid_histogram: Array.from(t.victimHistogram),
    modeled_s: t.modeledNs / 1e9,
    gc_modeled_s: t.gcNs / 1e9,
    device_copy_pages: t.deviceCopy.pages,
    copyback_pages: t.deviceCopy.copyback,
    p50_us: t.latency.quantile(0.5) / 1e3,
    p99_us: t.latency.quantile(0.99) / 1e3,
    p999_us: t.latency.quantile(0.999) / 1e3,
    max_us: t.latency.max / 1e3,
    wall_s: t.wallS,
    block_moves_per_s: t.wallS > 0 ? (t.counters.gcMoved + t.counters.userBlocks) / t.wallS : 0,
    peak_rss_bytes: t.peakRss,
    verified_blocks: t.verified,
    series: t.series,
  };
}
