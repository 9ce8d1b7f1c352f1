/**
 * Runs jobs against a lab: each job (and each numjobs clone) is a loop that keeps `iodepth`
 * requests in flight on its own ring (ioengine=copylab-ring) or issues one at a time through the
 * block layer (copylab-sync). Jobs of one group run together; groups run one after another.
 * Latency = completion minus submission, read on the harness clocks (clock.ts).
 */
import type { Lab } from '../lab.js';
import type { BlockDevice } from '../../core/block/device.js';
import type { CopyResult } from '../../core/block/copy/types.js';
import { ReqOp } from '../../core/block/ops.js';
import { Trace } from '../../core/block/trace.js';
import { Ring, allocBuffer } from '../../core/ring/ring.js';
import type { RingHost } from '../../core/ring/consumer.js';
import { prepCopy, prepDiscard, prepRead, prepWrite, sqeSetData, setCopyRange } from '../../core/ring/prep.js';
import { Prng } from '../../core/util/prng.js';
import { errnoName } from '../../core/util/errno.js';
import { JobFileError } from './jobfile.js';
import { isCopy, type JobSpec } from './job.js';
import { wallClock, type BenchClock } from './clock.js';
import { ClockStats, JobRun, type CopyAccount } from './stats.js';
import { Workload, type Io, type IoDir, type Layout } from './workload.js';
import type { TraceSink } from '../../core/trace/record.js';
import { RateSampler } from './rate-sampler.js';
import { cpuSample, type CpuSample } from './cpu-usage.js';
import type { JobLogs, LogSet } from './fio-logs.js';

/** Data buffer memory one job may pin (iodepth × largest block). */
export const BENCH_MAX_BUFFER_BYTES = 1024 * 1024 * 1024;
/**
 * Requests a time_based job on modeled time may issue while modeled time stands still. A device
 * whose timing gives a request no cost (a trim with no controller time and no link latency, as
 * the mqsim preset's) completes it at the instant it was issued, and the job would run forever.
 */
export const BENCH_STANDSTILL_MAX_IOS = 1_000_000;
/** The loop yields to the event loop at least this often (ns of wall time) so jobs interleave and progress prints. */
const YIELD_EVERY_NS = 5e6;
/** Progress callbacks at most this often (ns of wall time). */
const PROGRESS_EVERY_NS = 500e6;

export interface Progress {
  readonly elapsed_ns: number;
  /** Fraction done, 0..1, when it can be known. */
  readonly done: number | null;
  readonly bytes: Readonly<Record<IoDir, number>>;
  readonly ios: Readonly<Record<IoDir, number>>;
  readonly jobs: number;
}

export interface BenchOptions {
  readonly lab: Lab;
  /** The modeled clock, when the lab has one (its timing models give devices a time). */
  readonly modeled?: BenchClock | undefined;
  /** Whether a device has a timing model (modeled time applies to its jobs). */
  readonly timed?: (dev: BlockDevice) => boolean;
  readonly trace?: TraceSink | undefined;
  /** fio's bandwidth, latency and IOPS logs of the jobs that ask for them (opened by the caller). */
  readonly logs?: LogSet | undefined;
  readonly onProgress?: ((p: Progress) => void) | undefined;
}

interface Resolved {
  readonly spec: JobSpec;
  readonly dev: BlockDevice;
  readonly src: BlockDevice | undefined;
  readonly layout: Layout;
  readonly align: number;
}

function jobError(spec: JobSpec, key: string, msg: string): JobFileError {
  return new JobFileError(spec.file, spec.name, spec.lines[key] ?? spec.line, msg);
}

/** Checks a job against the lab (devices exist, region fits, sizes align); errors name the line. */
export function resolveJob(lab: Lab, spec: JobSpec): Resolved {
  const find = (key: string, path: string): BlockDevice => {
    const dev = lab.findDevice(path);
    if (!dev) throw jobError(spec, key, `${key}=${path}: no such device in the lab (have ${lab.list().map((d) => `/dev/${d.name}`).concat(lab.dm.names().map((n) => `/dev/mapper/${n}`)).join(', ')})`);
    return dev;
  };
  const dev = find('filename', spec.filename!);
  const src = spec.copy_src !== undefined ? find('copy_src', spec.copy_src) : undefined;
  const lbs = dev.limits.logical_block_size;
  const cap = dev.capacity;
  if (spec.offset % lbs) throw jobError(spec, 'offset', `offset=${spec.offset} is not a multiple of ${dev.name}'s ${lbs}-byte logical block`);
  if (spec.offset >= cap) throw jobError(spec, 'offset', `offset=${spec.offset} is beyond ${dev.name}'s ${cap} bytes`);
  const size = spec.size ?? cap - spec.offset;
  if (spec.offset + size > cap) throw jobError(spec, 'size', `offset+size (${spec.offset}+${size}) is beyond ${dev.name}'s ${cap} bytes`);
  for (const d of ['read', 'write', 'trim'] as const) {
    const sizes = [spec.bs[d], ...(spec.bssplit?.[d] ?? []).map((e) => e.bs)];
    for (const b of sizes) {
      if (b % lbs) throw jobError(spec, spec.bssplit?.[d]?.length ? 'bssplit' : 'bs', `block size ${b} is not a multiple of ${dev.name}'s ${lbs}-byte logical block`);
      if (b > size) throw jobError(spec, 'bs', `block size ${b} is larger than the job's region (${size} bytes)`);
    }
  }
  if (spec.zonemode === 'zbd' && (spec.zonesize! % lbs || spec.zonesize! > size)) throw jobError(spec, 'zonesize', `zonesize=${spec.zonesize} must be a multiple of ${lbs} and at most the region (${size} bytes)`);
  let layout: Layout = { io: { start: spec.offset, size } };
  if (isCopy(spec.rw)) {
    const per = spec.bs.write * spec.copy_ranges;
    if (src) {
      if (src.capacity < spec.offset + size) throw jobError(spec, 'copy_src', `copy_src ${src.name} is smaller than offset+size`);
      layout = { io: { start: spec.offset, size }, src: { start: spec.offset, size } };
    } else {
      // One device: sources in the first half of the region, destinations in the second.
      const half = Math.floor(size / 2 / lbs) * lbs;
      layout = { io: { start: spec.offset + half, size: half }, src: { start: spec.offset, size: half } };
    }
    if (per > layout.io.size) throw jobError(spec, 'copy_ranges', `copy_ranges × bs (${per} bytes) does not fit the destination region (${layout.io.size} bytes)`);
  }
  return { spec, dev, src, layout, align: lbs };
}

/**
 * The ring's host: the lab, with every copy's result kept by its request (user_data) until the
 * job reaps it and counts it in the copy engine's account if fio's figures count the request
 * (copies submitted during ramp_time are not), and (when the run is traced) each request's
 * block-layer events going to its own trace.
 */
function accountingHost(lab: Lab, results: Map<number, CopyResult>, traceOf?: (userData: number) => Trace | undefined): RingHost {
  return {
    fdDevice: (fd) => lab.fdDevice(fd),
    open: (p) => lab.open(p),
    get copyOptions() {
      return lab.copyOptions;
    },
    newTrace: () => lab.newTrace(),
    copied: (r, userData) => {
      results.set(userData, r);
    },
    ...(traceOf ? { traceOf } : {}),
    poll: () => lab.poll(),
    waitEvent: () => lab.waitEvent(),
    get deviceWorkPending() {
      return lab.deviceWorkPending;
    },
  };
}

function countCopy(acc: CopyAccount, r: CopyResult): CopyResult {
  acc.requests++;
  if (r.res > 0) acc.bytes += r.res;
  acc.offloaded_bytes += r.offloaded_bytes ?? 0;
  acc.emulated_bytes += r.emulated_bytes ?? 0;
  acc.host_bytes += r.host_bytes;
  acc.pieces += r.pieces.length;
  acc.paths.set(r.path, (acc.paths.get(r.path) ?? 0) + 1);
  for (const p of r.pieces) if (p.reason) acc.reasons.set(p.reason.code, (acc.reasons.get(p.reason.code) ?? 0) + 1);
  return r;
}

const OP_OF: Readonly<Record<IoDir, ReqOp>> = { read: ReqOp.READ, write: ReqOp.WRITE, trim: ReqOp.DISCARD, copy: ReqOp.COPY };

/** One job clone's loop. */
class JobLoop {
  readonly run: JobRun;
  readonly w: Workload;
  private readonly wall = wallClock;
  readonly modeled: BenchClock | undefined;
  /** The clock that decides runtime and rate (modeled when the device is timed). */
  readonly primary: BenchClock;
  private t0 = 0;
  private m0 = 0;
  private measureFrom = 0;
  private deadline = Infinity;
  private issuedBytes = 0;
  private readonly rateBytes: Record<IoDir, number> = { read: 0, write: 0, trim: 0, copy: 0 };
  private readonly rateIos: Record<IoDir, number> = { read: 0, write: 0, trim: 0, copy: 0 };
  stopped = false;
  /** fio's logs of this clone, when the job writes any. */
  readonly logs: JobLogs | undefined;
  /** Bandwidth and IOPS sampled per window on the primary clock (null where a log samples every I/O). */
  private readonly bwSampler: RateSampler | null;
  private readonly iopsSampler: RateSampler | null;
  private readonly bytesOf = (d: IoDir): number => this.run.dirs[d].bytes;
  private readonly iosOf = (d: IoDir): number => this.run.dirs[d].ios;
  private cpu0: CpuSample | null = null;
  /** Modeled time at the last issue, and requests issued since it last moved (time_based jobs). */
  private stillAt = NaN;
  private stillIos = 0;

  constructor(readonly r: Resolved, clone: number, readonly opts: BenchOptions, timed: boolean) {
    this.run = new JobRun(r.spec, clone);
    this.w = new Workload(r.spec, r.layout, clone, r.align);
    this.modeled = timed ? opts.modeled : undefined;
    this.primary = this.modeled ?? this.wall;
    const logs = (this.logs = opts.logs?.of(r.spec, clone));
    // fio: a bandwidth log with a row per I/O takes the I/O's own rate as the sample; a windowed
    // log samples every min(log_avg_msec, bwavgtime); without a log, every bwavgtime.
    const period = (kind: 'bw' | 'iops', avg: number): number => (logs?.has(kind) ? logs.samplePeriodMs(kind) : avg);
    this.bwSampler = logs?.perUnit('bw') ? null : new RateSampler(period('bw', r.spec.bw_avg_ms), true, (d, rate) => {
      this.run.dirs[d].bw.add(rate);
      logs?.sample('bw', this.elapsedMs(), d, rate);
    });
    this.iopsSampler = logs?.perUnit('iops') ? null : new RateSampler(period('iops', r.spec.iops_avg_ms), false, (d, rate) => {
      this.run.dirs[d].iops.add(rate);
      logs?.sample('iops', this.elapsedMs(), d, rate);
    });
  }

  start(): void {
    this.t0 = this.primary.now();
    this.m0 = this.modeled?.now() ?? 0;
    this.measureFrom = this.t0 + this.r.spec.ramp_time_ns;
    if (this.r.spec.runtime_ns !== undefined) this.deadline = this.measureFrom + this.r.spec.runtime_ns;
    this.bwSampler?.start(this.measureFrom, this.bytesOf);
    this.iopsSampler?.start(this.measureFrom, this.iosOf);
  }

  /** ms since the job started on its clock (the time column of fio's logs). */
  elapsedMs(): number {
    return Math.max(0, Math.floor((this.primary.now() - this.t0) / 1e6));
  }

  /** Whether fio's figures count an I/O submitted at (subW, subM): one submitted after ramp_time. */
  counts(subW: number, subM: number): boolean {
    return (this.modeled ? subM : subW) >= this.measureFrom;
  }

  /** Whether the measured part of the job has begun (ramp_time over). */
  measuring(): boolean {
    return this.primary.now() >= this.measureFrom;
  }

  get limit(): number {
    return this.r.spec.io_size ?? this.r.layout.io.size;
  }

  /** Whether another request may be issued (runtime, io_size). */
  more(): boolean {
    if (this.stopped || this.run.error) return false;
    if (this.primary.now() >= this.deadline) return false;
    if (this.r.spec.time_based) return true;
    return this.issuedBytes < this.limit;
  }

  /** ns to wait before `io` may be issued under rate / rate_iops (0 = now). */
  rateWait(io: Io): number {
    const d: IoDir = io.dir;
    const dd = d === 'copy' ? 'write' : d;
    const rate = this.r.spec.rate[dd];
    const iops = this.r.spec.rate_iops[dd];
    if (!rate && !iops) return 0;
    const elapsed = this.primary.now() - this.t0;
    let at = 0;
    if (rate) at = Math.max(at, (this.rateBytes[d] / rate) * 1e9);
    if (iops) at = Math.max(at, (this.rateIos[d] / iops) * 1e9);
    // Whole nanoseconds: a fraction left by floating point would never be slept away.
    return Math.max(0, Math.ceil(at - elapsed - 1e-3));
  }

  issued(io: Io): void {
    if (this.modeled && this.r.spec.time_based) this.standstill(io);
    this.rateBytes[io.dir] += io.len;
    this.rateIos[io.dir]++;
    if (this.primary.now() >= this.measureFrom) this.issuedBytes += io.len;
  }

  /** A time_based job on modeled time whose requests take no modeled time is stopped with the reason. */
  private standstill(io: Io): void {
    const m = this.modeled!.now();
    if (m !== this.stillAt) {
      this.stillAt = m;
      this.stillIos = 0;
      return;
    }
    if (++this.stillIos <= BENCH_STANDSTILL_MAX_IOS) return;
    throw jobError(this.r.spec, 'rw', `modeled time stood still for ${BENCH_STANDSTILL_MAX_IOS} requests: ${this.r.dev.name} completes ${io.dir} requests in no modeled time (its timing gives them no cost), so time_based would never end; set io_size, or give the device controller time or link latency`);
  }

  /**
   * Records a completion: submission stamps on both clocks, result, and the wall time it was
   * reaped at (one reading for a batch of completions, as fio stamps a batch it reaps).
   */
  complete(io: Io, subW: number, subM: number, issueW: number, issueM: number, res: number, cw: number): void {
    if (res < 0 || (res !== io.len && io.dir !== 'trim')) {
      if (!this.run.error) {
        this.run.error = res < 0 ? -res : 5;
        this.run.errorMessage = `${io.dir} ${io.offset}+${io.len} on ${this.r.dev.name}: ${res < 0 ? errnoName(res) : `short (${res} bytes)`}`;
      }
      return;
    }
    if (!this.counts(subW, subM)) return;
    const st = this.run.dirs[io.dir];
    st.ios++;
    st.bytes += io.len;
    st.wall.record(subW - issueW, cw - subW, cw - issueW);
    let slat = subW - issueW;
    let clat = cw - subW;
    if (this.modeled) {
      const cm = this.modeled.now();
      (st.modeled ??= new ClockStats(st.binned)).record(subM - issueM, cm - subM, cm - issueM);
      slat = subM - issueM;
      clat = cm - subM;
    }
    // fio's io_u_mark_latency, its per-I/O samples and logs: completion latency on the job's clock.
    this.run.dist.markLatency(clat);
    const logs = this.logs;
    if (logs) {
      const rate = clat > 0 ? Math.floor((io.len * 1e6) / clat) : 0;
      if (logs.perUnit('bw')) st.bw.add(rate);
      if (logs.perUnit('iops')) st.iops.add(1);
      logs.io(this.elapsedMs(), io.dir, io.len, io.offset, slat, clat, slat + clat, rate);
    }
  }

  /** Takes the bandwidth and IOPS samples whose window has passed (after completions are counted). */
  sample(): void {
    const now = this.primary.now();
    if (now < this.measureFrom) return;
    this.bwSampler?.tick(now, this.bytesOf);
    this.iopsSampler?.tick(now, this.iosOf);
  }

  finish(): JobRun {
    this.logs?.finish(this.elapsedMs());
    if (this.cpu0) this.run.cpu.set(this.cpu0, cpuSample(), this.wallElapsed());
    const end = this.primary.now();
    this.run.runtime_ns = Math.max(0, (this.modeled ? this.wallElapsed() : end - this.measureFrom));
    if (this.modeled) this.run.modeled_runtime_ns = Math.max(0, this.modeled.now() - Math.max(this.m0, this.measureFrom));
    this.run.zoneResets = this.w.zoneResets;
    return this.run;
  }

  /** Starts the job's clocks (run time, ramp, samplers, CPU use): after its setup, before its first I/O. */
  begin(): void {
    this.start();
    this.markWallStart();
  }

  private wallStart = this.wall.now();
  markWallStart(): void {
    this.wallStart = this.wall.now();
    this.cpu0 = cpuSample();
  }
  private wallElapsed(): number {
    return this.wall.now() - this.wallStart;
  }

  /**
   * A request's trace. Reads, writes and trims are queued (Q) here, as the kernel queues a bio
   * when io_uring submits it, and the block layer adds their splits, issues and completions
   * (X, D, C); a copy's Q and everything after it come from the copy engine (blkdev_copy).
   */
  openTrace(io: Io, sink: TraceSink, lab: Lab): Trace {
    const req = sink.nextRequest();
    const t = new Trace(lab.clock, sink, req, false);
    if (io.dir !== 'copy') sink.event({ req, ...(this.modeled ? { mns: this.modeled.now() } : {}), dev: this.r.dev.name, action: 'Q', op: OP_OF[io.dir], sector: io.offset / 512, sectors: Math.ceil(io.len / 512) });
    return t;
  }

  /** A request that ended without reaching the block layer (refused by the ring) still completes in the trace. */
  closeTrace(io: Io, t: Trace, sink: TraceSink, res: number): void {
    if (t.completions > 0) return;
    sink.event({ req: t.req!, ...(this.modeled ? { mns: this.modeled.now() } : {}), dev: this.r.dev.name, action: 'C', op: OP_OF[io.dir], sector: io.offset / 512, sectors: Math.ceil(io.len / 512), res, info: 'completed by the ring' });
  }
}

/**
 * The loops' turn-taking, told the wall time of the completions just reaped: a promise to await
 * when it is time to yield to the event loop, else undefined (the loop awaits NEXT_TURN).
 */
type Tick = (wallNow: number) => Promise<void> | undefined;

/**
 * A settled promise a loop awaits between reaping and issuing when it does not yield: one
 * promise hop, so that jobs of a group whose requests complete at the same modeled instant issue
 * their next requests in the order they always have (the hop counts of the two engines decide
 * it, and the model sees that order).
 */
const NEXT_TURN = Promise.resolve();

async function yieldNow(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** ioengine=copylab-ring: iodepth requests in flight on a ring of the job's own. */
async function runRing(loop: JobLoop, lab: Lab, tick: Tick): Promise<void> {
  const { spec, dev, src } = loop.r;
  const qd = spec.iodepth;
  const copying = isCopy(spec.rw);
  const maxBs = copying ? 0 : loop.w.maxBlock();
  if (qd * maxBs > BENCH_MAX_BUFFER_BYTES) throw jobError(spec, 'iodepth', `iodepth × largest block (${qd} × ${maxBs}) exceeds the ${BENCH_MAX_BUFFER_BYTES}-byte buffer limit`);
  const sink = loop.opts.trace;
  const slotTrace: (Trace | undefined)[] = new Array(qd).fill(undefined);
  const copyResults = new Map<number, CopyResult>();
  const ring = new Ring(accountingHost(lab, copyResults, sink ? (slot) => slotTrace[slot] : undefined), { entries: qd });
  const data = allocBuffer(Math.max(1, qd * maxBs));
  if (!spec.zero_buffers) fillPattern(data, spec.randseed);
  const ranges = allocBuffer(Math.max(32, qd * spec.copy_ranges * 32));
  const [dataBase, rangeBase] = ring.registerBuffers([data, ranges]) as [number, number];
  const fd = lab.open(`/dev/${dev.name}`);
  const srcFd = src ? lab.open(`/dev/${src.name}`) : -1;
  const slotIo: (Io | null)[] = new Array(qd).fill(null);
  const slotIssueW = new Float64Array(qd);
  const slotIssueM = new Float64Array(qd);
  const slotSubW = new Float64Array(qd);
  const slotSubM = new Float64Array(qd);
  const free: number[] = [];
  for (let i = qd - 1; i >= 0; i--) free.push(i);
  // The slots prepared for one submit call (the first `prepared` entries).
  const batch = new Int32Array(qd);
  let inflight = 0;
  let pending: Io | null = null;
  const modeled = loop.modeled;
  loop.begin();
  try {
    for (;;) {
      let prepared = 0;
      while (free.length && loop.more()) {
        const io: Io = pending ?? loop.w.next();
        pending = null;
        if (loop.rateWait(io) > 0) {
          pending = io;
          break;
        }
        const slot = free.pop()!;
        const sqe = ring.getSqe()!;
        if (io.dir === 'copy') {
          const first = slot * spec.copy_ranges;
          io.ranges!.forEach((r, i) => setCopyRange(ranges, first + i, srcFd, r.src, r.dst, r.len));
          prepCopy(sqe, fd, rangeBase + first * 32, io.ranges!.length);
        } else if (io.dir === 'read') prepRead(sqe, fd, dataBase + slot * maxBs, io.len, io.offset);
        else if (io.dir === 'write') prepWrite(sqe, fd, dataBase + slot * maxBs, io.len, io.offset);
        else prepDiscard(sqe, fd, io.offset, io.len);
        sqeSetData(sqe, slot);
        slotIo[slot] = io;
        slotIssueW[slot] = wallClock.now();
        slotIssueM[slot] = modeled?.now() ?? 0;
        if (sink) slotTrace[slot] = loop.openTrace(io, sink, lab);
        loop.issued(io);
        batch[prepared++] = slot;
        inflight++;
      }
      if (prepared) {
        const ret = ring.submit();
        const sw = wallClock.now();
        const sm = modeled?.now() ?? 0;
        for (let i = 0; i < prepared; i++) {
          slotSubW[batch[i]!] = sw;
          slotSubM[batch[i]!] = sm;
        }
        if (ret < 0) throw new Error(`ring submit failed: ${errnoName(ret)}`);
        // fio's io_u_mark_depth (the depth once the batch is queued) and io_u_mark_submit.
        if (loop.measuring()) {
          loop.run.dist.markDepth(inflight, prepared);
          loop.run.dist.markSubmit(prepared);
        }
      }
      if (inflight === 0) {
        if (pending && loop.more()) {
          await (modeled && loop.primary === modeled ? modeled : wallClock).sleep(loop.rateWait(pending));
          continue;
        }
        break;
      }
      if (ring.cqReady() === 0) await ring.submitAndWait(1);
      let reaped = 0;
      const cw = wallClock.now();
      for (let c = ring.peekCqe(); c; c = ring.peekCqe()) {
        reaped++;
        const slot = c.user_data;
        const res = c.res;
        ring.cqeSeen(c);
        const io = slotIo[slot]!;
        slotIo[slot] = null;
        inflight--;
        free.push(slot);
        loop.complete(io, slotSubW[slot]!, slotSubM[slot]!, slotIssueW[slot]!, slotIssueM[slot]!, res, cw);
        const copied = copying ? copyResults.get(slot) : undefined;
        if (copied) {
          copyResults.delete(slot);
          if (loop.counts(slotSubW[slot]!, slotSubM[slot]!)) countCopy(loop.run.copy, copied);
        }
        if (sink) {
          loop.closeTrace(io, slotTrace[slot]!, sink, res);
          slotTrace[slot] = undefined;
        }
      }
      if (reaped && loop.measuring()) loop.run.dist.markComplete(reaped);
      loop.sample();
      await (tick(cw) ?? NEXT_TURN);
    }
  } finally {
    lab.closeFd(fd);
    if (srcFd >= 0) lab.closeFd(srcFd);
    ring.close();
  }
}

/** ioengine=copylab-sync: one request at a time through the block layer (full block-layer traces). */
async function runSync(loop: JobLoop, lab: Lab, tick: Tick): Promise<void> {
  const { spec, dev, src } = loop.r;
  const copying = isCopy(spec.rw);
  const data = new Uint8Array(copying ? 0 : loop.w.maxBlock());
  if (!spec.zero_buffers) fillPattern(data, spec.randseed);
  const sink = loop.opts.trace;
  const modeled = loop.modeled;
  loop.begin();
  while (loop.more()) {
    const io = loop.w.next();
    const wait = loop.rateWait(io);
    if (wait > 0) await (modeled && loop.primary === modeled ? modeled : wallClock).sleep(wait);
    const trace = sink ? loop.openTrace(io, sink, lab) : undefined;
    const iw = wallClock.now();
    const im = modeled?.now() ?? 0;
    const measured = loop.measuring();
    loop.issued(io);
    let res: number;
    if (io.dir === 'copy') {
      const r = await lab.copy(dev, io.ranges!.map((x) => ({ srcOffset: x.src, dstOffset: x.dst, length: x.len, ...(src ? { src } : {}) })), {}, trace);
      if (loop.counts(iw, im)) countCopy(loop.run.copy, r);
      res = r.res;
    } else {
      res = await lab.submit(dev, { op: OP_OF[io.dir], offset: io.offset, length: io.len, ...(io.dir === 'trim' ? {} : { data: data.subarray(0, io.len) }) }, trace);
    }
    if (trace) loop.closeTrace(io, trace, sink!, res);
    const cw = wallClock.now();
    loop.complete(io, iw, im, iw, im, res, cw);
    // A synchronous engine: each I/O is submitted and reaped alone at depth 1 (fio's sync engines).
    if (measured) {
      loop.run.dist.markDepth(1, 1);
      loop.run.dist.markSubmit(1);
      loop.run.dist.markComplete(1);
    }
    loop.sample();
    await (tick(cw) ?? NEXT_TURN);
  }
}

/** Write buffers hold seeded pseudo-random bytes (fio fills its buffers with random data too). */
function fillPattern(buf: Uint8Array, seed: number): void {
  const rng = new Prng(seed ^ 0x5eed);
  for (let i = 0; i + 4 <= buf.length; i += 4) {
    const v = rng.nextU32();
    buf[i] = v & 0xff;
    buf[i + 1] = (v >>> 8) & 0xff;
    buf[i + 2] = (v >>> 16) & 0xff;
    buf[i + 3] = v >>> 24;
  }
}

/** Layout chunk: regions a job reads are written once before it runs (fio lays out its files too). */
const LAYOUT_CHUNK = 1024 * 1024;

/**
 * Writes the regions wall-clock jobs will read, so reads measure the device and not first-touch
 * page faults. A job on modeled time reads the device as it is, as fio reads a block device: there
 * are no page faults in modeled time, and writing the region first would change what the job
 * measures (where the FTL placed each page, what its mapping cache holds, a fresh device).
 */
async function layOut(lab: Lab, jobs: readonly Resolved[], done: Set<string>, modeled: (dev: BlockDevice) => boolean): Promise<void> {
  for (const r of jobs) {
    const reads = r.spec.rw !== 'write' && r.spec.rw !== 'randwrite' && r.spec.rw !== 'trim' && r.spec.rw !== 'randtrim';
    if (!reads) continue;
    const dev = isCopy(r.spec.rw) ? (r.src ?? r.dev) : r.dev;
    if (modeled(r.dev)) continue;
    const region = isCopy(r.spec.rw) ? r.layout.src! : r.layout.io;
    const key = `${dev.name}:${region.start}:${region.size}`;
    if (done.has(key)) continue;
    done.add(key);
    const chunk = new Uint8Array(Math.min(LAYOUT_CHUNK, region.size));
    if (!r.spec.zero_buffers) fillPattern(chunk, r.spec.randseed);
    for (let off = 0; off < region.size; off += chunk.length) {
      const len = Math.min(chunk.length, region.size - off);
      const res = await lab.submit(dev, { op: ReqOp.WRITE, offset: region.start + off, length: len, data: chunk.subarray(0, len) });
      if (res < 0) throw jobError(r.spec, 'filename', `laying out ${dev.name} ${region.start + off}+${len} failed: ${errnoName(res)}`);
    }
  }
}

/** The lab's clock as the harness reads it. */
export function modeledClockOf(lab: Lab): BenchClock {
  return { kind: 'modeled', now: () => lab.clock.now(), sleep: (dt) => lab.clock.sleep(dt) };
}

/**
 * Whether a job on `dev` runs in modeled time: the device has a timing model, or it is a
 * device-mapper device over a lab that has timed devices (its time is its legs' time).
 */
export function timedDevice(lab: Lab, dev: BlockDevice): boolean {
  if (dev.timing) return true;
  const isDm = lab.dm.names().some((n) => lab.dm.find(n) === dev);
  return isDm && lab.list().some((d) => d.timing);
}

/** Runs every job (groups in order, the jobs of a group together); returns one JobRun per clone. */
export async function runJobs(jobs: readonly JobSpec[], opts: BenchOptions): Promise<JobRun[]> {
  const resolved = jobs.map((j) => resolveJob(opts.lab, j));
  const groups = [...new Set(jobs.map((j) => j.group))];
  const runs: JobRun[] = [];
  const laidOut = new Set<string>();
  const onModeledTime = (dev: BlockDevice): boolean => opts.modeled !== undefined && (opts.timed?.(dev) ?? false);
  for (const g of groups) {
    await layOut(opts.lab, resolved.filter((x) => x.spec.group === g), laidOut, onModeledTime);
    const loops: JobLoop[] = [];
    for (const r of resolved.filter((x) => x.spec.group === g)) {
      const timed = onModeledTime(r.dev);
      for (let c = 0; c < r.spec.numjobs; c++) loops.push(new JobLoop(r, c, opts, timed));
    }
    let lastYield = wallClock.now();
    let lastProgress = lastYield;
    const groupStart = lastYield;
    // On modeled time the lab's clock yields to the event loop itself; a yield here would let
    // modeled time run on while completions wait to be reaped, stamping them late.
    const allModeled = loops.every((l) => l.modeled !== undefined);
    // Called after every reap: a promise only when it yields.
    const tick = (now: number): Promise<void> | undefined => {
      if (now - lastYield < YIELD_EVERY_NS) return undefined;
      lastYield = now;
      if (opts.onProgress && now - lastProgress >= PROGRESS_EVERY_NS) {
        lastProgress = now;
        opts.onProgress(progressOf(loops, now - groupStart));
      }
      return allModeled ? undefined : yieldNow();
    };
    // Each loop starts its clocks itself once its ring and buffers are set up (fio allocates
    // and fills its buffers before the job's clock starts): setup is not run time.
    await Promise.all(loops.map((l) => (l.r.spec.ioengine === 'copylab-sync' ? runSync(l, opts.lab, tick) : runRing(l, opts.lab, tick))));
    runs.push(...loops.map((l) => l.finish()));
  }
  return runs;
}

function progressOf(loops: readonly JobLoop[], elapsed: number): Progress {
  const bytes = { read: 0, write: 0, trim: 0, copy: 0 };
  const ios = { read: 0, write: 0, trim: 0, copy: 0 };
  let done: number | null = 0;
  for (const l of loops) {
    for (const d of ['read', 'write', 'trim', 'copy'] as const) {
      bytes[d] += l.run.dirs[d].bytes;
      ios[d] += l.run.dirs[d].ios;
    }
    const s = l.r.spec;
    const f = s.time_based && s.runtime_ns ? elapsed / (s.ramp_time_ns + s.runtime_ns) : (l.run.dirs.read.bytes + l.run.dirs.write.bytes + l.run.dirs.trim.bytes + l.run.dirs.copy.bytes) / l.limit;
    done = done === null ? null : Math.max(done, Math.min(1, f));
  }
  return { elapsed_ns: elapsed, done, bytes, ios, jobs: loops.length };
}
