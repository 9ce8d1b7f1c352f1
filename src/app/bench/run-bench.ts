/**
 * The bench harness in one call, for the library: fio jobs (a job file's text or parsed jobs)
 * run against a lab, the result in fio's JSON shape (what `copylab bench --output-format=json`
 * prints; formatNormal and formatTerse print the other two, renderResultsSvg draws it).
 * Devices with a timing model run on the lab's modeled clock, as `copylab bench` runs them.
 */
import type { Lab } from '../lab.js';
import type { TraceSink } from '../../core/trace/record.js';
import { parseJobText } from './jobfile.js';
import type { JobSpec } from './job.js';
import { modeledClockOf, runJobs, timedDevice, type Progress } from './engine.js';
import { fioResult, type FioResult } from './result.js';

export interface RunBenchOptions {
  /** Where the job text came from, for messages (default `jobs.fio`). */
  readonly file?: string;
  /** Every trace event of the run (openTraceFile writes them to a file). */
  readonly trace?: TraceSink;
  readonly onProgress?: (p: Progress) => void;
}

/** Runs the jobs; rejects with a JobFileError naming the job and line when one cannot run on this lab. */
export async function runBench(lab: Lab, jobs: string | readonly JobSpec[], options: RunBenchOptions = {}): Promise<FioResult> {
  const specs = typeof jobs === 'string' ? parseJobText(jobs, options.file ?? 'jobs.fio') : jobs;
  const started = new Date();
  const runs = await runJobs(specs, { lab, modeled: modeledClockOf(lab), timed: (dev) => timedDevice(lab, dev), trace: options.trace, onProgress: options.onProgress });
  return fioResult(runs, (r) => r.spec.filename!, started);
}
