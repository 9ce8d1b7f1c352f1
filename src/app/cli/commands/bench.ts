/**
 * `copylab bench JOBFILE… [--scenario F] [--output-format normal|json|json+|terse] [--trace-out FILE] [--plot FILE] [--repeat N]`,
 * or with `--queue URL` (and --scenario F as often as wanted) each job file on each scenario as a
 * task for `copylab worker` processes (queued-bench.ts).
 */
import type { Command } from 'commander';
import { availableParallelism, loadavg } from 'node:os';
import type { Lab } from '../../lab.js';
import type { Scenario } from '../../scenario/parse.js';
import type { JobSpec } from '../../bench/job.js';
import { loadJobFiles, JobFileError } from '../../bench/jobfile.js';
import { modeledClockOf, runJobs, timedDevice } from '../../bench/engine.js';
import { fioResult, type FioResult } from '../../bench/result.js';
import { formatNormal, formatTerse } from '../../bench/format.js';
import { progressLine, PROGRESS_AFTER_NS } from '../../bench/progress.js';
import { allowOutsidePathsOption, EXIT_FAILED, EXIT_OK, EXIT_USAGE, scenarioFrom, type SetExit } from '../common.js';
import { openTraceFile, type TraceWriter } from '../../../core/trace/writer.js';
import { checkOutput, writeOutput } from '../../../core/util/output-file.js';
import { LogSet, plannedLogPaths } from '../../bench/fio-logs.js';
import { shippedJobHint, shippedJobsDir } from '../../bench/shipped-jobs.js';
import { BENCH_MAX_REPEAT, formatRepeat, repeatRows } from '../../bench/repeat.js';
import { shortRunWarnings } from '../../bench/short-run.js';
import { preparedLab } from '../../bench/task.js';
import type { QueueCliOptions } from '../queued-sweep.js';

export const OUTPUT_FORMATS = ['normal', 'json', 'json+', 'terse'] as const;

interface BenchCliOptions extends QueueCliOptions {
  /** Given once, or (with --queue) as often as wanted. */
  scenario?: string[];
  allowOutsidePaths?: boolean;
  outputFormat: string;
  traceOut?: string;
  plot?: string;
  repeat?: string;
}

const usage = (message: string): number => {
  process.stderr.write(`copylab: ${message}\n`);
  return EXIT_USAGE;
};

/** Runs the jobs once in `lab`: fio's JSON shape, and whether a job failed. */
async function runOnce(lab: Lab, jobs: readonly JobSpec[], o: { trace?: TraceWriter; logs?: LogSet; progress: boolean; plus: boolean }): Promise<{ result: FioResult; failed: boolean }> {
  let shown = false;
  const started = new Date();
  const runs = await runJobs(jobs, {
    lab,
    modeled: modeledClockOf(lab),
    timed: (dev) => timedDevice(lab, dev),
    trace: o.trace,
    logs: o.logs,
    onProgress: o.progress
      ? (p) => {
          if (p.elapsed_ns < PROGRESS_AFTER_NS) return;
          shown = true;
          process.stderr.write(`\r${progressLine(p)}\x1b[K`);
        }
      : undefined,
  });
  if (shown) process.stderr.write('\r\x1b[K');
  return { result: fioResult(runs, (r) => r.spec.filename!, started, { plus: o.plus }), failed: runs.some((r) => r.error) };
}

async function bench(files: string[], opts: BenchCliOptions): Promise<number> {
  const format = opts.outputFormat;
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) return usage(`--output-format: '${format}' is not one of ${OUTPUT_FORMATS.join(', ')}`);
  const repeat = opts.repeat === undefined ? 1 : Number(opts.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > BENCH_MAX_REPEAT) return usage(`--repeat: expected a whole number of runs, 1 to ${BENCH_MAX_REPEAT}, got '${opts.repeat}'`);
  if (repeat > 1) {
    // Each run would overwrite the one file: a trace, a chart or fio's logs belong to one run.
    const one = opts.traceOut !== undefined ? '--trace-out' : opts.plot !== undefined ? '--plot' : format === 'terse' ? '--output-format=terse' : undefined;
    if (one !== undefined) return usage(`--repeat: not with ${one} (it describes one run; run once for it)`);
  }
  const scenarios = opts.scenario ?? [];
  if (opts.queue !== undefined) {
    const one = opts.traceOut !== undefined ? '--trace-out' : opts.plot !== undefined ? '--plot' : opts.repeat !== undefined ? '--repeat' : undefined;
    if (one !== undefined) return usage(`--queue: not with ${one} (it runs here: run without --queue for it)`);
    for (const f of [...files, ...scenarios]) {
      const hint = shippedJobHint(f);
      if (hint !== undefined) return usage(hint);
    }
    // Loaded only here: without --queue a bench needs no Redis and no queue code.
    const { queuedBench } = await import('../queued-bench.js');
    return queuedBench(files, scenarios, opts, format);
  }
  if (scenarios.length > 1) return usage('--scenario: given once without --queue (with --queue, each job file runs on each scenario)');
  for (const [o, v] of [['--detach', opts.detach], ['--retention', opts.retention], ['--timeout', opts.timeout]] as const) if (v !== undefined) return usage(`${o}: needs --queue URL`);
  const scenarioFile = scenarios[0];
  // Outputs are checked before anything runs (the trace file is opened once the lab is ready).
  if (opts.traceOut !== undefined) checkOutput(opts.traceOut);
  if (opts.plot !== undefined) checkOutput(opts.plot);
  // `bench/jobs/…` typed outside a checkout: name where copylab's own copy is.
  for (const f of [...files, ...(scenarioFile !== undefined ? [scenarioFile] : [])]) {
    const hint = shippedJobHint(f);
    if (hint !== undefined) return usage(hint);
  }
  let jobs;
  try {
    jobs = loadJobFiles(files);
  } catch (err) {
    if (err instanceof JobFileError) return usage(err.message);
    throw err;
  }
  // fio's write_bw_log / write_lat_log / write_iops_log files, checked before anything runs too.
  const logPaths = plannedLogPaths(jobs);
  if (repeat > 1 && logPaths.length) return usage(`--repeat: not with fio's log files (${logPaths[0]}: they describe one run; run once for them)`);
  for (const f of logPaths) checkOutput(f);
  const scenario = scenarioFrom(scenarioFile, opts);
  const scenarioName = scenarioFile ?? 'default lab';
  const json = format === 'json' || format === 'json+';
  try {
    return repeat > 1 ? await repeated(jobs, scenario, scenarioName, repeat, { json, plus: format === 'json+' }) : await single(jobs, scenario, scenarioName, files, opts);
  } catch (err) {
    if (err instanceof JobFileError) return usage(err.message);
    throw err;
  }
}

/** One run: fio's output in the chosen format, and the trace, logs and chart asked for. */
async function single(jobs: JobSpec[], scenario: Scenario, scenarioName: string, files: string[], opts: BenchCliOptions): Promise<number> {
  const format = opts.outputFormat;
  const lab = await preparedLab(scenario, scenarioName);
  if (typeof lab === 'string') return usage(lab);
  let trace: TraceWriter | undefined;
  let logs: LogSet | undefined;
  try {
    trace = opts.traceOut !== undefined ? openTraceFile(opts.traceOut, `copylab bench ${files.join(' ')}`, () => lab.clock.now()) : undefined;
    logs = LogSet.open(jobs);
  } catch (err) {
    trace?.close();
    await lab.close();
    throw err;
  }
  const json = format === 'json' || format === 'json+';
  try {
    const { result, failed } = await runOnce(lab, jobs, { trace, logs, progress: !json && process.stderr.isTTY === true, plus: format === 'json+' });
    if (json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else if (format === 'terse') process.stdout.write(formatTerse(result));
    else process.stdout.write(formatNormal(result, jobs));
    for (const w of shortRunWarnings(result)) process.stderr.write(`copylab: ${w}\n`);
    if (opts.plot !== undefined) {
      const { renderResultsSvg } = await import('../../plot/plot.js');
      writeOutput(opts.plot, await renderResultsSvg(result));
    }
    trace?.close();
    logs.close();
    if (trace?.error) throw trace.error;
    if (logs.error) throw logs.error;
    return failed ? EXIT_FAILED : EXIT_OK;
  } finally {
    trace?.close();
    logs.close();
    await lab.close();
  }
}

/**
 * `--repeat N`: the jobs N times, each run of the files in a lab built afresh, as N commands
 * would run them (a group of jobs meets the lab the groups before it left, as in one run); the
 * median, min, max and spread of each figure, with the machine's load average around them.
 */
async function repeated(jobs: JobSpec[], scenario: Scenario, scenarioName: string, n: number, o: { json: boolean; plus: boolean }): Promise<number> {
  const results: FioResult[] = [];
  const tty = !o.json && process.stderr.isTTY === true;
  const load0 = loadavg()[0]!;
  let failed = false;
  for (let i = 0; i < n; i++) {
    const lab = await preparedLab(scenario, scenarioName);
    if (typeof lab === 'string') return usage(lab);
    try {
      if (tty) process.stderr.write(`\rrun ${i + 1}/${n}\x1b[K`);
      const r = await runOnce(lab, jobs, { progress: false, plus: o.plus });
      results.push(r.result);
      failed ||= r.failed;
    } finally {
      await lab.close();
    }
  }
  if (tty) process.stderr.write('\r\x1b[K');
  if (results[0]) for (const w of shortRunWarnings(results[0])) process.stderr.write(`copylab: ${w}\n`);
  const rows = repeatRows(results);
  const load = { start: load0, end: loadavg()[0]!, cpus: availableParallelism() };
  if (o.json) process.stdout.write(JSON.stringify({ repeat: n, loadavg: load, summary: rows, runs: results }, null, 2) + '\n');
  else process.stdout.write(formatRepeat(rows, n, load));
  return failed ? EXIT_FAILED : EXIT_OK;
}

export function registerBench(program: Command, setExit: SetExit): void {
  allowOutsidePathsOption(program.command('bench'))
    .description('run fio job files against the lab; results in fio\'s formats (normal, json, json+, terse)')
    .argument('<jobfile...>', 'fio job files (INI)')
    .option('--scenario <file>', 'the lab to run in (YAML); default: the built-in default lab; with --queue, as often as wanted: each job file runs on each', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--output-format <format>', `one of ${OUTPUT_FORMATS.join(', ')}`, 'normal')
    .option('--trace-out <file>', 'stream every trace event to FILE (msgpack; read with copylab trace)')
    .option('--plot <file>', 'also render the results as an SVG chart')
    .option('--repeat <n>', `run the jobs n times (1-${BENCH_MAX_REPEAT}), each in a fresh lab, and print each figure's median, min, max and spread`)
    .option('--queue <url>', 'run each job file on each scenario as a task of `copylab worker` processes through Redis: redis://[user:password@]HOST:PORT[/db], rediss:// for TLS (docs/sweeps.md)')
    .option('--detach', 'with --queue: submit, print the sweep id and return (copylab sweep status|cancel ID)')
    .option('--retention <time>', 'with --queue: how long Redis keeps the tasks and their results (12h, 7d; 60 s to 90 days; default 7d)')
    .option('--timeout <time>', 'with --queue: stop waiting after this long (the tasks go on; default: the retention)')
    .addHelpText('after', () => {
      const dir = shippedJobsDir();
      return dir === undefined ? '' : `\nThe job files and labs copylab ships (bench/jobs) are in ${dir}\n`;
    })
    .action(async (files: string[], opts: BenchCliOptions) => setExit(await bench(files, opts)));
}
