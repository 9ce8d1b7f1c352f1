/**
 * One point of a GC sweep, as a pool thread runs it (workers/gc-sweep.task.ts): a run on the
 * tag-only device, or on a lab device in a lab of its own built from the scenario file. Whatever
 * happens comes back as data: the result, or the point's one-line failure with its kind
 * (failure.ts), since an error crossing to the main thread loses its class.
 */
import { loadScenario, buildLab } from '../scenario/run.js';
import { firstLine, knownFailure, type GcFailureKind } from './failure.js';
import { runGcOnLab } from './lab-backend.js';
import type { GcOptions } from './options.js';
import type { GcResult } from './result.js';
import { runGc } from './run.js';

/** A sweep on lab devices: every point builds its own lab from this scenario file and runs on `dev`. */
export interface LabSweepTarget {
  readonly scenario: string;
  readonly allowOutsidePaths: boolean;
  readonly dev: string;
}

/** What a pool thread is given for one point. */
export interface SweepTask {
  readonly options: GcOptions;
  readonly lab?: LabSweepTarget;
}

/** A point that did not give a result: the grid coordinates, its one-line error and what kind of failure. */
export interface FailedPoint {
  readonly workload: string;
  readonly policy: GcOptions['policy'];
  readonly path: GcOptions['path'];
  readonly spare_factor: number;
  readonly error: string;
  readonly error_kind: GcFailureKind;
}

export type SweepPoint = GcResult | FailedPoint;

export const isFailedPoint = (p: SweepPoint): p is FailedPoint => 'error' in p;

/** The failed point of `o` for `err`; an error no check names is reported as a failed run, with its message. */
export function failedPoint(o: GcOptions, err: unknown): FailedPoint {
  const kind = knownFailure(err);
  return {
    workload: o.workload,
    policy: o.policy,
    path: o.path,
    spare_factor: o.spareFactor,
    error: kind ? firstLine(err) : `internal error: ${firstLine(err)}`,
    error_kind: kind ?? 'failed',
  };
}

/** Runs one point; never throws. */
export async function runSweepPoint(t: SweepTask): Promise<SweepPoint> {
  try {
    if (!t.lab) return runGc(t.options);
    const lab = buildLab(loadScenario(t.lab.scenario, { allowOutsidePaths: t.lab.allowOutsidePaths }));
    try {
      return await runGcOnLab({ lab, dev: t.lab.dev }, t.options);
    } finally {
      await lab.close();
    }
  } catch (err) {
    return failedPoint(t.options, err);
  }
}
