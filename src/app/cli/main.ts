/**
 * The copylab command. Exit codes: 0 success, 1 an expectation or operation failed (an output
 * that failed once the work had started: a full disk), 2 the command line, scenario or an input
 * or output file could not be used (named in the message, one line).
 * Each subcommand lives in commands/ and registers itself here; every command and subcommand
 * has a description and answers --help (test/cli/help.test.ts walks them all).
 */
import { Command, CommanderError } from 'commander';
import { ScenarioError } from '../scenario/run.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './common.js';
import { OutputError } from '../../core/util/output-file.js';
import { guardStdout } from './stdout.js';
import { suggestUnknownCommands } from './suggest.js';
import { registerRun } from './commands/run.js';
import { registerSysfs } from './commands/sysfs.js';
import { registerNvme } from './commands/nvme.js';
import { registerScsi } from './commands/scsi.js';
import { registerDm, rewriteDmsetupArgv } from './commands/dm.js';
import { registerServe } from './commands/serve.js';
import { registerLab } from './commands/lab.js';
import { registerSchema } from './commands/schema.js';
import { registerShell } from './commands/shell.js';
import { registerGc } from './commands/gc.js';
import { registerBench } from './commands/bench.js';
import { registerTrace } from './commands/trace.js';
import { registerPlot } from './commands/plot.js';
import { registerHeuristic } from './commands/heuristic.js';
import { registerSweep } from './commands/sweep.js';
import { registerWorker } from './commands/worker.js';
import { registerFs, rewriteFsArgv } from './commands/fs.js';

export function makeProgram(setExit: (code: number) => void): Command {
  const program = new Command('copylab')
    .description('A laboratory for storage copy offload: block layer, REQ_OP_COPY, virtual devices. Without --scenario every command works on the default lab (`copylab lab` shows it).')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    // Program options (only --version) come before a subcommand, so that `gc sweep` keeps its own options.
    .enablePositionalOptions()
    .configureOutput({ outputError: (s, write) => write(s) });
  registerRun(program, setExit);
  registerLab(program, setExit);
  registerSysfs(program, setExit);
  registerNvme(program, setExit);
  registerScsi(program, setExit);
  registerDm(program, setExit);
  registerServe(program, setExit);
  registerGc(program, setExit);
  registerFs(program, setExit);
  registerSweep(program, setExit);
  registerWorker(program, setExit);
  registerBench(program, setExit);
  registerTrace(program, setExit);
  registerPlot(program, setExit);
  registerHeuristic(program, setExit);
  registerSchema(program, setExit);
  registerShell(program, setExit, { makeProgram, runCommand });
  // Subcommands inherit exitOverride and the output settings (so a shell line never exits the process).
  const inherit = (c: Command): void => {
    for (const sub of c.commands) {
      sub.exitOverride().showHelpAfterError('(add --help for usage)').configureOutput({ outputError: (s, write) => write(s) });
      inherit(sub);
    }
  };
  inherit(program);
  suggestUnknownCommands(program);
  return program;
}

/** Runs one command line (without `copylab`) and returns its exit code; prints its own errors. */
export async function runCommand(argv: readonly string[]): Promise<number> {
  let code = EXIT_OK;
  const program = makeProgram((c) => (code = c));
  try {
    await program.parseAsync(rewriteFsArgv(rewriteDmsetupArgv(argv)), { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (err instanceof ScenarioError || err instanceof UsageError) {
      process.stderr.write(`copylab: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof OutputError) {
      process.stderr.write(`copylab: ${err.message}\n`);
      return err.started ? EXIT_FAILED : EXIT_USAGE;
    }
    throw err;
  }
  return code;
}

/** The command-line entry point (bin/copylab.js). */
export async function main(argv: string[]): Promise<number> {
  guardStdout();
  return runCommand(argv);
}
