/**
 * What became of a sweep's points: their states on the queue, their results and failure reasons,
 * waiting for them with progress, and cancelling what has not started.
 */
import type { Queue } from 'bullmq';
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

export interface Outcome {
  /**
   * The points in grid order as a local sweep gives them: a result, or a failed point (its
   * coordinates, one-line error and kind); undefined where a point has neither (not finished yet,
   * gone from the queue, or a job not of ours).
   */
  readonly points: readonly (SweepPoint | undefined)[];
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

function isResult(v: unknown): v is GcResult {
  return typeof v === 'object' && v !== null && typeof (v as GcResult).waf === 'number' && typeof (v as GcResult).policy === 'string';
}

/** The sweep's points as they are now: results of the finished ones, reasons of the failed ones. */
export async function outcome(queue: Queue, record: SweepRecord): Promise<Outcome> {
  const ids = unique(record);
  const labelOf = new Map(record.points.map((id, i) => [id, record.labels[i]!]));
  const label = (id: string): string => labelOf.get(id) ?? 'unknown point';
  const states = await pointStates(queue, ids);
  const points = new Map<string, SweepPoint>();
  const failures: Failure[] = [];
  const counts: Record<PointState, number> = { done: 0, failed: 0, running: 0, queued: 0, gone: 0 };
  await Promise.all(
    ids.map(async (id) => {
      let s = states.get(id)!;
      if (s === 'done' || s === 'failed' || s === 'gone') {
        const job = await queue.getJob(id);
        if (s === 'done' && isResult(job?.returnvalue)) points.set(id, job.returnvalue);
        else if (s === 'done') {
          s = 'failed';
          failures.push({ id, label: label(id), kind: 'failed', reason: 'the stored result is not a GC result' });
        } else if (s === 'failed') {
          const f = parseFailureReason(job?.failedReason ?? 'failed');
          failures.push({ id, label: label(id), kind: f.kind, reason: f.message });
          const p = failedPointOf(job?.data, f.kind, f.message);
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

/**
 * Waits until every point is done, failed or gone, calling `onProgress` when a count changes.
 * Gives up after `timeoutMs` (the outcome then has points still queued or running).
 */
export async function waitSweep(queue: Queue, record: SweepRecord, onProgress: (p: Progress) => void, timeoutMs: number, stop?: AbortSignal): Promise<Outcome> {
  const ids = unique(record);
  const t0 = performance.now();
  let first: number | undefined;
  let last = '';
  for (;;) {
    const states = await pointStates(queue, ids);
    let done = 0;
    let failed = 0;
    for (const s of states.values()) {
      if (s === 'done') done++;
      else if (s === 'failed' || s === 'gone') failed++;
    }
    first ??= done + failed;
    const now = performance.now();
    const ran = done + failed - first;
    const left = ids.length - done - failed;
    const key = `${done}/${failed}`;
    if (key !== last) {
      last = key;
      onProgress({ done, failed, total: ids.length, eta_s: ran > 0 ? ((now - t0) / ran) * left / 1000 : left === 0 ? 0 : NaN });
    }
    if (left === 0 || now - t0 > timeoutMs || stop?.aborted) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return outcome(queue, record);
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
