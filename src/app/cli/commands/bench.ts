/** `copylab bench JOBFILE… [--scenario F] [--output-format normal|json|json+|terse] [--trace-out FILE] [--plot FILE]` */
import type { Command } from 'commander';
import { buildLab } from '../../scenario/run.js';
import { loadJobFiles, JobFileError } from '../../bench/jobfile.js';
import { modeledClockOf, runJobs, timedDevice } from '../../bench/engine.js';
import { fioResult } from '../../bench/result.js';
import { formatNormal, formatTerse } from '../../bench/format.js';
import { progressLine, PROGRESS_AFTER_NS } from '../../bench/progress.js';
import { allowOutsidePathsOption, EXIT_FAILED, EXIT_OK, EXIT_USAGE, scenarioFrom, type SetExit } from '../common.js';
import { openTraceFile, type TraceWriter } from '../../../core/trace/writer.js';
import { checkOutput, writeOutput } from '../../../core/util/output-file.js';
import { LogSet, plannedLogPaths } from '../../bench/fio-logs.js';
import { shippedJobHint, shippedJobsDir } from '../../bench/shipped-jobs.js';

export const OUTPUT_FORMATS = ['normal', 'json', 'json+', 'terse'] as const;

interface BenchCliOptions {
  scenario?: string;
  allowOutsidePaths?: boolean;
  outputFormat: string;
  traceOut?: string;
  plot?: string;
}

async function bench(files: string[], opts: BenchCliOptions): Promise<number> {
  const format = opts.outputFormat;
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    process.stderr.write(`copylab: --output-format: '${format}' is not one of ${OUTPUT_FORMATS.join(', ')}\n`);
    return EXIT_USAGE;
  }
  // Outputs are checked before anything runs (the trace file is opened once the lab is ready).
  if (opts.traceOut !== undefined) checkOutput(opts.traceOut);
  if (opts.plot !== undefined) checkOutput(opts.plot);
  // `bench/jobs/…` typed outside a checkout: name where copylab's own copy is.
  for (const f of [...files, ...(opts.scenario !== undefined ? [opts.scenario] : [])]) {
    const hint = shippedJobHint(f);
    if (hint !== undefined) {
      process.stderr.write(`copylab: ${hint}\n`);
      return EXIT_USAGE;
    }
  }
  let jobs;
  try {
    jobs = loadJobFiles(files);
  } catch (err) {
    if (err instanceof JobFileError) {
      process.stderr.write(`copylab: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  // fio's write_bw_log / write_lat_log / write_iops_log files, checked before anything runs too.
  for (const f of plannedLogPaths(jobs)) checkOutput(f);
  const scenario = scenarioFrom(opts.scenario, opts);
  const lab = buildLab(scenario);
  // The scenario's steps prepare the lab (sysfs settings, fills) before the jobs run.
  for (const [i, step] of scenario.steps.entries()) {
    const o = await step.run(lab, lab.newTrace());
    if (!o.ok) {
      await lab.close();
      process.stderr.write(`copylab: ${opts.scenario ?? 'default lab'}: step ${i + 1} (${step.kind}) failed: ${o.message ?? `res ${o.res}`}\n`);
      return EXIT_USAGE;
    }
  }
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
  const progress = !json && process.stderr.isTTY === true;
  let shown = false;
  const started = new Date();
  try {
    const runs = await runJobs(jobs, {
      lab,
      modeled: modeledClockOf(lab),
      timed: (dev) => timedDevice(lab, dev),
      trace,
      logs,
      onProgress: progress
        ? (p) => {
            if (p.elapsed_ns < PROGRESS_AFTER_NS) return;
            shown = true;
            process.stderr.write(`\r${progressLine(p)}\x1b[K`);
          }
        : undefined,
    });
    if (shown) process.stderr.write('\r\x1b[K');
    const result = fioResult(runs, (r) => r.spec.filename!, started, { plus: format === 'json+' });
    if (json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else if (format === 'terse') process.stdout.write(formatTerse(result));
    else process.stdout.write(formatNormal(result, jobs));
    if (opts.plot !== undefined) {
      const { renderResultsSvg } = await import('../../plot/plot.js');
      writeOutput(opts.plot, await renderResultsSvg(result));
    }
    trace?.close();
    logs.close();
    if (trace?.error) throw trace.error;
    if (logs.error) throw logs.error;
    return runs.some((r) => r.error) ? EXIT_FAILED : EXIT_OK;
  } catch (err) {
    if (err instanceof JobFileError) {
      process.stderr.write(`copylab: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  } finally {
    trace?.close();
    logs.close();
    await lab.close();
  }
}

export function registerBench(program: Command, setExit: SetExit): void {
  allowOutsidePathsOption(program.command('bench'))
    .description('run fio job files against the lab; results in fio\'s formats (normal, json, json+, terse)')
    .argument('<jobfile...>', 'fio job files (INI)')
    .option('--scenario <file>', 'the lab to run in (YAML); default: the built-in default lab')
    .option('--output-format <format>', `one of ${OUTPUT_FORMATS.join(', ')}`, 'normal')
    .option('--trace-out <file>', 'stream every trace event to FILE (msgpack; read with copylab trace)')
    .option('--plot <file>', 'also render the results as an SVG chart')
    .addHelpText('after', () => {
      const dir = shippedJobsDir();
      return dir === undefined ? '' : `\nThe job files and labs copylab ships (bench/jobs) are in ${dir}\n`;
    })
    .action(async (files: string[], opts: BenchCliOptions) => setExit(await bench(files, opts)));
}
