/**
 * Jobs too short to measure on wall time. A run of a few milliseconds is mostly JIT warm-up and
 * timer granularity, and a few hundred I/Os give no percentile worth printing: the harness says so
 * on stderr (fio does not; its users learn it the hard way). Jobs on modeled time are exempt:
 * their figures are exact for the I/Os they ran, however few.
 */
import type { FioResult } from './result.js';

/** Least wall time a job should measure (after its ramp), ms. */
export const SHORT_RUN_MIN_MS = 1000;
/** Least I/Os a job should complete over its directions. */
export const SHORT_RUN_MIN_IOS = 10_000;

/** One line per wall-clock job under either floor, naming what it measured. */
export function shortRunWarnings(result: FioResult): string[] {
  const out: string[] = [];
  for (const j of result.jobs) {
    if (j.copylab.clock !== 'wall' || j.error) continue;
    const ios = j.read.total_ios + j.write.total_ios + j.trim.total_ios + j.copy.total_ios;
    if (j.job_runtime >= SHORT_RUN_MIN_MS && ios >= SHORT_RUN_MIN_IOS) continue;
    out.push(
      `warning: job '${j.jobname}' measured ${j.job_runtime} ms of wall time and ${ios} I/Os ` +
        `(under ${SHORT_RUN_MIN_MS / 1000} s or ${SHORT_RUN_MIN_IOS.toLocaleString('en-US')} I/Os): too short to trust; ` +
        'make it time_based with runtime= and ramp_time=, or run it on a timed device',
    );
  }
  return out;
}
