/** What one job (or one numjobs clone) measured, per direction, on each clock. */
import { LatencyStats } from '../../core/util/latency.js';
import type { JobSpec } from './job.js';
import type { IoDir } from './workload.js';
import { FioHistogram } from './fio-histogram.js';
import { IoStat } from './io-stat.js';
import { FioDist } from './fio-dist.js';
import { CpuUsage } from './cpu-usage.js';

export const IO_DIRS: readonly IoDir[] = ['read', 'write', 'trim', 'copy'];

/** Which latencies have percentiles, and so json+ bins (clat_percentiles, lat_percentiles, slat_percentiles). */
export interface BinnedLatencies {
  readonly slat: boolean;
  readonly clat: boolean;
  readonly lat: boolean;
}

const CLAT_ONLY: BinnedLatencies = { slat: false, clat: true, lat: false };

/**
 * Latencies on one clock: submission (slat), completion (clat) and total (lat), each in an HDR
 * histogram (the percentiles), and those with percentiles also in fio's own buckets (json+'s
 * bins; the others' bins stay empty, as fio writes none for them).
 */
export class ClockStats {
  readonly slat = new LatencyStats();
  readonly clat = new LatencyStats();
  readonly lat = new LatencyStats();
  readonly slatBins = new FioHistogram();
  readonly clatBins = new FioHistogram();
  readonly latBins = new FioHistogram();

  constructor(private readonly binned: BinnedLatencies = CLAT_ONLY) {}

  record(slat: number, clat: number, lat: number): void {
    this.slat.record(slat);
    this.clat.record(clat);
    this.lat.record(lat);
    if (this.binned.slat) this.slatBins.record(slat);
    if (this.binned.clat) this.clatBins.record(clat);
    if (this.binned.lat) this.latBins.record(lat);
  }

  add(o: ClockStats): void {
    this.slat.add(o.slat);
    this.clat.add(o.clat);
    this.lat.add(o.lat);
    this.slatBins.add(o.slatBins);
    this.clatBins.add(o.clatBins);
    this.latBins.add(o.latBins);
  }
}

export class DirStats {
  ios = 0;
  bytes = 0;
  readonly wall: ClockStats;
  /** Present when the job's device has a timing model. */
  modeled: ClockStats | null = null;
  /** Bandwidth (KiB/s) and IOPS samples on the job's clock (fio's bw_stat, iops_stat). */
  readonly bw = new IoStat();
  readonly iops = new IoStat();

  constructor(readonly binned: BinnedLatencies = CLAT_ONLY) {
    this.wall = new ClockStats(binned);
  }

  add(o: DirStats): void {
    this.ios += o.ios;
    this.bytes += o.bytes;
    this.wall.add(o.wall);
    if (o.modeled) (this.modeled ??= new ClockStats(this.binned)).add(o.modeled);
    this.bw.pureSum(o.bw);
    this.iops.pureSum(o.iops);
  }
}

/** The copy engine's account of a job's copies (from each request's CopyResult). */
export class CopyAccount {
  requests = 0;
  bytes = 0;
  offloaded_bytes = 0;
  emulated_bytes = 0;
  host_bytes = 0;
  pieces = 0;
  readonly reasons = new Map<string, number>();
  readonly paths = new Map<string, number>();

  add(o: CopyAccount): void {
    this.requests += o.requests;
    this.bytes += o.bytes;
    this.offloaded_bytes += o.offloaded_bytes;
    this.emulated_bytes += o.emulated_bytes;
    this.host_bytes += o.host_bytes;
    this.pieces += o.pieces;
    for (const [k, v] of o.reasons) this.reasons.set(k, (this.reasons.get(k) ?? 0) + v);
    for (const [k, v] of o.paths) this.paths.set(k, (this.paths.get(k) ?? 0) + v);
  }
}

export class JobRun {
  readonly dirs: Record<IoDir, DirStats>;
  readonly copy = new CopyAccount();
  /** Queue depths, submit and reap batches, completion latency buckets (fio's iodepth_* and latency_*). */
  readonly dist = new FioDist();
  readonly cpu = new CpuUsage();
  /** First error as a positive errno (fio's "error"), 0 for none. */
  error = 0;
  errorMessage = '';
  /** Measured time (after ramp_time), ns, on each clock. */
  runtime_ns = 0;
  modeled_runtime_ns: number | null = null;
  zoneResets = 0;
  /** Jobs merged into this one (numjobs with group_reporting). */
  jobs = 1;
  readonly startedAt = new Date();

  constructor(readonly spec: JobSpec, readonly clone: number) {
    const b = spec.percentiles;
    this.dirs = { read: new DirStats(b), write: new DirStats(b), trim: new DirStats(b), copy: new DirStats(b) };
  }

  /** Merges a clone (group_reporting): bytes add, runtime is the longest. */
  add(o: JobRun): void {
    for (const d of IO_DIRS) this.dirs[d].add(o.dirs[d]);
    this.copy.add(o.copy);
    this.dist.add(o.dist);
    this.cpu.add(o.cpu);
    this.error ||= o.error;
    this.errorMessage ||= o.errorMessage;
    this.runtime_ns = Math.max(this.runtime_ns, o.runtime_ns);
    if (o.modeled_runtime_ns !== null) this.modeled_runtime_ns = Math.max(this.modeled_runtime_ns ?? 0, o.modeled_runtime_ns);
    this.zoneResets += o.zoneResets;
    this.jobs += o.jobs;
  }
}
