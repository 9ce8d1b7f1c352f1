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
import type { FioLatency } from '../../core/util/latency.js';

export const COPYLAB_VERSION = '0.1.0';

export interface FioDir {
  io_bytes: number;
  io_kbytes: number;
  bw_bytes: number;
  bw: number;
  iops: number;
  runtime: number;
  total_ios: number;
  short_ios: number;
  drop_ios: number;
  slat_ns: FioLatency;
  clat_ns: FioLatency;
  lat_ns: FioLatency;
  wall?: Omit<FioDir, 'wall'>;
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

export interface FioJob {
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

function dirObject(st: DirStats, c: ClockStats, runtimeNs: number, pct: readonly number[]): Omit<FioDir, 'wall'> {
  const seconds = runtimeNs / 1e9;
  const bwBytes = st.ios && seconds > 0 ? st.bytes / seconds : 0;
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
    slat_ns: c.slat.toFio(),
    clat_ns: c.clat.toFio(pct),
    lat_ns: c.lat.toFio(),
  };
}

function dir(run: JobRun, d: IoDir): FioDir {
  const st = run.dirs[d];
  const pct = run.spec.percentile_list;
  if (st.modeled && run.modeled_runtime_ns !== null) {
    return { ...dirObject(st, st.modeled, run.modeled_runtime_ns, pct), wall: dirObject(st, st.wall, run.runtime_ns, pct) };
  }
  return dirObject(st, st.wall, run.runtime_ns, pct);
}

export function jobObject(run: JobRun, device: string): FioJob {
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
    read: dir(run, 'read'),
    write: dir(run, 'write'),
    trim: dir(run, 'trim'),
    copy: {
      ...dir(run, 'copy'),
      requests: a.requests,
      offloaded_bytes: a.offloaded_bytes,
      emulated_bytes: a.emulated_bytes,
      host_bytes: a.host_bytes,
      pieces: a.pieces,
      paths: Object.fromEntries(a.paths),
      reasons: Object.fromEntries(a.reasons),
    },
    job_runtime: Math.round(runtime / 1e6),
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

export function fioResult(runs: readonly JobRun[], deviceOf: (r: JobRun) => string, started: Date): FioResult {
  return {
    'fio version': `copylab-${COPYLAB_VERSION}`,
    timestamp: Math.floor(started.getTime() / 1000),
    timestamp_ms: started.getTime(),
    time: started.toString(),
    jobs: groupRuns(runs).map((r) => jobObject(r, deviceOf(r))),
  };
}

export { IO_DIRS };
