/**
 * `npm run bench:sweep-queue`: what the queue costs a GC sweep (issue 27's targets). It starts a
 * redis-server of its own on a free loopback port (no persistence; skipped, exit 0, when
 * redis-server is not installed) and two `copylab worker` processes of one point at a time each,
 * so the queued sweeps run as many points at once as the local sweep's thread pool on a machine
 * of two cores, and measures, each figure the median of --repeat runs (local and queued taking
 * turns):
 *
 * (a) queue overhead per task, two ways:
 *   - latency: one tiny point at a time (16 MiB, untimed, a few ms of work) through the queue
 *     (added, taken by a worker, run, its result stored, the finish seen through BullMQ's queue
 *     events) against the same point on a thread pool in this process; target < 50 ms more;
 *   - throughput: `copylab gc sweep` of --tiny points (default 128) with --queue against without,
 *     the difference per point (both sweeps are whole commands: start-up, printing and the
 *     waiting sweep's polling included).
 * (b) --short points (default 64; 32 MiB zoned, nvmevirt-zns timing, about a tenth of a second
 *     each): `copylab gc sweep --queue` on the two workers against the local `copylab gc sweep`;
 *     target: within 1.25x. Once on the workers just started (threads up, cold: the first sweep
 *     a new worker runs), then --repeat times on the same workers, warm as a long-running
 *     worker's threads are (the local sweep starts threads of its own every time). The queued
 *     results are checked equal to the local ones (the figures that depend on the run alone).
 *
 * Options: --repeat N (default 3), --tiny N, --short N (a multiple of 16, at most 256).
 */
import { spawn, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { QueueEvents } from 'bullmq';
import { WorkPool } from '../src/core/util/pool.js';
import { GC_DEFAULTS, type GcOptions } from '../src/app/gc/options.js';
import type { SweepPoint, SweepTask } from '../src/app/gc/sweep-point.js';
import { parseQueueUrl } from '../src/app/sweep/queue-url.js';
import { gcQueue, GC_QUEUE, KEY_PREFIX, redisOptions } from '../src/app/sweep/queue.js';
import { pointId, pointPayload } from '../src/app/sweep/point.js';
import { freePort } from '../src/harness/free-port.js';
import { startProcess, until, type Proc } from '../src/harness/processes.js';
import { table } from './common.js';

const TARGET = { overheadMs: 50, ratio: 1.25 } as const;
/** Most output kept of a child process (its tail): a limit on everything. */
const KEEP_CHARS = 64 * 1024;

const arg = (name: string, dflt: number, max: number): number => {
  const i = process.argv.indexOf(name);
  const v = i > 0 ? Number(process.argv[i + 1]) : dflt;
  if (!(Number.isInteger(v) && v >= 1 && v <= max)) {
    process.stderr.write(`bench:sweep-queue: ${name}: expected an integer 1..${max}\n`);
    process.exit(2);
  }
  return v;
};
const repeat = arg('--repeat', 3, 20);
const tiny = arg('--tiny', 128, 256);
const short = arg('--short', 64, 256);
if (short % 16) {
  process.stderr.write('bench:sweep-queue: --short: expected a multiple of 16 (4 workloads x 2 policies x 2 paths x spare factors)\n');
  process.exit(2);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Runs `copylab ARGS` to its end: wall seconds and stdout; a failure stops the bench. */
async function copylab(args: string[]): Promise<{ s: number; out: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['bin/copylab.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (err = (err + String(d)).slice(-KEEP_CHARS)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const s = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`copylab ${args.slice(0, 2).join(' ')} … exited ${code}: ${err.trim().split('\n').pop()}`);
  return { s, out };
}

/** Figures that depend on the run alone (not on the machine or the moment). */
const FIGURES = ['workload', 'policy', 'path', 'spare_factor', 'waf', 'commands', 'gc_moved_bytes', 'host_bytes', 'modeled_s', 'gc_modeled_s', 'p999_us', 'max_us'];
const figures = (out: string): string =>
  out
    .trim()
    .split('\n')
    .map((l) => {
      const r = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify(FIGURES.map((k) => r[k]));
    })
    .join('\n');

const spareFactors = (n: number, from: number, step: number): string => Array.from({ length: n }, (_, i) => (from + i * step).toFixed(4)).join(',');

/** A tiny point (16 MiB, untimed, a fifth of the device overwritten): a few milliseconds of work. */
const TINY = ['--size', '16MiB', '--zone-size', '1MiB', '--overwrites', '0.2', '--paths', 'copy'];
const tinyGrid = (seed: number): string[] => [...TINY, '--policies', 'greedy,cost-benefit', '--spare-factors', spareFactors(tiny / 2, 0.4, 0.001), '--seed', String(seed)];
const tinyOptions = (seed: number): GcOptions => ({ ...GC_DEFAULTS, size: 16 << 20, zoneBytes: 1 << 20, overwrites: 0.2, spareFactor: 0.4, path: 'copy', seed });
/** A short point: 32 MiB zoned with the NVMe timing model, about a tenth of a second. */
const shortGrid = (seed: number): string[] => [
  ...['--size', '32MiB', '--zone-size', '1MiB', '--overwrites', '1', '--timing', 'nvmevirt-zns'],
  ...['--workloads', 'uniform,zipf:0.6,zipf:0.9,zipf:1.2', '--policies', 'greedy,cost-benefit', '--paths', 'copy,host'],
  ...['--spare-factors', spareFactors(short / 16, 0.25, 0.025), '--seed', String(seed)],
];

const hasRedis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
if (hasRedis.error || hasRedis.status !== 0) {
  process.stdout.write('bench:sweep-queue: skipped: redis-server is not installed (Debian: apt-get install redis-server)\n');
  process.exit(0);
}

const procs: Proc[] = [];
const stopAll = (): void => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
};
process.once('SIGINT', () => {
  stopAll();
  process.exit(130);
});

async function main(): Promise<void> {
  if (tiny % 2) throw new Error('--tiny: expected an even number (two policies)');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], KEEP_CHARS);
  procs.push(redis);
  await until('redis-server', () => (/Ready to accept connections/.test(redis.out) ? true : undefined), 10_000);
  const workers = ['bench-a', 'bench-b'].map((name) => startProcess(process.execPath, ['bin/copylab.js', 'worker', '--queue', url, '--concurrency', '1', '--name', name], KEEP_CHARS));
  procs.push(...workers);
  await until('two workers', () => (workers.every((w) => /taking GC points/.test(w.err)) ? true : undefined), 30_000);
  process.stdout.write(`redis-server ${hasRedis.stdout.trim().match(/v=(\S+)/)?.[1] ?? ''} on ${url}; two copylab workers of one point at a time; ${repeat} runs of each; load average ${loadavg()[0]!.toFixed(2)}\n`);

  // The first sweep on the workers just started: their threads are up (copylab worker starts
  // them) but cold (the JIT has not seen a GC run yet), as the local sweep's fresh threads are.
  // The later sweeps run on warm threads, as a long-running worker's are.
  const cold = await copylab(['gc', 'sweep', ...shortGrid(1000), '--queue', url, '--json']);

  // (a) latency: one tiny point at a time.
  const target = parseQueueUrl(url);
  const queue = gcQueue(target);
  const events = new QueueEvents(GC_QUEUE, { connection: { ...redisOptions(target, { retry: true }), lazyConnect: false }, prefix: KEY_PREFIX });
  await events.waitUntilReady();
  const pool = new WorkPool();
  const SERIAL = 20;
  const localMs: number[] = [];
  const queuedMs: number[] = [];
  let seed = 2000;
  await pool.run<SweepTask, SweepPoint>('gc-sweep.task', { options: tinyOptions(seed++) });
  for (let r = 0; r < repeat; r++) {
    let t0 = performance.now();
    for (let i = 0; i < SERIAL; i++) await pool.run<SweepTask, SweepPoint>('gc-sweep.task', { options: tinyOptions(seed++) });
    localMs.push((performance.now() - t0) / SERIAL);
    t0 = performance.now();
    for (let i = 0; i < SERIAL; i++) {
      const data = pointPayload(tinyOptions(seed++));
      const job = await queue.add('gc', data, { jobId: pointId(data), attempts: 1 });
      await job.waitUntilFinished(events, 60_000);
    }
    queuedMs.push((performance.now() - t0) / SERIAL);
  }
  await pool.destroy();
  await events.close();
  await queue.close();

  // (a) throughput and (b): whole sweeps, local and queued taking turns (a new seed each time: no reused results).
  const sweeps = async (grid: (seed: number) => string[]) => {
    const local: number[] = [];
    const queued: number[] = [];
    let same = true;
    for (let r = 0; r < repeat; r++) {
      const s = 3000 + seed++;
      const order = r % 2 ? ['queued', 'local'] : ['local', 'queued'];
      const outs: Record<string, string> = {};
      for (const which of order) {
        const x = await copylab(['gc', 'sweep', ...grid(s), '--json', ...(which === 'queued' ? ['--queue', url] : [])]);
        (which === 'local' ? local : queued).push(x.s);
        outs[which] = figures(x.out);
      }
      same &&= outs.local === outs.queued;
    }
    return { local: median(local), queued: median(queued), same };
  };
  const t = await sweeps(tinyGrid);
  const b = await sweeps(shortGrid);

  const lat = { local: median(localMs), queued: median(queuedMs) };
  const tab = table(['measure', 'local', 'queue (2 workers)', 'difference', 'ratio', 'target', 'met'], ['left', 'right', 'right', 'right', 'right', 'left', 'left']);
  const ok = (v: boolean): string => (v ? 'yes' : 'NO');
  tab.push([`one tiny point at a time (${SERIAL} x ${repeat})`, `${lat.local.toFixed(1)} ms`, `${lat.queued.toFixed(1)} ms`, `${(lat.queued - lat.local).toFixed(1)} ms/task`, (lat.queued / lat.local).toFixed(2), `< ${TARGET.overheadMs} ms/task`, ok(lat.queued - lat.local < TARGET.overheadMs)]);
  const perPoint = ((t.queued - t.local) / tiny) * 1000;
  tab.push([`gc sweep of ${tiny} tiny points`, `${t.local.toFixed(2)} s`, `${t.queued.toFixed(2)} s`, `${perPoint.toFixed(1)} ms/point`, (t.queued / t.local).toFixed(2), `< ${TARGET.overheadMs} ms/point`, ok(perPoint < TARGET.overheadMs)]);
  tab.push([`gc sweep of ${short} short points`, `${b.local.toFixed(2)} s`, `${b.queued.toFixed(2)} s`, `${(b.queued - b.local).toFixed(2)} s`, (b.queued / b.local).toFixed(2), `≤ ${TARGET.ratio}x`, ok(b.queued / b.local <= TARGET.ratio)]);
  tab.push([`the same, workers just started (1 run)`, `${b.local.toFixed(2)} s`, `${cold.s.toFixed(2)} s`, `${(cold.s - b.local).toFixed(2)} s`, (cold.s / b.local).toFixed(2), `≤ ${TARGET.ratio}x`, ok(cold.s / b.local <= TARGET.ratio)]);
  process.stdout.write(tab.toString() + '\n');
  process.stdout.write(`queued results equal to the local ones: ${ok(t.same && b.same)}; load average ${loadavg()[0]!.toFixed(2)} at the end\n`);
  if (!(t.same && b.same)) process.exitCode = 1;
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench:sweep-queue: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    stopAll();
    await Promise.all(procs.map((p) => p.exited));
  });
