/**
 * A sweep's record in Redis: its grid points' job ids in grid order, when it was submitted and
 * how long its results are kept. The record expires with the retention; so do its results.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { KEY_PREFIX } from './queue.js';

/** Shortest and longest retention of a sweep's record and results (a limit on everything). */
export const RETENTION_MIN_S = 60;
export const RETENTION_MAX_S = 90 * 86400;
export const RETENTION_DEFAULT_S = 7 * 86400;
/** Largest record read back (a record of 256 points is about 12 KiB). */
const RECORD_MAX_BYTES = 64 * 1024;

export interface SweepRecord {
  readonly v: 1;
  readonly id: string;
  readonly created_ms: number;
  readonly retention_s: number;
  /** Job ids in grid order (a point given twice appears twice, and runs once). */
  readonly points: readonly string[];
  /** What each point is (workload, policy, path, spare factor), for messages about it. */
  readonly labels: readonly string[];
  readonly cancelled?: boolean;
  /** What the points are: bench tasks (copylab bench --queue); GC points when absent. */
  readonly kind?: 'bench';
}

export class SweepRecordError extends Error {}

export const sweepKey = (id: string): string => `${KEY_PREFIX}:sweeps:${id}`;

/** A sweep's id: a hash of its points (the same grid, the same sweep). */
export function sweepId(points: readonly string[]): string {
  return `sw-${createHash('sha256').update(points.join(',')).digest('hex').slice(0, 16)}`;
}

/** `30s`, `15m`, `12h`, `7d` or plain seconds → seconds, from `min` to `max`. */
export function parseDuration(text: string, option: string, min: number, max: number): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  const s = m ? Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'] : NaN;
  if (!(s >= min && s <= max)) throw new SweepRecordError(`${option}: expected a time such as 30s, 12h or 7d, from ${min} s to ${max / 86400} days, got "${text.slice(0, 40)}"`);
  return s;
}

export const parseRetention = (text: string): number => parseDuration(text, '--retention', RETENTION_MIN_S, RETENTION_MAX_S);

export async function saveRecord(r: Redis, rec: SweepRecord): Promise<void> {
  await r.set(sweepKey(rec.id), JSON.stringify(rec), 'EX', rec.retention_s);
}

/** Marks a record cancelled, keeping its expiry. */
export async function markCancelled(r: Redis, rec: SweepRecord): Promise<void> {
  await r.set(sweepKey(rec.id), JSON.stringify({ ...rec, cancelled: true }), 'KEEPTTL');
}

export async function loadRecord(r: Redis, id: string): Promise<SweepRecord> {
  if (!/^sw-[0-9a-f]{16}$/.test(id)) throw new SweepRecordError(`"${id.slice(0, 40)}" is not a sweep id (sw- and 16 hex digits, as copylab gc sweep --detach prints)`);
  const text = await r.get(sweepKey(id));
  if (text === null) throw new SweepRecordError(`no sweep ${id} on this queue (never submitted, or expired after its retention)`);
  let rec: unknown;
  try {
    if (text.length > RECORD_MAX_BYTES) throw new Error('too large');
    rec = JSON.parse(text);
  } catch {
    throw new SweepRecordError(`sweep ${id}: the record in Redis is not readable`);
  }
  const o = rec as Partial<SweepRecord>;
  const points = o?.points;
  const labels = o?.labels;
  if (o?.v !== 1 || o.id !== id || !Array.isArray(points) || !points.every((p) => typeof p === 'string' && /^(gc|bench)-[0-9a-f]{32}$/.test(p)) || (o.kind !== undefined && o.kind !== 'bench') || !Array.isArray(labels) || labels.length !== points.length || !labels.every((l) => typeof l === 'string')) {
    throw new SweepRecordError(`sweep ${id}: the record in Redis is not a sweep record of this version`);
  }
  return o as SweepRecord;
}
