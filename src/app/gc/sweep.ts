/**
 * `copylab gc sweep`: a grid of GC runs (policy × path × spare factor × workload) on the tag-only
 * device, one run per task on the lab's piscina pool, results in grid order.
 */
import { WorkPool } from '../../core/util/pool.js';
import { checkGcOptions, type GcOptions } from './options.js';
import type { GcPathName } from './paths.js';
import type { VictimPolicyName } from './policies.js';
import type { GcResult } from './result.js';
import { layoutOf } from './run.js';

/** Most runs in one sweep (a limit on everything). */
export const SWEEP_MAX_RUNS = 256;

export interface SweepGrid {
  readonly policies: readonly VictimPolicyName[];
  readonly paths: readonly GcPathName[];
  readonly spareFactors: readonly number[];
  readonly workloads: readonly string[];
}

export function sweepRuns(base: GcOptions, g: SweepGrid): GcOptions[] {
  const out: GcOptions[] = [];
  for (const workload of g.workloads)
    for (const policy of g.policies)
      for (const path of g.paths)
        for (const spareFactor of g.spareFactors) {
          const o = { ...base, workload, policy, path, spareFactor };
          checkGcOptions(o);
          layoutOf(o);
          out.push(o);
        }
  if (out.length > SWEEP_MAX_RUNS) throw new RangeError(`a sweep runs at most ${SWEEP_MAX_RUNS} points; this grid has ${out.length}`);
  return out;
}

export async function runSweep(runs: readonly GcOptions[], onDone?: (done: number, total: number) => void): Promise<GcResult[]> {
  const pool = new WorkPool();
  let done = 0;
  try {
    return await Promise.all(
      runs.map(async (o) => {
        const r = await pool.run<GcOptions, GcResult>('gc-sweep.task', o);
        onDone?.(++done, runs.length);
        return r;
      }),
    );
  } finally {
    await pool.destroy();
  }
}
