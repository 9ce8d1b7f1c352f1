/**
 * Submitting a sweep to the queue: every grid point a job whose id is the hash of its options.
 * A point already finished (by an earlier submission of the same point) is not run again; a point
 * that failed is run again.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { GC_LIMITS } from '../gc/constants.js';
import type { GcOptions } from '../gc/options.js';
import { checkPoint, pointId, pointPayload } from './point.js';
import { saveRecord, sweepId, type SweepRecord } from './record.js';

/** Most finished jobs of each kind the queue keeps, whatever their age (bounds Redis' memory). */
export const QUEUE_KEEP_JOBS = 100_000;

export interface Submitted {
  readonly record: SweepRecord;
  /** Points already finished when the sweep was submitted. */
  readonly reused: number;
  /** Failed points queued again. */
  readonly retried: number;
}

/** A task to queue: its job id (a hash of its data), its data, and what it is in messages. */
export interface QueuedTask {
  readonly id: string;
  readonly name: 'gc' | 'bench';
  readonly data: unknown;
  readonly label: string;
}

export async function submitSweep(redis: Redis, queue: Queue, runs: readonly GcOptions[], retentionS: number): Promise<Submitted> {
  const payloads = runs.map(pointPayload);
  // The checks every worker applies, here first: a sweep the workers would refuse is not queued.
  for (const p of payloads) checkPoint(p, GC_LIMITS.maxBytes);
  const tasks = payloads.map((data, i) => ({ id: pointId(data), name: 'gc' as const, data, label: `${runs[i]!.workload} ${runs[i]!.policy} ${runs[i]!.path} Sf ${runs[i]!.spareFactor}` }));
  return submitTasks(redis, queue, tasks, retentionS);
}

/** Queues the tasks (checked by the caller) under one sweep record; `kind` says they are bench tasks. */
export async function submitTasks(redis: Redis, queue: Queue, tasks: readonly QueuedTask[], retentionS: number, kind?: 'bench'): Promise<Submitted> {
  const ids = tasks.map((t) => t.id);
  const labels = tasks.map((t) => t.label.slice(0, 200));
  const record: SweepRecord = { v: 1, id: sweepId(ids), created_ms: Date.now(), retention_s: retentionS, points: ids, labels, ...(kind ? { kind } : {}) };
  await saveRecord(redis, record);
  const unique = new Map(tasks.map((t) => [t.id, t]));
  const states = await Promise.all([...unique.keys()].map((id) => queue.getJobState(id)));
  let reused = 0;
  let retried = 0;
  const keep = { age: retentionS, count: QUEUE_KEEP_JOBS };
  const add: { name: string; data: unknown; opts: object }[] = [];
  let i = 0;
  for (const [id, t] of unique) {
    const state = states[i++];
    if (state === 'completed') reused++;
    else if (state === 'failed') {
      await (await queue.getJob(id))?.retry('failed');
      retried++;
    } else if (state === 'unknown') add.push({ name: t.name, data: t.data, opts: { jobId: id, attempts: 1, removeOnComplete: keep, removeOnFail: keep } });
  }
  if (add.length) await queue.addBulk(add);
  return { record, reused, retried };
}
