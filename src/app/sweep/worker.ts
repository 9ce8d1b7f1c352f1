/**
 * `copylab worker`: takes GC points off the queue and runs each on this machine's thread pool
 * (the gc-sweep task a local sweep runs), and bench tasks (a job file's and a scenario's text,
 * copylab bench --queue), each in a lab of its own on a pool thread. A payload is checked before it runs; one that fails the
 * checks, or a run that fails, fails its job with a one-line reason and the worker goes on. A
 * worker that dies mid-run leaves its job locked until the lock expires; another worker's stalled
 * check then queues it again, a bounded number of times.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { WorkPool } from '../../core/util/pool.js';
import type { GcOptions } from '../gc/options.js';
import type { GcResult } from '../gc/result.js';
import { isFailedPoint, type SweepPoint, type SweepTask } from '../gc/sweep-point.js';
import { checkPoint, failureReason, firstLine, parseFailureReason } from './point.js';
import { checkBenchTask, isBenchFailure, type BenchOutcome } from '../bench/task.js';
import { GC_QUEUE, KEY_PREFIX, redisOptions } from './queue.js';
import type { QueueTarget } from './queue-url.js';

/** Largest result a worker stores (JSON; a limit on everything). */
export const RESULT_MAX_BYTES = 4 * 1024 * 1024;
/** Times a job may be found stalled (its worker gone) and queued again before it fails. */
export const MAX_STALLED = 2;
export const WORKER_LIMITS = {
  maxConcurrency: 64,
  lockMinMs: 500,
  lockMaxMs: 10 * 60 * 1000,
  lockDefaultMs: 30_000,
  maxNameChars: 64,
} as const;

export interface WorkerSettings {
  readonly concurrency: number;
  readonly name: string;
  /** How long a job stays locked to this worker without a renewal (renewed at half of it). */
  readonly lockMs: number;
  /** Largest device (bytes) this worker runs. */
  readonly maxSize: number;
  readonly log: (line: string) => void;
}

export interface RunningWorker {
  /** Stops taking jobs and waits for the running ones (force: leaves them to other workers). */
  close(force?: boolean): Promise<void>;
}

export async function startWorker(t: QueueTarget, s: WorkerSettings): Promise<RunningWorker> {
  // The threads stay up between points (a new one loads the GC modules again: a second or more
  // on a busy machine, for every sweep that comes after a pause).
  const pool = new WorkPool({ keepThreads: s.concurrency });
  // Points are taken only when the threads are ready: a point taken before would wait for them
  // while another worker's ready threads could run it.
  await pool.start('gc-sweep.task');
  // A failure is stored as its kind and one-line message (failureReason), so a queued sweep
  // reports refused and failed points as a local one does; none is tried again.
  const fail = (kind: 'usage' | 'failed', err: unknown): UnrecoverableError => new UnrecoverableError(failureReason(kind, firstLine(err)));
  const runBench = async (job: Job): Promise<BenchOutcome> => {
    try {
      checkBenchTask(job.data);
    } catch (err) {
      throw fail('usage', err);
    }
    let r: BenchOutcome;
    try {
      r = await pool.run<unknown, BenchOutcome>('bench.task', job.data);
    } catch (err) {
      throw fail('failed', err);
    }
    if (isBenchFailure(r)) throw fail(r.error_kind, r.error);
    const size = JSON.stringify(r).length;
    if (size > RESULT_MAX_BYTES) throw fail('failed', `the result is ${size} bytes; a worker stores at most ${RESULT_MAX_BYTES}`);
    return r;
  };
  const runPoint = async (job: Job): Promise<GcResult | BenchOutcome> => {
    // A bench task (copylab bench --queue) says so; anything else is checked as a GC point.
    const d: unknown = job.data;
    if (typeof d === 'object' && d !== null && (d as { kind?: unknown }).kind === 'bench') return runBench(job);
    let o: GcOptions;
    try {
      o = checkPoint(job.data, s.maxSize);
    } catch (err) {
      throw fail('usage', err);
    }
    let r: SweepPoint;
    try {
      r = await pool.run<SweepTask, SweepPoint>('gc-sweep.task', { options: o });
    } catch (err) {
      throw fail('failed', err);
    }
    if (isFailedPoint(r)) throw fail(r.error_kind, r.error);
    const size = JSON.stringify(r).length;
    if (size > RESULT_MAX_BYTES) throw fail('failed', `the result is ${size} bytes; a worker stores at most ${RESULT_MAX_BYTES}`);
    return r;
  };
  const w = new Worker(GC_QUEUE, runPoint, {
    connection: { ...redisOptions(t, { retry: true }), lazyConnect: false },
    prefix: KEY_PREFIX,
    concurrency: s.concurrency,
    name: s.name,
    lockDuration: s.lockMs,
    stalledInterval: s.lockMs,
    maxStalledCount: MAX_STALLED,
    autorun: false,
  });
  let lastError = '';
  w.on('error', (err) => {
    const line = firstLine(err);
    if (line !== lastError) s.log(`queue error: ${line}`);
    lastError = line;
  });
  w.on('failed', (job, err) => {
    const f = parseFailureReason(firstLine(err));
    s.log(`${job?.id ?? '?'} ${f.kind === 'usage' ? 'refused' : 'failed'}: ${f.message}`);
  });
  w.on('completed', (job) => s.log(`${job.id} done (${((job.finishedOn ?? 0) - (job.processedOn ?? 0)) / 1000} s)`));
  w.on('stalled', (id) => s.log(`${id} stalled (its worker went away): queued again`));
  void w.run().catch((err: unknown) => s.log(`stopped: ${firstLine(err)}`));
  await w.waitUntilReady();
  return {
    async close(force = false) {
      await w.close(force);
      await pool.destroy();
    },
  };
}
