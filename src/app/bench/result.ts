/**
 * Results in fio's JSON shape (fio --output-format=json): `jobs[]` with `jobname`, `groupid`,
 * `error`, `job options`, and `read` / `write` / `trim` objects carrying fio's field names
 * (io_bytes, io_kbytes, bw_bytes, bw in KiB/s, iops, runtime in ms, total_ios, slat_ns, clat_ns
 * with `percentile`, lat_ns). copylab adds `copy` (the same fields plus the copy engine's
 * account) and `copylab` (device, engine, which clock the fio fields are on).
 *
 * Modeled time: when a job's device has a timing model, the fio fields report modeled time (what
 * fio would measure on the device being modeled) and each direction carries a `wall` object
 * with the same fields in the host's wall time; `copylab.clock` says "modeled". Without a timing
 * model the fio fields are wall time and there is no `wall` object.
 */
import type { JobRun, ClockStats, DirStats } from './stats.js';
import { IO_DIRS } from './stats.js';
import type { IoDir } from './workload.js';
import type { FioLatency, LatencyStats } from '../../core/util/latency.js';
import type { FioHistogram } from './fio-histogram.js';
import type { FioDistJson } from './fio-dist.js';
import type { IoStat } from './io-stat.js';

export const COPYLAB_VERSION = '0.1.0';

/** fio's latency object; json+ adds `bins` where fio computes percentiles. */
export interface FioLatencyPlus extends FioLatency {
  bins?: Record<string, number>;
}

/** The fields a direction has on each clock. */
export interface FioDirBase {
  io_bytes: number;
  io_kbytes: number;
  bw_bytes: number;
  bw: number;
  iops: number;
  runtime: number;
  total_ios: number;
  short_ios: number;
  drop_ios: number;
  slat_ns: FioLatencyPlus;
  clat_ns: FioLatencyPlus;
  lat_ns: FioLatencyPlus;
}

/**
 * A direction in fio's JSON. The bw_* and iops_* fields summarise the bandwidth (KiB/s) and IOPS
 * samples taken every bwavgtime / iopsavgtime ms on the job's clock; bw_agg is the mean's share
 * of the group's aggregate bandwidth (percent, at most 100).
 */
export interface FioDir extends FioDirBase {
  bw_min: number;
  bw_max: number;
  bw_agg: number;
  bw_mean: number;
  bw_dev: number;
  bw_samples: number;
  iops_min: number;
  iops_max: number;
  iops_mean: number;
  iops_stddev: number;
  iops_samples: number;
  wall?: FioDirBase;
}

export interface FioCopy extends FioDir {
  requests: number;
  offloaded_bytes: number;
  emulated_bytes: number;
  host_bytes: number;
  pieces: number;
  paths: Record<string, number>;
  reasons: Record<string, number>;
}

export interface FioJob extends FioDistJson {
  jobname: string;
  groupid: number;
  error: number;
  eta: number;
  elapsed: number;
  'job options': Record<string, string>;
  read: FioDir;
  write: FioDir;
  trim: FioDir;
  copy: FioCopy;
  job_runtime: number;
  /** CPU use over the job (the process's: jobs share it), percent of the job's wall run time. */
  usr_cpu: number;
  sys_cpu: number;
  ctx: number;
  majf: number;
  minf: number;
  copylab: {
    file: string;
    device: string;
    ioengine: string;
    clock: 'wall' | 'modeled';
    jobs: number;
    bs: { read: number; write: number; trim: number };
    /** The job's effective rw= (fio's "job options" list only the section's own keys). */
    rw: string;
    iodepth: number;
    error_message?: string;
    zone_resets?: number;
  };
}

export interface FioResult {
  'fio version': string;
  timestamp: number;
  timestamp_ms: number;
  time: string;
  jobs: FioJob[];
}

/** What the JSON includes: json+ (--output-format=json+) adds each latency's fio buckets. */
export interface ResultOptions {
  readonly plus?: boolean;
}

function latObject(l: LatencyStats, bins: FioHistogram, pct: readonly number[] | undefined, plus: boolean): FioLatencyPlus {
  const out: FioLatencyPlus = l.toFio(pct);
  // fio writes bins where it writes percentiles, and only with samples.
  if (plus && pct && l.count) out.bins = bins.bins();
  return out;
}

function dirBase(run: JobRun, st: DirStats, c: ClockStats, runtimeNs: number, plus: boolean): FioDirBase {
  const seconds = runtimeNs / 1e9;
  const bwBytes = st.ios && seconds > 0 ? st.bytes / seconds : 0;
  const p = run.spec.percentiles;
  const list = run.spec.percentile_list;
  return {
    io_bytes: st.bytes,
    io_kbytes: Math.floor(st.bytes / 1024),
    bw_bytes: Math.round(bwBytes),
    bw: Math.round(bwBytes / 1024),
    iops: st.ios && seconds > 0 ? st.ios / seconds : 0,
    runtime: st.ios ? Math.round(runtimeNs / 1e6) : 0,
    total_ios: st.ios,
    short_ios: 0,
    drop_ios: 0,
    slat_ns: latObject(c.slat, c.slatBins, p.slat ? list : undefined, plus),
    clat_ns: latObject(c.clat, c.clatBins, p.clat ? list : undefined, plus),
    lat_ns: latObject(c.lat, c.latBins, p.lat ? list : undefined, plus),
  };
}

/**
 * fio's convert_agg_kbytes_percent: the mean sample (whole KiB/s) as a percent of the group's
 * aggregate bandwidth, capped at 100; 100 when the aggregate is 1 KiB/s or less.
 */
function percentOfAgg(mean: number, aggBytes: number): number {
  if (aggBytes <= 1024) return 100;
  return Math.min(100, (Math.trunc(mean) * 100) / (aggBytes / 1024));
}

function samples(bw: IoStat, iops: IoStat, aggBytes: number): Omit<FioDir, keyof FioDirBase | 'wall'> {
  const has = bw.samples > 0;
  return {
    bw_min: has ? bw.min : 0,
    bw_max: has ? bw.max : 0,
    bw_agg: has ? percentOfAgg(bw.mean, aggBytes) : 0,
    bw_mean: has ? bw.mean : 0,
    bw_dev: has ? bw.dev : 0,
    bw_samples: bw.samples,
    iops_min: iops.samples ? iops.min : 0,
    iops_max: iops.samples ? iops.max : 0,
    iops_mean: iops.samples ? iops.mean : 0,
    iops_stddev: iops.samples ? iops.dev : 0,
    iops_samples: iops.samples,
  };
}

function dir(run: JobRun, d: IoDir, aggBytes: number, plus: boolean): FioDir {
  const st = run.dirs[d];
  const s = samples(st.bw, st.iops, aggBytes);
  if (st.modeled && run.modeled_runtime_ns !== null) {
    return { ...dirBase(run, st, st.modeled, run.modeled_runtime_ns, plus), ...s, wall: dirBase(run, st, st.wall, run.runtime_ns, plus) };
  }
  return { ...dirBase(run, st, st.wall, run.runtime_ns, plus), ...s };
}

/** The job's run time on its clock (modeled when its device is timed), ns. */
function primaryRuntimeNs(run: JobRun): number {
  return run.modeled_runtime_ns ?? run.runtime_ns;
}

/** A group's aggregate bandwidth per direction (fio's group_run_stats agg: its bytes over its longest run), bytes/s. */
export function groupAggregates(runs: readonly JobRun[]): Record<IoDir, number> {
  const out: Record<IoDir, number> = { read: 0, write: 0, trim: 0, copy: 0 };
  for (const d of IO_DIRS) {
    let bytes = 0;
    let maxMs = 0;
    for (const r of runs) {
      if (!r.dirs[d].ios) continue;
      bytes += r.dirs[d].bytes;
      maxMs = Math.max(maxMs, Math.round(primaryRuntimeNs(r) / 1e6));
    }
    out[d] = maxMs ? Math.floor((bytes * 1000) / maxMs) : 0;
  }
  return out;
}

export function jobObject(run: JobRun, device: string, agg: Readonly<Record<IoDir, number>> = groupAggregates([run]), opts: ResultOptions = {}): FioJob {
  const plus = opts.plus ?? false;
  const modeled = run.modeled_runtime_ns !== null;
  const runtime = modeled ? run.modeled_runtime_ns! : run.runtime_ns;
  const a = run.copy;
  return {
    jobname: run.spec.name,
    groupid: run.spec.group,
    error: run.error,
    eta: 0,
    elapsed: Math.max(1, Math.round((Date.now() - run.startedAt.getTime()) / 1000)),
    'job options': { ...run.spec.options },
    read: dir(run, 'read', agg.read, plus),
    write: dir(run, 'write', agg.write, plus),
    trim: dir(run, 'trim', agg.trim, plus),
    copy: {
      ...dir(run, 'copy', agg.copy, plus),
      requests: a.requests,
      offloaded_bytes: a.offloaded_bytes,
      emulated_bytes: a.emulated_bytes,
      host_bytes: a.host_bytes,
      pieces: a.pieces,
      paths: Object.fromEntries(a.paths),
      reasons: Object.fromEntries(a.reasons),
    },
    job_runtime: Math.round(runtime / 1e6),
    ...run.cpu.toJson(),
    ...run.dist.toJson(),
    copylab: {
      file: run.spec.file,
      device,
      ioengine: run.spec.ioengine,
      rw: run.spec.rw,
      clock: modeled ? 'modeled' : 'wall',
      jobs: run.jobs,
      bs: { ...run.spec.bs },
      iodepth: run.spec.iodepth,
      ...(run.error ? { error_message: run.errorMessage } : {}),
      ...(run.spec.zonemode === 'zbd' ? { zone_resets: run.zoneResets } : {}),
    },
  };
}

/** Merges numjobs clones of jobs with group_reporting into one entry, as fio reports them. */
export function groupRuns(runs: readonly JobRun[]): JobRun[] {
  const out: JobRun[] = [];
  const merged = new Map<object, JobRun>();
  for (const r of runs) {
    if (!r.spec.group_reporting) {
      out.push(r);
      continue;
    }
    const m = merged.get(r.spec);
    if (m) m.add(r);
    else {
      merged.set(r.spec, r);
      out.push(r);
    }
  }
  return out;
}

export function fioResult(runs: readonly JobRun[], deviceOf: (r: JobRun) => string, started: Date, opts: ResultOptions = {}): FioResult {
  const reported = groupRuns(runs);
  const aggOf = new Map<number, Record<IoDir, number>>();
  for (const g of new Set(reported.map((r) => r.spec.group))) aggOf.set(g, groupAggregates(reported.filter((r) => r.spec.group === g)));
  return {
    'fio version': `copylab-${COPYLAB_VERSION}`,
    timestamp: Math.floor(started.getTime() / 1000),
    timestamp_ms: started.getTime(),
    time: started.toString(),
    jobs: reported.map((r) => jobObject(r, deviceOf(r), aggOf.get(r.spec.group)!, opts)),
  };
}

export { IO_DIRS };
