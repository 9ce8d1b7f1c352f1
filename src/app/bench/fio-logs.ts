/**
 * fio's bandwidth, latency and IOPS logs (HOWTO write_bw_log, write_lat_log, write_iops_log,
 * log_avg_msec, "Log File Formats"): one text file per log and job, `NAME_bw.N.log`,
 * `NAME_slat.N.log`, `NAME_clat.N.log`, `NAME_lat.N.log`, `NAME_iops.N.log` (N numbers the jobs,
 * numjobs clones included, from 1), each row `time (ms), value, data direction, block size,
 * [offset,] command priority` as fio 3.33 writes them: the offset column only with log_offset=1,
 * the priority 0 (copylab has no I/O priorities). Values: latencies in ns, bandwidth in KiB/s,
 * IOPS in I/Os per second; times on the job's clock (modeled time for timed devices) from the
 * job's start.
 *
 * log_avg_msec=0 logs every I/O (bandwidth as the I/O's bytes over its completion latency, fio's
 * add_bw_sample; IOPS 1). Otherwise each direction gets one row per window: the mean (or with
 * log_max_value the maximum) of the window's samples, block size and offset 0; the bandwidth and
 * IOPS samples are taken every min(log_avg_msec, bwavgtime / iopsavgtime) ms. Files are written
 * as the job runs, in batches (memory does not grow with the run).
 */
import { OutputStream, type OutputError } from '../../core/util/output-file.js';
import { IoStat } from './io-stat.js';
import { LOG_MSEC_SLACK_MS } from './rate-sampler.js';
import type { JobLogSpec, JobSpec } from './job.js';
import type { IoDir } from './workload.js';

export type LogKind = 'bw' | 'iops' | 'slat' | 'clat' | 'lat';

/** fio io_ddir.h: DDIR_READ 0, DDIR_WRITE 1, DDIR_TRIM 2. A copy writes its destination: 1. */
const DDIR_NUMBER: Readonly<Record<IoDir, number>> = { read: 0, write: 1, trim: 2, copy: 1 };
/** Command priority column: fio's default priority class 0 (copylab issues none other). */
const LOG_PRIO = 0;
/** Bytes a log keeps before writing them. */
export const LOG_BATCH_BYTES = 64 * 1024;

export interface PlannedLog {
  readonly kind: LogKind;
  readonly path: string;
}

/** The files a job's logs go to; `index` is its number among all jobs (1 …). */
export function logFilesOf(spec: JobSpec, index: number): PlannedLog[] {
  const prefix = (p: string): string => (p === '' ? spec.name : p);
  const out: PlannedLog[] = [];
  if (spec.logs.bw !== undefined) out.push({ kind: 'bw', path: `${prefix(spec.logs.bw)}_bw.${index}.log` });
  if (spec.logs.lat !== undefined) for (const k of ['slat', 'clat', 'lat'] as const) out.push({ kind: k, path: `${prefix(spec.logs.lat)}_${k}.${index}.log` });
  if (spec.logs.iops !== undefined) out.push({ kind: 'iops', path: `${prefix(spec.logs.iops)}_iops.${index}.log` });
  return out;
}

/** Every job clone with its number (fio numbers jobs in the file's order, each numjobs clone one). */
function numbered(jobs: readonly JobSpec[]): { spec: JobSpec; clone: number; index: number }[] {
  const out: { spec: JobSpec; clone: number; index: number }[] = [];
  for (const spec of jobs) for (let clone = 0; clone < spec.numjobs; clone++) out.push({ spec, clone, index: out.length + 1 });
  return out;
}

/** Every log file a run will write (to check them before it starts). */
export function plannedLogPaths(jobs: readonly JobSpec[]): string[] {
  return numbered(jobs).flatMap((j) => logFilesOf(j.spec, j.index).map((f) => f.path));
}

class LogFile {
  private parts: string[] = [];
  private bytes = 0;
  constructor(readonly out: OutputStream, private readonly withOffset: boolean) {}

  row(ms: number, value: number, dir: IoDir, bs: number, offset: number): void {
    const line = this.withOffset
      ? `${ms}, ${value}, ${DDIR_NUMBER[dir]}, ${bs}, ${offset}, ${LOG_PRIO}\n`
      : `${ms}, ${value}, ${DDIR_NUMBER[dir]}, ${bs}, ${LOG_PRIO}\n`;
    this.parts.push(line);
    this.bytes += line.length;
    if (this.bytes >= LOG_BATCH_BYTES) this.flush();
  }

  flush(): void {
    if (!this.bytes) return;
    this.out.write(Buffer.from(this.parts.join('')));
    this.parts = [];
    this.bytes = 0;
  }
}

/** One averaging window of one log and direction (fio's avg_window and avg_last). */
class Window {
  stat = new IoStat();
  last = 0;
}

const KINDS: readonly LogKind[] = ['bw', 'iops', 'slat', 'clat', 'lat'];
const DIRS: readonly IoDir[] = ['read', 'write', 'trim', 'copy'];

/** A job clone's logs. */
export class JobLogs {
  /** Averaging windows by log and direction. */
  private readonly windows = new Map<LogKind, Map<IoDir, Window>>(KINDS.map((k) => [k, new Map(DIRS.map((d) => [d, new Window()]))]));
  private readonly slat: LogFile | undefined;
  private readonly clat: LogFile | undefined;
  private readonly lat: LogFile | undefined;

  constructor(private readonly files: ReadonlyMap<LogKind, LogFile>, private readonly spec: JobLogSpec, private readonly bwAvgMs: number, private readonly iopsAvgMs: number) {
    this.slat = files.get('slat');
    this.clat = files.get('clat');
    this.lat = files.get('lat');
  }

  has(kind: LogKind): boolean {
    return this.files.has(kind);
  }

  /** Whether a log has a row per I/O (log_avg_msec=0), fio's per_unit_log. */
  perUnit(kind: LogKind): boolean {
    return this.files.has(kind) && this.spec.avg_msec === 0;
  }

  /** The sampling window of the windowed bandwidth / IOPS log (fio: min(log_avg_msec, bwavgtime)). */
  samplePeriodMs(kind: 'bw' | 'iops'): number {
    return Math.min(this.spec.avg_msec, kind === 'bw' ? this.bwAvgMs : this.iopsAvgMs);
  }

  /** One I/O completed at `ms`: per-I/O rows, or the latency logs' window samples. */
  io(ms: number, dir: IoDir, len: number, offset: number, slat: number, clat: number, lat: number, bwRate: number): void {
    const avg = this.spec.avg_msec;
    if (avg === 0) {
      this.slat?.row(ms, Math.round(slat), dir, len, offset);
      this.clat?.row(ms, Math.round(clat), dir, len, offset);
      this.lat?.row(ms, Math.round(lat), dir, len, offset);
      this.files.get('bw')?.row(ms, bwRate, dir, len, offset);
      this.files.get('iops')?.row(ms, 1, dir, len, offset);
      return;
    }
    if (this.slat) this.windowed('slat', ms, dir, Math.round(slat), avg, true);
    if (this.clat) this.windowed('clat', ms, dir, Math.round(clat), avg, true);
    if (this.lat) this.windowed('lat', ms, dir, Math.round(lat), avg, true);
  }

  /** A windowed bandwidth or IOPS sample (log_avg_msec > 0). */
  sample(kind: 'bw' | 'iops', ms: number, dir: IoDir, rate: number): void {
    if (this.files.has(kind)) this.windowed(kind, ms, dir, rate, this.samplePeriodMs(kind), false);
  }

  /**
   * fio's add_log_sample: the sample joins its window; a window that has lasted `avg` ms (a
   * bandwidth or IOPS window within LOG_MSEC_SLACK of it) becomes a row and the next window
   * starts at the last multiple of `avg`.
   */
  private windowed(kind: LogKind, ms: number, dir: IoDir, value: number, avg: number, inline: boolean): void {
    const w = this.windows.get(kind)!.get(dir)!;
    w.stat.add(value);
    if (ms < w.last) return;
    const spent = ms - w.last;
    if (spent < avg && (inline || avg - spent > LOG_MSEC_SLACK_MS)) return;
    this.emit(kind, ms, dir, w);
    w.last = ms - (ms % avg);
  }

  private emit(kind: LogKind, ms: number, dir: IoDir, w: Window): void {
    if (w.stat.samples) this.files.get(kind)?.row(ms, this.spec.max ? w.stat.max : Math.floor(w.stat.mean + 0.5), dir, 0, 0);
    w.stat = new IoStat();
  }

  /** The job ended at `ms`: the latency logs' open windows become rows (fio's finalize_logs). */
  finish(ms: number): void {
    if (this.spec.avg_msec > 0) {
      for (const kind of ['slat', 'clat', 'lat'] as const) for (const [dir, w] of this.windows.get(kind)!) this.emit(kind, ms, dir, w);
    }
    for (const f of this.files.values()) f.flush();
  }
}

/** All the logs of a run, opened before it starts. */
export class LogSet {
  private readonly byJob = new Map<JobSpec, JobLogs[]>();
  private readonly streams: OutputStream[] = [];

  private constructor() {}

  /** Opens every log file of `jobs` (an OutputError for the first that cannot be, after closing the others). */
  static open(jobs: readonly JobSpec[]): LogSet {
    const set = new LogSet();
    try {
      for (const j of numbered(jobs)) {
        const planned = logFilesOf(j.spec, j.index);
        if (!planned.length) continue;
        const files = new Map<LogKind, LogFile>();
        for (const p of planned) {
          const out = OutputStream.open(p.path);
          set.streams.push(out);
          files.set(p.kind, new LogFile(out, j.spec.logs.offset));
        }
        const list = set.byJob.get(j.spec) ?? [];
        list[j.clone] = new JobLogs(files, j.spec.logs, j.spec.bw_avg_ms, j.spec.iops_avg_ms);
        set.byJob.set(j.spec, list);
      }
    } catch (err) {
      set.close();
      throw err;
    }
    return set;
  }

  of(spec: JobSpec, clone: number): JobLogs | undefined {
    return this.byJob.get(spec)?.[clone];
  }

  /** The first write error (the rows after it were dropped). */
  get error(): OutputError | undefined {
    return this.streams.find((s) => s.error)?.error;
  }

  close(): void {
    for (const s of this.streams) s.close();
  }
}
