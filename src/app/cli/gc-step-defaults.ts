/**
 * `copylab gc --scenario F --dev D` and `gc sweep --scenario F --dev D`: the scenario's first
 * `gc` step on that device gives the run options the command line leaves out (docs/gc.md, On
 * lab devices), and stderr says which it took.
 */
import type { GcOptions } from '../gc/options.js';
import type { Scenario } from '../scenario/parse.js';
import { gcStepOn } from '../scenario/steps/gc.js';

/** Whether an option was given on the command line (not a default): commander's value source. */
export type Given = (option: string) => boolean;

/** The step's options that a command line can give, by the step's option name. */
type StepOption = 'path' | 'policy' | 'spareFactor' | 'overwrites' | 'workload' | 'seed' | 'ageThreshold';

/** `copylab gc`'s options, each to the step's option it takes. */
export const RUN_STEP_KEYS: Readonly<Record<string, StepOption>> = { path: 'path', policy: 'policy', spareFactor: 'spareFactor', overwrites: 'overwrites', workload: 'workload', seed: 'seed', ageThreshold: 'ageThreshold' };
/** `copylab gc sweep`'s: a grid list not given is the step's one value. */
export const SWEEP_STEP_KEYS: Readonly<Record<string, StepOption>> = { paths: 'path', policies: 'policy', spareFactors: 'spareFactor', overwrites: 'overwrites', workloads: 'workload', seed: 'seed', ageThreshold: 'ageThreshold' };

const asOption = (name: string): string => `--${name.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`;

/**
 * `c` with the options not `given` taken from the scenario's gc step on `dev` (as the strings a
 * command line gives), or `c` itself when the scenario has no such step.
 */
export function withStepDefaults<T extends object>(c: T, scenario: Scenario, dev: string, given: Given, keys: Readonly<Record<string, StepOption>>, cmd: string): T {
  const path = dev.startsWith('/dev/') ? dev : `/dev/${dev}`;
  const step = gcStepOn(scenario.steps, path);
  if (!step) return c;
  const out: Record<string, unknown> = { ...(c as Record<string, unknown>) };
  const taken: string[] = [];
  for (const [option, from] of Object.entries(keys)) {
    if (given(option)) continue;
    const value = String(step[from]);
    if (out[option] !== value) taken.push(`${asOption(option)} ${value}`);
    out[option] = value;
  }
  if (taken.length) process.stderr.write(`copylab ${cmd}: note: from the scenario's gc step on ${path}: ${taken.join(', ')} (options on the command line override it)\n`);
  return out as T;
}
