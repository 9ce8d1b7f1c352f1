/**
 * The copylab command. Exit codes: 0 success, 1 an expectation or operation failed,
 * 2 the command line or scenario could not be used (named in the message).
 * Each subcommand lives in commands/ and registers itself here.
 */
import { Command, CommanderError } from 'commander';
import { ScenarioError } from '../scenario/run.js';
import { EXIT_OK, EXIT_USAGE } from './common.js';
import { registerRun } from './commands/run.js';
import { registerSysfs } from './commands/sysfs.js';
import { registerNvme } from './commands/nvme.js';
import { registerScsi } from './commands/scsi.js';
import { registerDm } from './commands/dm.js';
import { registerServe } from './commands/serve.js';
import { registerGc } from './commands/gc.js';
import { registerBench } from './commands/bench.js';
import { registerTrace } from './commands/trace.js';
import { registerPlot } from './commands/plot.js';
import { registerHeuristic } from './commands/heuristic.js';

export function makeProgram(setExit: (code: number) => void): Command {
  const program = new Command('copylab')
    .description('A laboratory for storage copy offload: block layer, REQ_OP_COPY, virtual devices.')
    .version('0.1.0')
    .exitOverride()
    // Program options (only --version) come before a subcommand, so that `gc sweep` keeps its own options.
    .enablePositionalOptions()
    .configureOutput({ outputError: (s, write) => write(s) });
  registerRun(program, setExit);
  registerSysfs(program, setExit);
  registerNvme(program, setExit);
  registerScsi(program, setExit);
  registerDm(program, setExit);
  registerServe(program, setExit);
  registerGc(program, setExit);
  registerBench(program, setExit);
  registerTrace(program, setExit);
  registerPlot(program, setExit);
  registerHeuristic(program, setExit);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = EXIT_OK;
  const program = makeProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (err instanceof ScenarioError) {
      process.stderr.write(`copylab: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  return code;
}
