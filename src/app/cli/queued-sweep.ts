/**
 * `copylab gc sweep --queue URL`: the grid goes onto the queue, `copylab worker` processes run it,
 * this command shows progress on stderr and prints what a local sweep prints. Loaded only with
 * --queue (it brings BullMQ and ioredis).
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { GcOptions } from '../gc/options.js';
import type { SweepPoint } from '../gc/sweep-point.js';
import { parseQueueUrl, QueueUrlError, type QueueTarget } from '../sweep/queue-url.js';
import { connect, gcQueue, gcQueueEvents, QueueUnreachableError } from '../sweep/queue.js';
import { PointError } from '../sweep/point.js';
import { parseDuration, parseRetention, RETENTION_DEFAULT_S, RETENTION_MAX_S, SweepRecordError, type SweepRecord } from '../sweep/record.js';
import { submitSweep, type Submitted } from '../sweep/submit.js';
import { GC_RESULTS, waitSweep, type Outcome, type Progress, type ResultKind } from '../sweep/outcome.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './common.js';

export interface QueueCliOptions {
  queue?: string;
  detach?: boolean;
  retention?: string;
  timeout?: string;
  json?: boolean;
}

/** Opens the queue named by --queue and runs `fn`; a refused URL, id or time exits 2, an unreachable queue 1, each one line. */
export async function withQueue(cmd: string, url: string, fn: (redis: Redis, queue: Queue, target: QueueTarget) => Promise<number>): Promise<number> {
  const fail = (code: number, message: string): number => {
    process.stderr.write(`copylab ${cmd}: ${message}\n`);
    return code;
  };
  try {
    const target = parseQueueUrl(url);
    const redis = await connect(target);
    const queue = gcQueue(target);
    try {
      return await fn(redis, queue, target);
    } finally {
      await queue.close().catch(() => {});
      redis.disconnect();
    }
  } catch (err) {
    if (err instanceof QueueUrlError || err instanceof SweepRecordError) return fail(EXIT_USAGE, err.message);
    if (err instanceof PointError) return fail(EXIT_USAGE, `a grid point the workers would refuse: ${err.message.replace(/^malformed task: /, '')}`);
    if (err instanceof QueueUnreachableError) return fail(EXIT_FAILED, err.message);
    throw err;
  }
}

/** A progress line on stderr: rewritten in place at a terminal, one line per change otherwise. */
function progressLine(tty: boolean, what: string): { show: (p: Progress) => void; end: () => void } {
  let shown = false;
  return {
    show(p) {
      const eta = Number.isFinite(p.eta_s) ? `, ETA ${Math.ceil(p.eta_s)} s` : '';
      const line = `  ${p.done}/${p.total} ${what} done, ${p.failed} failed${eta}`;
      shown = true;
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    },
    end() {
      if (tty && shown) process.stderr.write('\r\x1b[K');
    },
  };
}

/**
 * Prints the points that ran (results and failed points, in grid order, as a local sweep prints
 * them) and a line per failed or unfinished point. The exit code is a local sweep's: 2 if a point
 * was refused, 1 if a run failed (or the printing did: a plot), 0 when every point ran; a point
 * not finished or gone from the queue is 1 at least.
 */
export async function report(cmd: string, id: string, o: Outcome, print: (points: SweepPoint[]) => Promise<boolean>): Promise<number> {
  const printed = await print(o.points.filter((p): p is SweepPoint => p !== undefined));
  let code = EXIT_OK;
  for (const f of o.failures) {
    process.stderr.write(`copylab ${cmd}: ${f.label} (${f.id}): ${f.reason}\n`);
    code = Math.max(code, f.kind === 'usage' ? EXIT_USAGE : EXIT_FAILED);
  }
  const pending = o.counts.queued + o.counts.running;
  if (pending) {
    process.stderr.write(`copylab ${cmd}: ${pending} of ${o.total} points not finished (copylab sweep status ${id})\n`);
    code = Math.max(code, EXIT_FAILED);
  }
  return code !== EXIT_OK ? code : printed ? EXIT_OK : EXIT_FAILED;
}

/** --retention and --timeout in seconds, or a one-line refusal (exit 2). */
export function queueTimes(cmd: string, c: QueueCliOptions): { retention: number; timeout: number } | number {
  try {
    const retention = c.retention !== undefined ? parseRetention(c.retention) : RETENTION_DEFAULT_S;
    const timeout = c.timeout !== undefined ? parseDuration(c.timeout, '--timeout', 1, RETENTION_MAX_S) : retention;
    return { retention, timeout };
  } catch (err) {
    if (!(err instanceof SweepRecordError)) throw err;
    process.stderr.write(`copylab ${cmd}: ${err.message}\n`);
    return EXIT_USAGE;
  }
}

/** Says what was submitted; with --detach prints the sweep id and returns true. */
export function announce(s: Submitted, display: string, detach: boolean | undefined, what = 'points'): boolean {
  const id = s.record.id;
  const total = new Set(s.record.points).size;
  process.stderr.write(`sweep ${id}: ${total} ${what} on ${display}${s.reused ? `, ${s.reused} already done` : ''}${s.retried ? `, ${s.retried} failed before and queued again` : ''}\n`);
  if (detach) process.stdout.write(`${id}\n`);
  return detach === true;
}

/** Waits for the sweep's points with a progress line, hearing of finished jobs through the queue's events. */
export async function waitWithProgress<T>(target: QueueTarget, queue: Queue, record: SweepRecord, timeoutS: number, kind: ResultKind<T>, what = 'points'): Promise<Outcome<T>> {
  const bar = progressLine(process.stderr.isTTY === true, what);
  const events = gcQueueEvents(target);
  try {
    const finished = (wake: () => void): (() => void) => {
      events.on('completed', wake);
      events.on('failed', wake);
      return () => void events.removeAllListeners('completed').removeAllListeners('failed');
    };
    return await waitSweep(queue, record, bar.show, timeoutS * 1000, undefined, finished, kind);
  } finally {
    await events.close().catch(() => {});
    bar.end();
  }
}

export async function queuedSweep(runs: readonly GcOptions[], c: QueueCliOptions, print: (points: SweepPoint[]) => Promise<boolean>): Promise<number> {
  const cmd = 'gc sweep';
  const times = queueTimes(cmd, c);
  if (typeof times === 'number') return times;
  return withQueue(cmd, c.queue!, async (redis, queue, target) => {
    const s = await submitSweep(redis, queue, runs, times.retention);
    if (announce(s, target.display, c.detach)) return EXIT_OK;
    const o = await waitWithProgress(target, queue, s.record, times.timeout, GC_RESULTS);
    return report(cmd, s.record.id, o, print);
  });
}
