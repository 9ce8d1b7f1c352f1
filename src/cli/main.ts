#!/usr/bin/env node
/**
 * The copylab command. Exit codes: 0 success, 1 an expectation or operation failed,
 * 2 the command line or scenario could not be used (named in the message).
 */
import { Command, CommanderError } from 'commander';
import { loadScenario, runScenario, buildLab, ScenarioError } from '../scenario/run.js';
import { parseScenarioText, type Scenario } from '../scenario/parse.js';
import { DEFAULT_SCENARIO_YAML } from '../scenario/default-lab.js';
import { formatJsonLines, formatTable } from '../scenario/report.js';
import { errnoName } from '../util/errno.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

function scenarioFrom(file: string | undefined): Scenario {
  return file ? loadScenario(file) : parseScenarioText(DEFAULT_SCENARIO_YAML, 'default lab');
}

async function cmdRun(file: string | undefined, opts: { json?: boolean; trace?: boolean; print?: boolean }): Promise<number> {
  if (opts.print) {
    process.stdout.write(DEFAULT_SCENARIO_YAML);
    return EXIT_OK;
  }
  const scenario = scenarioFrom(file);
  const progress = !opts.json && process.stderr.isTTY && scenario.steps.length > 1;
  const report = await runScenario(scenario, {
    ...(opts.trace ? { trace: true } : {}),
    ...(progress ? { onStep: (r, n) => process.stderr.write(`\r  step ${r.step}/${n} ${r.kind.padEnd(12)}`) } : {}),
  });
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
  return report.ok ? EXIT_OK : EXIT_FAILED;
}

function sysfsLab(opts: { scenario?: string }) {
  return buildLab(scenarioFrom(opts.scenario));
}

function fail(message: string, res: number): number {
  process.stderr.write(`copylab: ${message} (${errnoName(res)})\n`);
  return EXIT_FAILED;
}

export function makeProgram(setExit: (code: number) => void): Command {
  const program = new Command('copylab')
    .description('A laboratory for storage copy offload: block layer, REQ_OP_COPY, virtual devices.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });

  program
    .command('run [scenario]')
    .description('run a scenario file (YAML); with no file, the built-in default lab')
    .option('--json', 'print one JSON object per step')
    .option('--trace', 'print each step\'s blktrace-style trace')
    .option('--print', 'print the default lab\'s scenario instead of running it')
    .action(async (file: string | undefined, opts) => setExit(await cmdRun(file, opts)));

  const sysfs = program.command('sysfs').description('read and write the lab\'s sysfs tree (devices from --scenario or the default lab)');
  sysfs
    .command('ls [path]')
    .option('-s, --scenario <file>', 'scenario whose devices make up the lab')
    .option('-R, --recursive', 'list every file below path with its value')
    .action((path: string | undefined, opts: { scenario?: string; recursive?: boolean }) => {
      const lab = sysfsLab(opts);
      const p = path ?? '/sys/block';
      if (opts.recursive) {
        const files = lab.sysfs.walk(p);
        if (!files.length) return setExit(fail(`${p}: No such file or directory`, -2));
        for (const f of files) process.stdout.write(`${f} = ${lab.sysfs.read(f).value ?? ''}\n`);
        return setExit(EXIT_OK);
      }
      const r = lab.sysfs.ls(p);
      if (r.res < 0) return setExit(fail(r.message ?? p, r.res));
      for (const e of r.entries!) process.stdout.write(`${e.name}${e.type === 'dir' ? '/' : e.mode === 'rw' ? '  (rw)' : ''}\n`);
      setExit(EXIT_OK);
    });
  sysfs
    .command('cat <path>')
    .option('-s, --scenario <file>', 'scenario whose devices make up the lab')
    .action((path: string, opts: { scenario?: string }) => {
      const r = sysfsLab(opts).sysfs.read(path);
      if (r.res < 0) return setExit(fail(r.message ?? path, r.res));
      process.stdout.write(`${r.value}\n`);
      setExit(EXIT_OK);
    });
  sysfs
    .command('write <path> <value>')
    .option('-s, --scenario <file>', 'scenario whose devices make up the lab')
    .description('write a value and print what the attribute reads back (the lab lives for this command only)')
    .action((path: string, value: string, opts: { scenario?: string }) => {
      const r = sysfsLab(opts).sysfs.write(path, value);
      if (r.res < 0) return setExit(fail(`write error: ${r.message ?? path}`, r.res));
      process.stdout.write(`${r.value}\n`);
      setExit(EXIT_OK);
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = EXIT_OK;
  const program = makeProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (err instanceof ScenarioError) {
      process.stderr.write(`copylab: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  return code;
}
