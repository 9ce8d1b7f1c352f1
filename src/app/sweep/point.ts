/**
 * One grid point of a distributed sweep as a queue job: a data-only payload (JSON of the run's
 * options), its id (a hash of the options, so a resubmitted sweep finds its finished points), and
 * the checks a worker applies before running it. A payload passes the checks the CLI applies
 * (checkGcOptions, layoutOf) after a check of its shape: every field of its type, no other field.
 */
import { createHash } from 'node:crypto';
import { checkGcOptions, type GcOptions } from '../gc/options.js';
import { layoutOf } from '../gc/run.js';
import { firstLine, type GcFailureKind } from '../gc/failure.js';
import type { FailedPoint } from '../gc/sweep-point.js';

export { firstLine };

/** Largest payload a worker takes, as JSON (a limit on everything). */
export const POINT_MAX_PAYLOAD_BYTES = 4096;
/** Longest workload or timing spec in a payload. */
export const POINT_MAX_SPEC_CHARS = 256;
/** Most time-series samples a queued point may ask for (its result is stored in Redis). */
export const POINT_MAX_SERIES_POINTS = 2000;
/** Payload format version. */
export const POINT_VERSION = 1;

export interface PointPayload {
  readonly kind: 'gc';
  readonly v: number;
  readonly options: GcOptions;
}

export class PointError extends Error {}

const FIELDS: Record<string, 'int' | 'number' | 'string' | 'optint'> = {
  size: 'int',
  zoneBytes: 'optint',
  zoneCapacityBytes: 'optint',
  segsPerSection: 'int',
  spareFactor: 'number',
  policy: 'string',
  path: 'string',
  workload: 'string',
  overwrites: 'number',
  seed: 'int',
  timing: 'string',
  allocation: 'string',
  ageThreshold: 'number',
  seriesPoints: 'int',
};

/** The payload of a run's options: the known fields only, in a fixed order (undefined ones left out). */
export function pointPayload(o: GcOptions): PointPayload {
  const options: Record<string, unknown> = {};
  for (const k of Object.keys(FIELDS)) {
    const v = (o as unknown as Record<string, unknown>)[k];
    if (v !== undefined) options[k] = v;
  }
  return { kind: 'gc', v: POINT_VERSION, options: options as unknown as GcOptions };
}

/** The job id of a point: a hash of its payload (the same options, the same id). */
export function pointId(p: PointPayload): string {
  return `gc-${createHash('sha256').update(JSON.stringify(p)).digest('hex').slice(0, 32)}`;
}

/**
 * The run options of a payload that came off the queue (or is about to go on it), or a
 * PointError saying in one line what is wrong. `maxSize` is the largest device the worker runs.
 */
export function checkPoint(data: unknown, maxSize: number): GcOptions {
  const bad = (why: string): never => {
    throw new PointError(`malformed task: ${why}`);
  };
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch {
    bad('not JSON data');
  }
  if (json === undefined) return bad('no payload');
  if (json.length > POINT_MAX_PAYLOAD_BYTES) bad(`the payload is ${json.length} bytes; at most ${POINT_MAX_PAYLOAD_BYTES}`);
  if (!isRecord(data)) return bad('the payload is not an object');
  for (const k of Object.keys(data)) if (k !== 'kind' && k !== 'v' && k !== 'options') bad(`unknown field "${k.slice(0, 40)}"`);
  if (data.kind !== 'gc') bad(`kind must be "gc", not ${JSON.stringify(data.kind)?.slice(0, 40)}`);
  if (data.v !== POINT_VERSION) bad(`format version ${JSON.stringify(data.v)?.slice(0, 20)}; this worker reads version ${POINT_VERSION}`);
  const o = data.options;
  if (!isRecord(o)) return bad('options is not an object');
  for (const k of Object.keys(o)) if (!Object.hasOwn(FIELDS, k)) bad(`unknown option "${k.slice(0, 40)}"`);
  for (const [k, type] of Object.entries(FIELDS)) {
    const v = o[k];
    if (type === 'optint' && v === undefined) continue;
    if (type === 'string' ? typeof v !== 'string' : type === 'number' ? !(typeof v === 'number' && Number.isFinite(v)) : !Number.isSafeInteger(v)) {
      bad(`${k} must be ${type === 'string' ? 'a string' : type === 'number' ? 'a finite number' : 'an integer'}, not ${JSON.stringify(v)?.slice(0, 40) ?? 'missing'}`);
    }
    if (type === 'string' && (v as string).length > POINT_MAX_SPEC_CHARS) bad(`${k} is longer than ${POINT_MAX_SPEC_CHARS} characters`);
  }
  const opts = o as unknown as GcOptions;
  // A trace file is on the submitting machine; a worker reads no file a task names.
  if (opts.workload.startsWith('trace:')) bad('trace: workloads name a file and do not run on the queue');
  if (!(opts.size > 0 && opts.size <= maxSize)) bad(`size ${opts.size} is over this worker's --max-size (${maxSize} bytes)`);
  if (opts.seriesPoints > POINT_MAX_SERIES_POINTS) bad(`seriesPoints: at most ${POINT_MAX_SERIES_POINTS} on the queue`);
  try {
    checkGcOptions(opts);
    layoutOf(opts);
  } catch (err) {
    bad(firstLine(err));
  }
  return opts;
}

/**
 * What a worker stores as a failed job's reason: the failure's kind and its one-line message,
 * `refused: MESSAGE` (usage: the point's options or layout, exit 2 as a local sweep) or
 * `failed: MESSAGE` (the run failed, exit 1). A job's failed reason is a string, the one thing
 * BullMQ keeps of a failure.
 */
export function failureReason(kind: GcFailureKind, message: string): string {
  return `${kind === 'usage' ? 'refused' : 'failed'}: ${firstLine(message)}`;
}

/** A failed job's kind and message; a reason of another form (BullMQ's own: a job stalled too often) is a failed run. */
export function parseFailureReason(reason: string): { kind: GcFailureKind; message: string } {
  const line = firstLine(reason, 400);
  const m = /^(refused|failed): (.*)$/.exec(line);
  if (!m) return { kind: 'failed', message: line };
  return { kind: m[1] === 'refused' ? 'usage' : 'failed', message: m[2]! };
}

/**
 * The failed point (grid coordinates, message, kind) of a failed job, as a local sweep reports it;
 * undefined when the job's data does not hold a point's coordinates (a job not of ours).
 */
export function failedPointOf(data: unknown, kind: GcFailureKind, error: string): FailedPoint | undefined {
  if (!isRecord(data) || !isRecord(data.options)) return undefined;
  const { workload, policy, path, spareFactor } = data.options;
  if (typeof workload !== 'string' || typeof policy !== 'string' || typeof path !== 'string' || typeof spareFactor !== 'number') return undefined;
  if (workload.length > POINT_MAX_SPEC_CHARS || policy.length > POINT_MAX_SPEC_CHARS || path.length > POINT_MAX_SPEC_CHARS) return undefined;
  return { workload, policy: policy as FailedPoint['policy'], path: path as FailedPoint['path'], spare_factor: spareFactor, error, error_kind: kind };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
