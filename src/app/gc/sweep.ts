/**
 * `copylab gc sweep`: a grid of GC runs (policy × path × spare factor × workload) on the tag-only
 * device or a lab device (each point in a lab of its own), one run per task on the lab's piscina
 * pool, points in grid order: a result, or the point's failure (sweep-point.ts).
 */
import { WorkPool } from '../../core/util/pool.js';
import { checkGcOptions, type GcOptions } from './options.js';
import type { GcPathName } from './paths.js';
import type { VictimPolicyName } from './policies.js';
import { layoutOf } from './run.js';
import type { LabSweepTarget, SweepPoint, SweepTask } from './sweep-point.js';

/** Most runs in one sweep (a limit on everything). */
export const SWEEP_MAX_RUNS = 256;

export interface SweepGrid {
  readonly policies: readonly VictimPolicyName[];
  readonly paths: readonly GcPathName[];
  readonly spareFactors: readonly number[];
  readonly workloads: readonly string[];
}

/** The tag-only device's checks of a point (a lab device's are openLabDevice's, against the device). */
export function checkTagOnlyPoint(o: GcOptions): void {
  checkGcOptions(o);
  layoutOf(o);
}

/** The grid's points in order, each checked by `check` (a GcOptionError or LayoutError names what is wrong). */
export function sweepRuns(base: GcOptions, g: SweepGrid, check: (o: GcOptions) => void = checkTagOnlyPoint): GcOptions[] {
  const out: GcOptions[] = [];
  for (const workload of g.workloads)
    for (const policy of g.policies)
      for (const path of g.paths)
        for (const spareFactor of g.spareFactors) {
          const o = { ...base, workload, policy, path, spareFactor };
          check(o);
          out.push(o);
        }
  if (out.length > SWEEP_MAX_RUNS) throw new RangeError(`a sweep runs at most ${SWEEP_MAX_RUNS} points; this grid has ${out.length}`);
  return out;
}

/** Runs the points on the pool (on `lab`'s device when given); a point that fails is reported, the others run. */
export async function runSweep(runs: readonly GcOptions[], onDone?: (done: number, total: number) => void, lab?: LabSweepTarget): Promise<SweepPoint[]> {
  const pool = new WorkPool();
  let done = 0;
  try {
    return await Promise.all(
      runs.map(async (options) => {
        const r = await pool.run<SweepTask, SweepPoint>('gc-sweep.task', lab ? { options, lab } : { options });
        onDone?.(++done, runs.length);
        return r;
      }),
    );
  } finally {
    await pool.destroy();
  }
}
