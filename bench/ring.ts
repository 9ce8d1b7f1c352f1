/**
 * Ring benchmarks, side by side in one run: NOPs per second; 4 KiB random reads at queue depth
 * 1 and 32 on a nullblk device, inline and on a worker thread; the same job with fio's io_uring
 * engine on a file in /dev/shm (fio is installed with apt-get when missing); a naive
 * one-promise-per-request path through the block layer; and copies through the ring next to the
 * same copies through the block-layer API.
 *
 * Then the worker paths again beside a competing CPU load (one busy-looping process per core),
 * next to their quiet figures: a shared CPU must not make the worker path collapse.
 *
 *   npm run bench:ring                 # about 1 s per figure
 *   npm run bench:ring -- --time=3000  # longer
 *   npm run bench:ring -- --hogs=4     # the competing load: 4 busy processes (default: one per core)
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { existsSync, rmSync } from 'node:fs';
import { Lab } from '../src/app/lab.js';
import { allocBuffer, type Ring } from '../src/core/ring/ring.js';
import { prepCopy, prepNop, prepRead, setCopyRange, sqeSetData } from '../src/core/ring/prep.js';
import { ReqOp } from '../src/core/block/ops.js';
import { Prng } from '../src/core/util/prng.js';
import { flag, table, MiB, KiB } from './common.js';
import { Worker } from 'node:worker_threads';
import { workerScript } from '../src/core/thread/entries.js';
import type { RingAppJob, RingAppResult } from '../src/harness/ring-app.js';
import { parseJobText } from '../src/app/bench/jobfile.js';
import { runJobs } from '../src/app/bench/engine.js';

const DEV_SIZE = 256 * MiB;
const BLOCKS = DEV_SIZE / 4096;

function now(): number {
  return performance.now();
}

/** NOPs through the ring in batches of `batch`; ops/s. */
function nops(lab: Lab, batch: number, ms: number): number {
  const ring = lab.createRing({ entries: batch });
  let n = 0;
  const t0 = now();
  while (now() - t0 < ms) {
    for (let k = 0; k < 64; k++) {
      for (let i = 0; i < batch; i++) prepNop(ring.getSqe()!);
      ring.submit();
      const ready = ring.cqReady();
      ring.cqAdvance(ready);
      n += ready;
    }
  }
  return n / ((now() - t0) / 1000);
}

/** NOPs submitted by an application thread into an SQPOLL ring polled by the lab's thread; ops/s. */
async function nopsAcrossThreads(lab: Lab, batch: number, ms: number): Promise<number> {
  const ring = lab.createRing({ entries: batch, cqEntries: 4 * batch, sqpoll: true });
  const job: RingAppJob = { ring: ring.shareable(), count: 0, batch, ms };
  const worker = new Worker(workerScript('ring-app'), { workerData: job });
  const r = await new Promise<RingAppResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  ring.close();
  if (!r.inOrder) throw new Error('CQEs out of order across threads');
  return r.ops / r.seconds;
}

/** 4 KiB random reads through the ring at a queue depth; IOPS. */
async function randread(lab: Lab, dev: string, qd: number, ms: number): Promise<number> {
  const ring: Ring = lab.createRing({ entries: qd });
  const buf = allocBuffer(qd * 4096);
  const [base] = ring.registerBuffers([buf]);
  const fd = lab.open(dev);
  const rng = new Prng(1);
  const slots: number[] = [];
  const issue = (slot: number): void => {
    const sqe = ring.getSqe()!;
    prepRead(sqe, fd, base! + slot * 4096, 4096, rng.below(BLOCKS) * 4096);
    sqeSetData(sqe, slot);
  };
  for (let i = 0; i < qd; i++) issue(i);
  ring.submit();
  let n = 0;
  const t0 = now();
  while (now() - t0 < ms) {
    if (ring.cqReady() === 0) await ring.submitAndWait(1);
    for (let c = ring.peekCqe(); c; c = ring.peekCqe()) {
      if (c.res !== 4096) throw new Error(`read failed: ${c.res}`);
      slots.push(c.user_data);
      ring.cqeSeen(c);
      n++;
    }
    while (slots.length) issue(slots.pop()!);
    ring.submit();
  }
  while (ring.consumer.busy) {
    ring.cqAdvance(ring.cqReady());
    if (ring.consumer.busy) await ring.consumer.nextEvent();
  }
  lab.closeFd(fd);
  return n / ((now() - t0) / 1000);
}

/**
 * The same reads as a fio job through `copylab bench`'s engine (the harness: workload generator,
 * latency histograms, fio's distributions, the clock) on the same device and ring engine; IOPS.
 * Next to `randread` it prices the harness: issue 25 asks for at least 0.9x of the raw ring.
 */
async function harness(lab: Lab, dev: string, qd: number, ms: number): Promise<number> {
  const text = `[h]\nfilename=${dev}\nrw=randread\nbs=4k\nsize=${DEV_SIZE}\niodepth=${qd}\ntime_based\nruntime=${Math.max(1, Math.round(ms))}ms\n`;
  const [run] = await runJobs(parseJobText(text, 'ring-bench'), { lab });
  if (!run || run.error) throw new Error(`harness run failed: ${run?.errorMessage ?? 'no run'}`);
  return run.dirs.read.ios / (run.runtime_ns / 1e9);
}

/** The same reads with one promise per request through the block layer (qd concurrent loops). */
async function naive(lab: Lab, dev: string, qd: number, ms: number): Promise<number> {
  let n = 0;
  const t0 = now();
  const rng = new Prng(2);
  await Promise.all(
    Array.from({ length: qd }, async () => {
      const data = new Uint8Array(4096);
      while (now() - t0 < ms) {
        const res = await lab.submit(dev, { op: ReqOp.READ, offset: rng.below(BLOCKS) * 4096, length: 4096, data });
        if (res !== 4096) throw new Error(`read failed: ${res}`);
        n++;
      }
    }),
  );
  return n / ((now() - t0) / 1000);
}

/** fio's io_uring engine, 4 KiB random reads of a 256 MiB file in /dev/shm; IOPS or null. */
function fio(qd: number, seconds: number): number | null {
  if (spawnSync('fio', ['--version']).status !== 0) {
    if (process.getuid?.() === 0) spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'fio'], { stdio: 'ignore' });
    if (spawnSync('fio', ['--version']).status !== 0) return null;
  }
  const file = '/dev/shm/copylab-fio.dat';
  try {
    const out = execFileSync('fio', ['--name=randread', `--filename=${file}`, '--size=256M', '--rw=randread', '--bs=4k', '--ioengine=io_uring', `--iodepth=${qd}`, '--numjobs=1', '--time_based', `--runtime=${seconds}`, '--output-format=json'], { encoding: 'utf8' });
    const json = JSON.parse(out.slice(out.indexOf('{'))) as { jobs: { read: { iops: number } }[] };
    return json.jobs[0]!.read.iops;
  } catch {
    return null;
  } finally {
    if (existsSync(file)) rmSync(file);
  }
}

/** Copies through the ring vs through lab.copy, same device, same sizes; time per copy (µs). */
async function copies(lab: Lab, dev: string, size: number, ms: number): Promise<{ ring: number; api: number }> {
  const ring = lab.createRing({ entries: 1 });
  const list = allocBuffer(32);
  const [base] = ring.registerBuffers([list]);
  const fd = lab.open(dev);
  setCopyRange(list, 0, -1, 0, 128 * MiB, size);
  const timeIt = async (fn: () => Promise<void>, budget = ms / 4): Promise<number> => {
    let n = 0;
    const t0 = now();
    while (now() - t0 < budget) {
      await fn();
      n++;
    }
    return ((now() - t0) * 1000) / n;
  };
  const ringCopy = async (): Promise<void> => {
    prepCopy(ring.getSqe()!, fd, base!, 1);
    await ring.submitAndWait(1);
    const c = ring.peekCqe()!;
    if (c.res !== size) throw new Error(`ring copy: ${c.res}`);
    ring.cqeSeen(c);
  };
  const apiCopy = async (): Promise<void> => {
    const r = await lab.copy(dev, [{ srcOffset: 0, dstOffset: 128 * MiB, length: size }]);
    if (r.res !== size) throw new Error(`api copy: ${r.res}`);
  };
  // Warm both paths, then alternate short rounds and keep each path's median, so neither gains
  // from running second (JIT, caches) or loses to a noisy neighbour in one stretch.
  await timeIt(ringCopy);
  await timeIt(apiCopy);
  const rounds = 7;
  const r: number[] = [];
  const a: number[] = [];
  for (let i = 0; i < rounds; i++) {
    r.push(await timeIt(ringCopy, ms / rounds));
    a.push(await timeIt(apiCopy, ms / rounds));
  }
  const median = (x: number[]): number => x.sort((p, q) => p - q)[x.length >> 1]!;
  const viaRing = median(r);
  const viaApi = median(a);
  lab.closeFd(fd);
  return { ring: viaRing, api: viaApi };
}

const kIops = (iops: number): string => `${Math.round(iops / 1000)} k IOPS`;

/** The 4 KiB random-read paths compared quiet and loaded, in table order. */
function readPaths(lab: Lab, qd: number, ms: number): [string, () => Promise<number>][] {
  return [
    ['ring → nullblk inline', () => randread(lab, '/dev/inl', qd, ms)],
    ['copylab bench (fio job) → nullblk inline', () => harness(lab, '/dev/inl', qd, ms)],
    ['ring → nullblk worker', () => randread(lab, '/dev/wrk', qd, ms)],
    ['promise per request → worker', () => naive(lab, '/dev/wrk', qd, ms)],
  ];
}

/** Rounds per figure: paths take turns, so a neighbour's burst of CPU use hits them alike. */
const ROUNDS = 5;

/** Runs each path for ROUNDS short rounds, taking turns; the median round of each, in order. */
async function interleaved(paths: [string, () => Promise<number>][]): Promise<[string, number][]> {
  const runs = paths.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) for (const [i, [, fn]] of paths.entries()) runs[i]!.push(await fn());
  return paths.map(([name], i) => [name, runs[i]!.sort((a, b) => a - b)[ROUNDS >> 1]!]);
}

/** Busy-looping child processes, the competing load; resolves once each is running. */
async function startHogs(n: number): Promise<ChildProcess[]> {
  const hogs = Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'process.stdout.write("go\\n"); for (;;) {}'], { stdio: ['ignore', 'pipe', 'ignore'] }));
  await Promise.all(hogs.map((h) => new Promise((resolve) => h.stdout!.once('data', resolve))));
  return hogs;
}

function stopHogs(hogs: readonly ChildProcess[]): void {
  for (const h of hogs) h.kill('SIGKILL');
}

async function main(): Promise<void> {
  const ms = flag('time', 1000);
  const lab = new Lab();
  lab.addNullBlk({ name: 'inl', size: DEV_SIZE, lbs: 4096, backing: 'memory', copy_max_hw_bytes: 128 * MiB });
  lab.addNullBlk({ name: 'wrk', size: DEV_SIZE, lbs: 4096, backing: 'memory', copy_max_hw_bytes: 128 * MiB, execution: 'worker' });
  lab.addNullBlk({ name: 'emu', size: DEV_SIZE, lbs: 4096, backing: 'memory', copy_max_hw_bytes: 0 });
  for (const d of ['inl', 'wrk', 'emu']) for (let o = 0; o < DEV_SIZE; o += 16 * MiB) await lab.write(d, o, new Uint8Array(16 * MiB).fill(0x3c));

  const t = table(['job', 'path', 'result', 'vs reference'], ['left', 'left', 'right', 'right']);
  const nop1 = nops(lab, 1, ms);
  const nop64 = nops(lab, 64, ms);
  t.push(['NOP', 'inline, batches of 1', `${(nop1 / 1e6).toFixed(2)} M ops/s`, '']);
  t.push(['NOP', 'inline, batches of 64', `${(nop64 / 1e6).toFixed(2)} M ops/s`, `${(nop64 / 5e6).toFixed(2)}× of 5 M target`]);
  for (const batch of [256, 1024]) {
    const across = await nopsAcrossThreads(lab, batch, ms);
    t.push(['NOP', `app thread → SQPOLL, batches of ${batch}`, `${(across / 1e6).toFixed(2)} M ops/s`, `${(across / 2e6).toFixed(2)}× of 2 M target`]);
  }

  const fio32 = fio(32, Math.max(1, Math.round(ms / 1000)));
  const fio1 = fio(1, Math.max(1, Math.round(ms / 1000)));
  const quiet = new Map<string, number>();
  for (const qd of [1, 32]) {
    const ref = qd === 32 ? fio32 : fio1;
    const rel = (iops: number): string => (ref ? `${(iops / ref).toFixed(2)}× fio` : 'fio unavailable');
    t.push([`4 KiB randread QD${qd}`, 'fio io_uring, /dev/shm', ref ? `${Math.round(ref / 1000)} k IOPS` : 'n/a', '1.00× fio']);
    for (const [path, iops] of await interleaved(readPaths(lab, qd, ms / ROUNDS))) {
      quiet.set(`${qd} ${path}`, iops);
      t.push([`4 KiB randread QD${qd}`, path, kIops(iops), rel(iops)]);
    }
    const h = quiet.get(`${qd} copylab bench (fio job) → nullblk inline`)! / quiet.get(`${qd} ring → nullblk inline`)!;
    t.push([`4 KiB randread QD${qd}`, 'copylab bench / raw ring, inline', `${h.toFixed(2)}×`, `${h >= 0.9 ? 'meets' : 'below'} the 0.9× target`]);
  }
  for (const [dev, label] of [['inl', 'offloaded'], ['emu', 'emulated']] as const) {
    for (const size of [64 * KiB, 4 * MiB]) {
      const c = await copies(lab, `/dev/${dev}`, size, ms / 2);
      t.push([`copy ${size / KiB} KiB ${label}`, 'ring vs lab.copy', `${c.ring.toFixed(1)} µs vs ${c.api.toFixed(1)} µs`, `ring at ${((c.api / c.ring) * 100).toFixed(0)}% of API speed`]);
    }
  }
  console.log(`ring benchmarks, ${process.version}, ~${ms} ms per figure, same process and run`);
  console.log(t.toString());

  const n = flag('hogs', availableParallelism());
  const load = await startHogs(n);
  const l = table(['job', 'path', 'quiet', `with ${n} busy process(es)`, 'loaded / quiet'], ['left', 'left', 'right', 'right', 'right']);
  try {
    for (const qd of [1, 32]) {
      for (const [path, iops] of await interleaved(readPaths(lab, qd, ms / ROUNDS))) {
        const q = quiet.get(`${qd} ${path}`)!;
        l.push([`4 KiB randread QD${qd}`, path, kIops(q), kIops(iops), `${(iops / q).toFixed(2)}×`]);
      }
    }
  } finally {
    stopHogs(load);
  }
  console.log(`\nthe same reads beside a competing CPU load: ${n} busy-looping process(es) on ${availableParallelism()} CPU(s)`);
  console.log(l.toString());
  await lab.close();
}

await main();
