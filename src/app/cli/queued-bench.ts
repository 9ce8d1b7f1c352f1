/**
 * `copylab bench JOBFILE… [--scenario F]… --queue URL`: each job file on each scenario (or on the
 * default lab) is a task on the queue, its payload the two texts; `copylab worker` processes run
 * them, each in a lab of its own, and this command prints each task's result as
 * `copylab bench JOBFILE --scenario F` prints it, in order. Loaded only with --queue.
 */
import { readFileBounded, BoundedReadError } from '../../core/util/read-bounded.js';
import { JobFileError, readJobFile } from '../bench/jobfile.js';
import type { JobSpec } from '../bench/job.js';
import { formatNormal, formatTerse } from '../bench/format.js';
import { shortRunWarnings } from '../bench/short-run.js';
import { BENCH_TASK_MAX_TEXT_BYTES, BENCH_TASK_VERSION, BenchTaskError, benchTaskId, benchTaskLabel, checkBenchTask, type BenchTaskPayload } from '../bench/task.js';
import { ScenarioError } from '../scenario/fields.js';
import { BENCH_RESULTS } from '../sweep/outcome.js';
import { submitTasks } from '../sweep/submit.js';
import { announce, queueTimes, waitWithProgress, withQueue, type QueueCliOptions } from './queued-sweep.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './common.js';

/** Most tasks in one queued bench (job files × scenarios; a limit on everything). */
export const BENCH_QUEUE_MAX_TASKS = 256;

const usage = (message: string): number => {
  process.stderr.write(`copylab bench: ${message}\n`);
  return EXIT_USAGE;
};

function scenarioText(file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(readFileBounded(file, BENCH_TASK_MAX_TEXT_BYTES));
  } catch (err) {
    if (err instanceof BoundedReadError) throw new ScenarioError(`${file}: ${err.message} (a queued task's scenario)`);
    if (err instanceof TypeError) throw new ScenarioError(`${file}: not UTF-8 text`);
    throw err;
  }
}

export async function queuedBench(files: readonly string[], scenarios: readonly string[], c: QueueCliOptions, format: string): Promise<number> {
  const cmd = 'bench';
  const times = queueTimes(cmd, c);
  if (typeof times === 'number') return times;
  const count = files.length * Math.max(1, scenarios.length);
  if (count > BENCH_QUEUE_MAX_TASKS) return usage(`--queue: at most ${BENCH_QUEUE_MAX_TASKS} tasks (job files × scenarios); this is ${count}`);
  // Every task checked as a worker will check it, before any is queued.
  const tasks: { payload: BenchTaskPayload; jobs: JobSpec[] }[] = [];
  try {
    const jobTexts = files.map((f) => ({ name: f, text: readJobFile(f, BENCH_TASK_MAX_TEXT_BYTES) }));
    const scenarioTexts = scenarios.length ? scenarios.map((f) => ({ name: f, text: scenarioText(f) })) : [null];
    for (const jobfile of jobTexts)
      for (const scenario of scenarioTexts) {
        const t = checkBenchTask({ kind: 'bench', v: BENCH_TASK_VERSION, jobfile, scenario, plus: format === 'json+' });
        tasks.push({ payload: t.payload, jobs: t.jobs });
      }
  } catch (err) {
    if (err instanceof JobFileError || err instanceof ScenarioError || err instanceof BenchTaskError) return usage(err.message.split('\n')[0]!);
    throw err;
  }
  return withQueue(cmd, c.queue!, async (redis, queue, target) => {
    const s = await submitTasks(redis, queue, tasks.map((t) => ({ id: benchTaskId(t.payload), name: 'bench', data: t.payload, label: benchTaskLabel(t.payload) })), times.retention, 'bench');
    if (announce(s, target.display, c.detach, 'tasks')) return EXIT_OK;
    const o = await waitWithProgress(target, queue, s.record, times.timeout, BENCH_RESULTS, 'tasks');
    let code = EXIT_OK;
    for (const [i, t] of tasks.entries()) {
      const r = o.points[i];
      if (!r) continue;
      // Several tasks: each result under the task's name, as tail names its files (not in JSON, whose documents follow each other).
      if (tasks.length > 1 && (format === 'normal' || format === 'terse')) process.stdout.write(`==> ${benchTaskLabel(t.payload)} <==\n`);
      if (format === 'json' || format === 'json+') process.stdout.write(JSON.stringify(r.result, null, 2) + '\n');
      else if (format === 'terse') process.stdout.write(formatTerse(r.result));
      else process.stdout.write(formatNormal(r.result, t.jobs));
      for (const w of shortRunWarnings(r.result)) process.stderr.write(`copylab ${cmd}: ${benchTaskLabel(t.payload)}: ${w}\n`);
      if (r.failed) code = EXIT_FAILED;
    }
    for (const f of o.failures) {
      process.stderr.write(`copylab ${cmd}: ${f.label} (${f.id}): ${f.reason}\n`);
      code = Math.max(code, f.kind === 'usage' ? EXIT_USAGE : EXIT_FAILED);
    }
    const pending = o.counts.queued + o.counts.running;
    if (pending) {
      process.stderr.write(`copylab ${cmd}: ${pending} of ${o.total} tasks not finished (copylab sweep status ${s.record.id})\n`);
      code = Math.max(code, EXIT_FAILED);
    }
    return code;
  });
}
