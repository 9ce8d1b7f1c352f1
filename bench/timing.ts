/**
 * `npm run bench:timing`: modeled time at work (docs/timing.md).
 *
 * 1. The curve: 4 KiB random reads at QD 1 … 128 through the whole stack (lab.submit on a timed
 *    nullblk) in modeled time: IOPS, p50, p99, p99.9 (hdr-histogram-js), next to the bound the
 *    model's numbers give (link, channels, dies) and the queue depth where Little's law puts the
 *    knee. Once on the NVMeVirt-like preset (the link binds), once on FEMU's geometry behind a
 *    PCIe 5 ×4 link (the dies bind).
 * 2. The simulator's own speed: modeled device commands per wall second and modeled time per
 *    wall second, for the timing core alone (a callback-driven closed loop on the clock, 64 dies)
 *    and for the whole stack (promise per request, and the ring).
 *
 * A benchmark, not a test: it prints figures, it asserts nothing.
 */
import * as hdr from 'hdr-histogram-js';
import { Lab } from '../src/app/lab.js';
import { Clock } from '../src/core/time/clock.js';
import { TimingModel } from '../devices/timing/model.js';
import { resolveTiming, type TimingSpec } from '../devices/timing/params.js';
import { ReqOp } from '../src/core/block/ops.js';
import { Prng } from '../src/core/util/prng.js';
import { allocBuffer } from '../src/core/ring/ring.js';
import { prepRead, sqeSetData } from '../src/core/ring/prep.js';
import { parseJobText } from '../src/app/bench/jobfile.js';
import { modeledClockOf, runJobs, timedDevice } from '../src/app/bench/engine.js';
import { table, flag } from './common.js';

/** CPU seconds this process has used (user + system): speed on a shared machine is per CPU second too. */
const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

type Speed = { perSec: number; perCpuSec: number; ratio: number };

const BS = 4096;
const DEV_BYTES = 1 << 30;
const BLOCKS = DEV_BYTES / BS;

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3.6e12, numberOfSignificantValueDigits: 3 });
}

interface Point {
  readonly qd: number;
  readonly iops: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly meanUs: number;
  readonly wallMs: number;
  readonly ios: number;
}

/** Closed loop of `ios` 4 KiB random reads at depth `qd` through lab.submit; modeled figures. */
async function curvePoint(spec: TimingSpec, qd: number, ios: number, seed: number): Promise<Point> {
  const lab = new Lab();
  lab.addNullBlk({ name: 'nullb0', size: DEV_BYTES, lbs: 4096, timing: spec });
  const dev = lab.device('nullb0');
  const rng = new Prng(seed);
  const h = histogram();
  const warm = Math.min(ios / 10, 2000);
  let issued = 0;
  let done = 0;
  let tStart = 0;
  const wall0 = performance.now();
  const worker = async (): Promise<void> => {
    const buf = new Uint8Array(BS);
    while (issued < ios + warm) {
      issued++;
      const t0 = lab.clock.now();
      await lab.submit(dev, { op: ReqOp.READ, offset: rng.below(BLOCKS) * BS, length: BS, data: buf });
      done++;
      if (done === warm) tStart = lab.clock.now();
      else if (done > warm) h.recordValue(Math.max(1, Math.round(lab.clock.now() - t0)));
    }
  };
  await Promise.all(Array.from({ length: qd }, worker));
  const span = lab.clock.now() - tStart;
  const n = h.totalCount;
  const p: Point = {
    qd,
    iops: n / (span / 1e9),
    p50: h.getValueAtPercentile(50) / 1000,
    p99: h.getValueAtPercentile(99) / 1000,
    p999: h.getValueAtPercentile(99.9) / 1000,
    meanUs: h.mean / 1000,
    wallMs: performance.now() - wall0,
    ios: done,
  };
  await lab.close();
  return p;
}

function bounds(spec: TimingSpec): { link: number; channels: number; dies: number; dieCount: number; dieUs: number; idleUs: number } {
  const p = resolveTiming(spec)!;
  const m = new TimingModel(p, new Clock());
  const xfer = (b: number, mbps: number): number => b / mbps; // µs
  return {
    link: 1e6 / xfer(BS, p.link_mbps),
    channels: p.channels * (1e6 / xfer(BS, p.channel_mbps)),
    // A die is busy tR plus emptying its register over the channel for each read (tR alone with cache_read).
    dies: m.dies * (1e6 / (p.tr_us + (p.cache_read ? 0 : xfer(BS, p.channel_mbps)))),
    dieCount: m.dies,
    dieUs: p.tr_us + (p.cache_read ? 0 : xfer(BS, p.channel_mbps)),
    idleUs: m.read(0, BS) / 1000,
  };
}

/**
 * The most a work-conserving scheduler can do with this workload when the dies bind: `qd`
 * requests in a closed loop, each to a uniformly random one of `dies` servers that serve in
 * order for `serviceUs`, with `delayUs` spent elsewhere per request. Random placement queues some
 * dies while others idle, so at QD 128 on 64 dies even a perfect scheduler reaches about 75% of
 * the die bound (any work-conserving order gives the same throughput).
 */
function idealRandom(qd: number, dies: number, serviceUs: number, delayUs: number, requests: number): number {
  const rng = new Prng(7);
  const free = new Float64Array(dies);
  const due: number[] = new Array<number>(qd).fill(0); // each request's next issue time (a small binary heap)
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < due.length && due[l]! < due[m]!) m = l;
      if (r < due.length && due[r]! < due[m]!) m = r;
      if (m === i) return;
      [due[m], due[i]] = [due[i]!, due[m]!];
      i = m;
    }
  };
  const warm = Math.floor(requests / 5);
  let t0 = 0;
  let t = 0;
  for (let n = 0; n < requests; n++) {
    t = due[0]!;
    if (n === warm) t0 = t;
    const d = rng.below(dies);
    const s = Math.max(t + delayUs, free[d]!);
    free[d] = s + serviceUs;
    due[0] = s + serviceUs;
    down(0);
  }
  return (requests - warm) / ((t - t0) / 1e6);
}

async function curve(title: string, spec: TimingSpec, ios: number): Promise<void> {
  const b = bounds(spec);
  const bound = Math.min(b.link, b.channels, b.dies);
  const binds = bound === b.link ? 'the host link' : bound === b.channels ? 'the channels' : 'the dies';
  console.log(`\n${title}: 4 KiB random reads, closed loop through lab.submit, modeled time`);
  console.log(`bounds: link ${fmtK(b.link)} IOPS, channels ${fmtK(b.channels)}, dies ${fmtK(b.dies)} → ${binds} bind at ${fmtK(bound)};`);
  console.log(`idle 4 KiB read ${b.idleUs.toFixed(1)} µs, so Little's law puts the knee near QD ${(bound * b.idleUs / 1e6).toFixed(0)}`);
  const diesBind = bound === b.dies;
  if (diesBind) console.log(`"ideal": a perfect scheduler with the dies' service time (${b.dieUs.toFixed(1)} µs) and the rest of an idle read's path, random placement`);
  const t = table(
    ['QD', 'IOPS (modeled)', 'of bound', ...(diesBind ? ['ideal', 'of ideal'] : []), 'mean', 'p50', 'p99', 'p99.9', 'QD / (IOPS × mean)', 'wall'],
    ['right', 'right', 'right', ...(diesBind ? (['right', 'right'] as const) : []), 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  for (const qd of [1, 2, 4, 8, 16, 32, 64, 128]) {
    const p = await curvePoint(spec, qd, ios, qd);
    const ideal = diesBind ? idealRandom(qd, b.dieCount, b.dieUs, b.idleUs - b.dieUs, 400_000) : 0;
    t.push([
      qd, fmtK(p.iops), `${((p.iops / bound) * 100).toFixed(0)}%`, ...(diesBind ? [fmtK(ideal), `${((p.iops / ideal) * 100).toFixed(0)}%`] : []),
      us(p.meanUs), us(p.p50), us(p.p99), us(p.p999), (qd / (p.iops * p.meanUs / 1e6)).toFixed(3), `${p.wallMs.toFixed(0)} ms`,
    ]);
  }
  console.log(t.toString());
}

/** The timing core alone: a closed loop of callbacks on the clock (no promises, no block layer). */
function coreSpeed(preset: string, qd: number, commands: number): Speed {
  const clock = new Clock();
  const m = new TimingModel(resolveTiming(preset)!, clock);
  const rng = new Prng(1);
  let left = commands;
  const issue = (): void => {
    if (left-- <= 0) return;
    clock.at(m.read(rng.below(BLOCKS) * BS, BS), issue);
  };
  const w0 = performance.now();
  const c0 = cpuSeconds();
  for (let i = 0; i < qd; i++) issue();
  clock.runUntilIdle();
  const wallMs = performance.now() - w0;
  return { perSec: commands / (wallMs / 1000), perCpuSec: commands / (cpuSeconds() - c0), ratio: clock.now() / 1e6 / wallMs };
}

/** The whole stack through the ring at QD 32 on a timed nullblk. */
async function ringSpeed(preset: string, ios: number): Promise<Speed> {
  const lab = new Lab();
  lab.addNullBlk({ name: 'nullb0', size: DEV_BYTES, lbs: 4096, timing: preset });
  const qd = 32;
  const ring = lab.createRing({ entries: 64 });
  const fd = lab.open('/dev/nullb0');
  const buf = allocBuffer(qd * BS);
  const [base] = ring.registerBuffers([buf]);
  const rng = new Prng(2);
  let submitted = 0;
  let completed = 0;
  const w0 = performance.now();
  const c0 = cpuSeconds();
  const m0 = lab.clock.now();
  const submit = (slot: number): void => {
    const sqe = ring.getSqe()!;
    prepRead(sqe, fd, base! + slot * BS, BS, rng.below(BLOCKS) * BS);
    sqeSetData(sqe, slot);
    submitted++;
  };
  for (let i = 0; i < qd; i++) submit(i);
  ring.submit();
  while (completed < ios) {
    const cqe = await ring.waitCqe();
    const slot = cqe.user_data;
    ring.cqeSeen();
    completed++;
    if (submitted < ios) {
      submit(slot);
      ring.submit();
    }
  }
  const wallMs = performance.now() - w0;
  const r = { perSec: ios / (wallMs / 1000), perCpuSec: ios / (cpuSeconds() - c0), ratio: (lab.clock.now() - m0) / 1e6 / wallMs };
  await lab.close();
  return r;
}

async function promiseSpeed(preset: string, ios: number): Promise<Speed> {
  const w0 = performance.now();
  const c0 = cpuSeconds();
  const p = await curvePoint(preset, 32, ios, 3);
  const wallMs = performance.now() - w0;
  return { perSec: p.ios / (wallMs / 1000), perCpuSec: p.ios / (cpuSeconds() - c0), ratio: (p.ios / p.iops) * 1000 / wallMs };
}

/** `copylab bench` itself: an fio job (4 KiB random reads, iodepth 32, the ring engine) on a timed memory nullblk. */
async function fioJobSpeed(preset: string, runtimeS: number): Promise<Speed> {
  const lab = new Lab();
  lab.addNullBlk({ name: 'nullb0', size: 64 << 20, lbs: 4096, backing: 'memory', timing: preset });
  const jobs = parseJobText(`[randread-qd32]\nfilename=/dev/nullb0\nrw=randread\nbs=4k\niodepth=32\ntime_based\nruntime=${runtimeS}\n`, 'timing-bench.fio');
  const w0 = performance.now();
  const c0 = cpuSeconds();
  const [run] = await runJobs(jobs, { lab, modeled: modeledClockOf(lab), timed: (dev) => timedDevice(lab, dev) });
  const wallMs = performance.now() - w0;
  const cpu = cpuSeconds() - c0;
  await lab.close();
  const ios = run!.dirs.read.ios;
  return { perSec: ios / (wallMs / 1000), perCpuSec: ios / cpu, ratio: runtimeS * 1000 / wallMs };
}

const fmtK = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} k`);
const us = (v: number): string => (v < 1000 ? `${v.toFixed(1)} µs` : `${(v / 1000).toFixed(2)} ms`);

async function main(): Promise<void> {
  const ios = flag('ios', 20000);
  console.log('copylab timing bench (modeled time; wall figures from this machine, which may be shared)');
  await curve('nvmevirt-zns (8 ch × 16 dies, 64 KiB pages, 3200 MB/s link)', 'nvmevirt-zns', ios);
  await curve('femu geometry on PCIe 5 ×4 (8 ch × 8 dies, 4 KiB pages)', { preset: 'femu', link: 'pcie5x4', channel_mbps: 1600 }, ios);

  console.log('\nThe simulator\'s speed: 4 KiB random reads, modeled device commands per wall second and per CPU second of this process');
  const t = table(['path', 'preset', 'QD', 'commands / wall s', 'commands / CPU s', 'modeled s / wall s'], ['left', 'left', 'right', 'right', 'right', 'right']);
  const row = (path: string, preset: string, qd: number, r: Speed): void => {
    t.push([path, preset, qd, fmtK(r.perSec), fmtK(r.perCpuSec), r.ratio.toFixed(2)]);
  };
  coreSpeed('femu', 64, 200_000); // JIT warm-up
  row('timing core (clock + model, callbacks)', 'femu (64 dies)', 64, coreSpeed('femu', 64, 2_000_000));
  row('timing core (clock + model, callbacks)', 'nvmevirt-zns (128 dies)', 128, coreSpeed('nvmevirt-zns', 128, 2_000_000));
  row('whole stack, promise per request (lab.submit)', 'femu', 32, await promiseSpeed('femu', ios * 5));
  row('whole stack, ring (READ SQEs)', 'femu', 32, await ringSpeed('femu', ios * 5));
  row('copylab bench (fio job, ring engine, memory backing)', 'femu', 32, await fioJobSpeed('femu', flag('runtime', 1)));
  console.log(t.toString());
  console.log('targets: ≥ 2 M commands per second for the timing core; ≥ 300 k for copylab bench on a timed device at QD 32');
}

await main();
