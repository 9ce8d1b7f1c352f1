/**
 * What became of a sweep's points: their states on the queue, their results and failure reasons,
 * waiting for them with progress, and cancelling what has not started.
 */
import type { Queue } from 'bullmq';
import type { BenchRun } from '../bench/task.js';
import type { GcFailureKind } from '../gc/failure.js';
import type { GcResult } from '../gc/result.js';
import type { SweepPoint } from '../gc/sweep-point.js';
import { failedPointOf, parseFailureReason } from './point.js';
import type { SweepRecord } from './record.js';

/** How often a waiting sweep asks for its points' states. */
export const POLL_MS = 500;

export type PointState = 'done' | 'failed' | 'running' | 'queued' | 'gone';

export interface Failure {
  readonly id: string;
  readonly label: string;
  /** usage: the point was refused (its options, its layout); failed: its run failed, or it is gone. */
  readonly kind: GcFailureKind;
  readonly reason: string;
}

export interface Outcome<T = SweepPoint> {
  /**
   * The points in grid order as a local sweep gives them: a result, or a failed point (its
   * coordinates, one-line error and kind); undefined where a point has neither (not finished yet,
   * gone from the queue, or a job not of ours).
   */
  readonly points: readonly (T | undefined)[];
  readonly failures: readonly Failure[];
  readonly counts: Readonly<Record<PointState, number>>;
  /** Distinct points (a point given twice counts once). */
  readonly total: number;
}

const unique = (r: SweepRecord): string[] => [...new Set(r.points)];

function stateOf(s: string): PointState {
  if (s === 'completed') return 'done';
  if (s === 'failed') return 'failed';
  if (s === 'active') return 'running';
  if (s === 'unknown') return 'gone';
  return 'queued';
}

export async function pointStates(queue: Queue, ids: readonly string[]): Promise<Map<string, PointState>> {
  const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
  return new Map(ids.map((id, i) => [id, stateOf(states[i]!)]));
}

/** What a kind of task stores: how to tell its result, and the row of a failed one (if it has one). */
export interface ResultKind<T> {
  /** What a result is, in messages. */
  readonly what: string;
  isResult(v: unknown): v is T;
  failedOf(data: unknown, kind: GcFailureKind, message: string): T | undefined;
}

/** GC points: a GcResult, or a failed point with its grid coordinates. */
export const GC_RESULTS: ResultKind<SweepPoint> = {
  what: 'a GC result',
  isResult: (v): v is GcResult => typeof v === 'object' && v !== null && typeof (v as GcResult).waf === 'number' && typeof (v as GcResult).policy === 'string',
  failedOf: failedPointOf,
};

/** Bench tasks (copylab bench --queue): fio's result and whether a job failed; a failed task has no row. */
export const BENCH_RESULTS: ResultKind<BenchRun> = {
  what: 'a bench result',
  isResult: (v): v is BenchRun => {
    const o = v as { result?: { jobs?: unknown }; failed?: unknown } | null;
    return typeof o === 'object' && o !== null && typeof o.failed === 'boolean' && typeof o.result === 'object' && o.result !== null && Array.isArray(o.result.jobs);
  },
  failedOf: () => undefined,
};

/** The sweep's points as they are now: results of the finished ones, reasons of the failed ones. */
export async function outcome<T = SweepPoint>(queue: Queue, record: SweepRecord, kind: ResultKind<T> = GC_RESULTS as unknown as ResultKind<T>): Promise<Outcome<T>> {
  const ids = unique(record);
  const labelOf = new Map(record.points.map((id, i) => [id, record.labels[i]!]));
  const label = (id: string): string => labelOf.get(id) ?? 'unknown point';
  const states = await pointStates(queue, ids);
  const points = new Map<string, T>();
  const failures: Failure[] = [];
  const counts: Record<PointState, number> = { done: 0, failed: 0, running: 0, queued: 0, gone: 0 };
  await Promise.all(
    ids.map(async (id) => {
      let s = states.get(id)!;
      if (s === 'done' || s === 'failed' || s === 'gone') {
        const job = await queue.getJob(id);
        if (s === 'done' && job && kind.isResult(job.returnvalue)) points.set(id, job.returnvalue);
        else if (s === 'done') {
          s = 'failed';
          failures.push({ id, label: label(id), kind: 'failed', reason: `the stored result is not ${kind.what}` });
        } else if (s === 'failed') {
          const f = parseFailureReason(job?.failedReason ?? 'failed');
          failures.push({ id, label: label(id), kind: f.kind, reason: f.message });
          const p = kind.failedOf(job?.data, f.kind, f.message);
          if (p) points.set(id, p);
        } else failures.push({ id, label: label(id), kind: 'failed', reason: 'not on the queue (cancelled, or expired after its retention)' });
      }
      counts[s]++;
    }),
  );
  failures.sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
  return { points: record.points.map((id) => points.get(id)), failures, counts, total: ids.length };
}

export interface Progress {
  readonly done: number;
  readonly failed: number;
  readonly total: number;
  /** Seconds to go at the pace so far (NaN before the first point finishes). */
  readonly eta_s: number;
}

/** How soon after one look at the points' states the next may be (a burst of finishes is one look). */
export const MIN_LOOK_MS = 50;

/**
 * Says when a job on the queue finished (BullMQ's queue events): `wake` is called then, and the
 * wait looks at its points at once instead of at its next poll. Returns the unsubscribe.
 */
export type FinishSignal = (wake: () => void) => () => void;

/**
 * Waits until every point is done, failed or gone, calling `onProgress` when a count changes.
 * It looks at the states of the points not yet finished when `finished` says a job finished (at
 * most every MIN_LOOK_MS) and every POLL_MS in any case (an event can be missed: a connection
 * lost, a job removed). Gives up after `timeoutMs` (the outcome then has points still queued or
 * running).
 */
export async function waitSweep<T = SweepPoint>(queue: Queue, record: SweepRecord, onProgress: (p: Progress) => void, timeoutMs: number, stop?: AbortSignal, finished?: FinishSignal, kind: ResultKind<T> = GC_RESULTS as unknown as ResultKind<T>): Promise<Outcome<T>> {
  const ids = unique(record);
  const t0 = performance.now();
  let first: number | undefined;
  let last = '';
  // Points done, failed or gone are not looked at again until all are (a failed point queued
  // again by another submission is then found by the outcome, and waited for).
  const ended = new Map<string, PointState>();
  let wake: (() => void) | undefined;
  let woken = false;
  const unsubscribe = finished?.(() => {
    woken = true;
    wake?.();
  });
  try {
    for (;;) {
      const lookAt = ids.filter((id) => !ended.has(id));
      const looked = performance.now();
      woken = false;
      for (const [id, s] of await pointStates(queue, lookAt)) if (s === 'done' || s === 'failed' || s === 'gone') ended.set(id, s);
      let done = 0;
      for (const s of ended.values()) if (s === 'done') done++;
      const failed = ended.size - done;
      first ??= ended.size;
      const now = performance.now();
      const ran = ended.size - first;
      const left = ids.length - ended.size;
      const key = `${done}/${failed}`;
      if (key !== last) {
        last = key;
        onProgress({ done, failed, total: ids.length, eta_s: ran > 0 ? ((now - t0) / ran) * left / 1000 : left === 0 ? 0 : NaN });
      }
      const out = now - t0 > timeoutMs || stop?.aborted === true;
      if (left === 0 || out) {
        const o = await outcome(queue, record, kind);
        if (out || o.counts.queued + o.counts.running === 0) return o;
        // Some point was queued again meanwhile: wait for it too.
        for (const [id, s] of await pointStates(queue, ids)) if (s === 'queued' || s === 'running') ended.delete(id);
      }
      // The next look: at the next poll, or as soon as a job finishes (not sooner than MIN_LOOK_MS after this one).
      await new Promise<void>((resolve) => {
        let timer = setTimeout(resolve, POLL_MS);
        wake = () => {
          wake = undefined;
          clearTimeout(timer);
          timer = setTimeout(resolve, Math.max(0, looked + MIN_LOOK_MS - performance.now()));
        };
        if (woken) wake();
      });
      wake = undefined;
    }
  } finally {
    unsubscribe?.();
  }
}

/** Removes the sweep's points that have not started; running ones finish. */
export async function cancelPoints(queue: Queue, record: SweepRecord): Promise<{ removed: number; running: number; finished: number }> {
  const states = await pointStates(queue, unique(record));
  let removed = 0;
  let running = 0;
  let finished = 0;
  for (const [id, s] of states) {
    if (s === 'queued') {
      const job = await queue.getJob(id);
      try {
        await job?.remove();
        removed++;
      } catch {
        // Taken by a worker in the meantime: it runs to its end.
        running++;
      }
    } else if (s === 'running') running++;
    else if (s === 'done' || s === 'failed') finished++;
  }
  return { removed, running, finished };
}
