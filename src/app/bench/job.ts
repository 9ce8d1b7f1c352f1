/** A job as a job file describes it (fio's thread_options, the part copylab runs). */
import type { KbBase, PerDdir } from './units.js';

/** fio's rw values plus copylab's copy / randcopy (REQ_OP_COPY). */
export const RW_MODES = ['read', 'write', 'randread', 'randwrite', 'rw', 'readwrite', 'randrw', 'trim', 'randtrim', 'copy', 'randcopy'] as const;
export type RwMode = (typeof RW_MODES)[number];

/** ioengine values: copylab's ring (io_uring-style, iodepth requests in flight) or one request at a time. */
export const IO_ENGINES = ['copylab-ring', 'copylab-sync'] as const;
export type IoEngine = (typeof IO_ENGINES)[number];

export interface BsSplitEntry {
  readonly bs: number;
  /** Percent of requests of this direction (the split adds up to 100). */
  readonly pct: number;
}

export type Distribution =
  | { readonly kind: 'random' }
  | { readonly kind: 'zipf'; readonly theta: number }
  | { readonly kind: 'pareto'; readonly h: number }
  | { readonly kind: 'normal'; readonly dev: number }
  | { readonly kind: 'zoned'; readonly zones: readonly { readonly pct: number; readonly rangePct: number }[] }
  | { readonly kind: 'zoned_abs'; readonly zones: readonly { readonly pct: number; readonly bytes: number }[] };

export interface JobSpec {
  readonly name: string;
  /** Where it was written: the job file and the section's line. */
  readonly file: string;
  readonly line: number;
  /** Jobs of one group run together; `stonewall` starts a new group (fio's groupid). */
  readonly group: number;
  readonly filename: string | undefined;
  readonly rw: RwMode;
  readonly rwmixread: number;
  readonly bs: PerDdir<number>;
  readonly bssplit: PerDdir<readonly BsSplitEntry[]> | null;
  readonly iodepth: number;
  readonly numjobs: number;
  /** Region size in bytes (default: the device from offset to its end). */
  readonly size: number | undefined;
  readonly offset: number;
  /** Bytes to transfer (default: size). */
  readonly io_size: number | undefined;
  readonly runtime_ns: number | undefined;
  readonly time_based: boolean;
  readonly ramp_time_ns: number;
  /** Write buffers hold zeros (fio's zero_buffers; default: a seeded random pattern). */
  readonly zero_buffers: boolean;
  readonly random_distribution: Distribution;
  readonly zonemode: 'none' | 'zbd';
  readonly zonesize: number | undefined;
  readonly max_open_zones: number;
  readonly ioengine: IoEngine;
  /** Bytes per second per direction; 0 = no cap. */
  readonly rate: PerDdir<number>;
  readonly rate_iops: PerDdir<number>;
  readonly randseed: number;
  /** copy / randcopy: ranges per copy request (each `bs` bytes) and the source device. */
  readonly copy_ranges: number;
  readonly copy_src: string | undefined;
  readonly percentile_list: readonly number[];
  readonly group_reporting: boolean;
  readonly kb_base: KbBase;
  /** fio's bandwidth, latency and IOPS logs (write_*_log): file prefixes, '' for the job's name. */
  readonly logs: JobLogSpec;
  /** Bandwidth and IOPS sampling windows (bwavgtime, iopsavgtime), ms. */
  readonly bw_avg_ms: number;
  readonly iops_avg_ms: number;
  /** Which latencies carry percentiles (and json+ bins): clat_percentiles, lat_percentiles, slat_percentiles. */
  readonly percentiles: { readonly clat: boolean; readonly lat: boolean; readonly slat: boolean };
  /** The options as written in this job's section (fio's "job options"), and their lines. */
  readonly options: Readonly<Record<string, string>>;
  readonly lines: Readonly<Record<string, number>>;
}

export interface JobLogSpec {
  readonly bw?: string;
  readonly lat?: string;
  readonly iops?: string;
  /** log_avg_msec: 0 logs every I/O, otherwise one averaged row per window and direction. */
  readonly avg_msec: number;
  /** log_offset: add the I/O's offset column. */
  readonly offset: boolean;
  /** log_max_value: a window's maximum instead of its mean. */
  readonly max: boolean;
}

/** fio's default percentile_list (stat.c): the percentiles printed for completion latency. */
export const FIO_DEFAULT_PERCENTILES: readonly number[] = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99];

/** Whether a job's rw mode issues random offsets. */
export function isRandom(rw: RwMode): boolean {
  return rw.startsWith('rand');
}

/** Whether a job's rw mode mixes reads and writes (rwmixread applies). */
export function isMixed(rw: RwMode): boolean {
  return rw === 'rw' || rw === 'readwrite' || rw === 'randrw';
}

export function isCopy(rw: RwMode): boolean {
  return rw === 'copy' || rw === 'randcopy';
}
