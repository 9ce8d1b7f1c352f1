/** Shared pieces of the copylab command's subcommands: exit codes, the lab a command works on. */
import { buildLab, loadScenario } from '../scenario/run.js';
import { parseScenarioText, type Scenario } from '../scenario/parse.js';
import { DEFAULT_SCENARIO_YAML } from '../scenario/default-lab.js';
import { errnoName } from '../../core/util/errno.js';
import type { Lab } from '../lab.js';
import type { Command } from 'commander';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Subcommands report their exit code through this. */
export type SetExit = (code: number) => void;

/** A command line that cannot be used: printed as `copylab: message`, exit 2 (numbers.ts). */
export { UsageError } from './numbers.js';
import { UsageError } from './numbers.js';

/** How a command loads its scenario (the options of allowOutsidePathsOption). */
export interface ScenarioLoadOptions {
  readonly allowOutsidePaths?: boolean;
}

export const ALLOW_OUTSIDE_PATHS_HELP = "let the scenario's data_file paths leave its folder (absolute paths, .., symbolic links); refused by default";

/** `--allow-outside-paths`, on every command that loads a scenario (src/app/scenario/data-file.ts says why). */
export function allowOutsidePathsOption(c: Command): Command {
  return c.option('--allow-outside-paths', ALLOW_OUTSIDE_PATHS_HELP);
}

/** The scenario in FILE, or the built-in default lab when there is none. */
export function scenarioFrom(file: string | undefined, opts: ScenarioLoadOptions = {}): Scenario {
  return file ? loadScenario(file, { allowOutsidePaths: opts.allowOutsidePaths === true }) : parseScenarioText(DEFAULT_SCENARIO_YAML, 'default lab');
}

/** The lab a `copylab shell` keeps alive; commands run inside it use it instead of building one. */
let shellLab: { lab: Lab; scenario: Scenario; source: string } | undefined;

export function setShellLab(s: { lab: Lab; scenario: Scenario; source: string } | undefined): void {
  shellLab = s;
}

export function inShell(): boolean {
  return shellLab !== undefined;
}

export interface LabHandle {
  readonly lab: Lab;
  readonly scenario: Scenario;
  /** Closes the lab, unless it is the shell's (which lives until the shell ends). */
  release(): Promise<void>;
}

/** The lab for one command: the shell's, or one built from --scenario FILE (default: the default lab). */
export function openLab(file: string | undefined, opts: ScenarioLoadOptions = {}): LabHandle {
  if (shellLab) {
    if (file !== undefined) throw new UsageError(`--scenario: this shell's lab is ${shellLab.source}; start another with \`copylab shell --scenario ${file}\``);
    return { lab: shellLab.lab, scenario: shellLab.scenario, release: async () => {} };
  }
  const scenario = scenarioFrom(file, opts);
  const lab = buildLab(scenario);
  return { lab, scenario, release: () => lab.close() };
}

/** `/dev/x: not a <what> of this lab (<what>s: …; devices: …)`, for refusals naming a device. */
export function notInLab(dev: string, lab: Lab, what: string, matching: (name: string) => boolean): string {
  const names = lab.list().map((d) => d.name).sort(natural);
  const these = names.filter(matching).map((n) => `/dev/${n}`);
  const mapper = lab.dm.names().map((n) => `/dev/mapper/${n}`);
  const all = [...names.map((n) => `/dev/${n}`), ...mapper];
  const where = shellLab ? `this shell's lab (${shellLab.source})` : 'this lab';
  const article = /^([aeiou]|NVMe)/i.test(what) ? 'an' : 'a';
  return `${dev}: not ${article} ${what} of ${where}; ${these.length ? `its ${what}s: ${these.join(', ')}` : `it has no ${what}`} (devices: ${all.join(', ') || 'none'})${shellLab ? '' : '; --scenario FILE builds another lab'}`;
}

/** nullb2 before nullb10. */
export function natural(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Prints `copylab: message (ERRNO)` to stderr and returns EXIT_FAILED. */
export function fail(message: string, res: number): number {
  process.stderr.write(`copylab: ${message} (${errnoName(res)})\n`);
  return EXIT_FAILED;
}
