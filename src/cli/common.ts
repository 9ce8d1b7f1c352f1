/** Shared pieces of the copylab command's subcommands. */
import { loadScenario } from '../scenario/run.js';
import { parseScenarioText, type Scenario } from '../scenario/parse.js';
import { DEFAULT_SCENARIO_YAML } from '../scenario/default-lab.js';
import { errnoName } from '../util/errno.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Subcommands report their exit code through this. */
export type SetExit = (code: number) => void;

/** The scenario in FILE, or the built-in default lab when there is none. */
export function scenarioFrom(file: string | undefined): Scenario {
  return file ? loadScenario(file) : parseScenarioText(DEFAULT_SCENARIO_YAML, 'default lab');
}

/** Prints `copylab: message (ERRNO)` to stderr and returns EXIT_FAILED. */
export function fail(message: string, res: number): number {
  process.stderr.write(`copylab: ${message} (${errnoName(res)})\n`);
  return EXIT_FAILED;
}
