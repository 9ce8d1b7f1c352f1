/**
 * What a failed GC run means to its user, by the error it threw: `usage` (the options, the
 * scenario, the workload or the device cannot make a run: exit 2) or `failed` (the run started
 * and failed: a lost or misplaced block, no free section, a device error: exit 1). One place for
 * `copylab gc` and for sweeps, whose points fail on pool threads (an error crossing a thread
 * loses its class, so a point's failure is classified where it happens and travels as data).
 */
import { ScenarioError } from '../scenario/fields.js';
import { GcDeviceError } from './lab-mover.js';
import { LayoutError } from './layout.js';
import { NoSpaceError } from './lfs.js';
import { GcOptionError } from './options.js';
import { GcIntegrityError } from './tag.js';
import { TraceFileError } from './trace-file.js';
import { WorkloadError } from './workload.js';

export type GcFailureKind = 'usage' | 'failed';

/** The kind of a known failure; null for an error no check names (a bug, or an I/O error below). */
export function knownFailure(err: unknown): GcFailureKind | null {
  if (err instanceof GcOptionError || err instanceof LayoutError || err instanceof WorkloadError || err instanceof TraceFileError || err instanceof ScenarioError) return 'usage';
  if (err instanceof GcIntegrityError || err instanceof NoSpaceError || err instanceof GcDeviceError) return 'failed';
  return null;
}

/** Longest failure message a sweep point keeps. */
export const FAILURE_MAX_CHARS = 300;

/** An error's message as one bounded line. */
export function firstLine(err: unknown, max = FAILURE_MAX_CHARS): string {
  const m = err instanceof Error ? err.message : String(err);
  const line = (m.split('\n')[0] ?? '').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
