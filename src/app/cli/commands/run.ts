/** `copylab run [FILE | --scenario FILE] [--json] [--trace] [--print]` */
import type { Command } from 'commander';
import { runScenario } from '../../scenario/run.js';
import { DEFAULT_SCENARIO_YAML } from '../../scenario/default-lab.js';
import { formatJsonLines, formatTable } from '../../scenario/report.js';
import { openTraceFile } from '../../../core/trace/writer.js';
import { allowOutsidePathsOption, EXIT_FAILED, EXIT_OK, scenarioFrom, UsageError, type SetExit } from '../common.js';

interface RunOptions {
  scenario?: string;
  json?: boolean;
  trace?: boolean;
  print?: boolean;
  traceOut?: string;
  allowOutsidePaths?: boolean;
}

/** The scenario named as the argument or with --scenario (as every other command takes it); both must agree. */
export function runScenarioFile(arg: string | undefined, option: string | undefined): string | undefined {
  if (arg !== undefined && option !== undefined && arg !== option) throw new UsageError(`run: two scenarios, ${arg} and --scenario ${option}; name one`);
  return arg ?? option;
}

async function run(arg: string | undefined, opts: RunOptions): Promise<number> {
  const file = runScenarioFile(arg, opts.scenario);
  if (opts.print && file !== undefined) throw new UsageError(`run --print prints the default lab's scenario; it takes no scenario (${file})`);
  if (opts.print) {
    process.stdout.write(DEFAULT_SCENARIO_YAML);
    return EXIT_OK;
  }
  const scenario = scenarioFrom(file, opts);
  const progress = !opts.json && process.stderr.isTTY && scenario.steps.length > 1;
  const sink = opts.traceOut !== undefined ? openTraceFile(opts.traceOut, `copylab run ${file ?? ''}`.trim()) : undefined;
  let report;
  try {
    report = await runScenario(scenario, {
      ...(opts.trace ? { trace: true } : {}),
      ...(sink ? { traceSink: sink } : {}),
      ...(progress ? { onStep: (r, n) => process.stderr.write(`\r  step ${r.step}/${n} ${r.kind.padEnd(12)}`) } : {}),
    });
  } finally {
    sink?.close();
  }
  if (progress) process.stderr.write('\r\x1b[K');
  if (opts.json) {
    if (report.steps.length) process.stdout.write(formatJsonLines(report) + '\n');
  } else {
    process.stdout.write(`${file ?? 'default lab'}\n`);
    process.stdout.write(formatTable(report, process.stdout.isTTY ? { color: true, width: process.stdout.columns } : {}) + '\n');
    if (opts.trace) {
      for (const r of report.steps) if (r.trace) process.stdout.write(`\n# step ${r.step} ${r.kind} ${r.target}\n${r.trace}\n`);
    }
  }
  // A trace file that failed during the run (a full disk): the report above, then this, exit 1.
  if (sink?.error) throw sink.error;
  return report.ok ? EXIT_OK : EXIT_FAILED;
}

export function registerRun(program: Command, setExit: SetExit): void {
  allowOutsidePathsOption(program.command('run [scenario]'))
    .description('run a scenario file (YAML), given as the argument or with --scenario; with no file, the built-in default lab')
    .option('-s, --scenario <file>', 'the scenario to run (the same as the argument)')
    .option('--json', 'print one JSON object per step')
    .option('--trace', "print each step's blktrace-style trace")
    .option('--trace-out <file>', 'stream every trace event to FILE (msgpack; read with copylab trace)')
    .option('--print', "print the default lab's scenario instead of running it")
    .action(async (file: string | undefined, opts: RunOptions) => setExit(await run(file, opts)));
}
