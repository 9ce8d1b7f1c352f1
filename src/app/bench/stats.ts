/** What one job (or one numjobs clone) measured, per direction, on each clock. */
import { LatencyStats } from '../../core/util/latency.js';
import type { JobSpec } from './job.js';
import type { IoDir } from './workload.js';

export const IO_DIRS: readonly IoDir[] = ['read', 'write', 'trim', 'copy'];

/** Latencies on one clock: submission (slat), completion (clat) and total (lat). */
export class ClockStats {
  readonly slat = new LatencyStats();
  readonly clat = new LatencyStats();
  readonly lat = new LatencyStats();

  add(o: ClockStats): void {
    this.slat.add(o.slat);
    this.clat.add(o.clat);
    this.lat.add(o.lat);
  }
}

export class DirStats {
  ios = 0;
  bytes = 0;
  readonly wall = new ClockStats();
  /** Present when the job's device has a timing model. */
  modeled: ClockStats | null = null;

  add(o: DirStats): void {
    this.ios += o.ios;
    this.bytes += o.bytes;
    this.wall.add(o.wall);
    if (o.modeled) (this.modeled ??= new ClockStats()).add(o.modeled);
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
  readonly dirs: Record<IoDir, DirStats> = { read: new DirStats(), write: new DirStats(), trim: new DirStats(), copy: new DirStats() };
  readonly copy = new CopyAccount();
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

  constructor(readonly spec: JobSpec, readonly clone: number) {}

  /** Merges a clone (group_reporting): bytes add, runtime is the longest. */
  add(o: JobRun): void {
    for (const d of IO_DIRS) this.dirs[d].add(o.dirs[d]);
    this.copy.add(o.copy);
    this.error ||= o.error;
    this.errorMessage ||= o.errorMessage;
    this.runtime_ns = Math.max(this.runtime_ns, o.runtime_ns);
    if (o.modeled_runtime_ns !== null) this.modeled_runtime_ns = Math.max(this.modeled_runtime_ns ?? 0, o.modeled_runtime_ns);
    this.zoneResets += o.zoneResets;
    this.jobs += o.jobs;
  }
}
