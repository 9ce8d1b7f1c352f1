/**
 * The scenario runner: builds a Lab from a scenario and runs its steps in order, checking each
 * step's expectations. A failed expectation marks the step (and the report) not ok but the run
 * goes on, so one run shows every problem.
 */
import { Lab } from '../lab.js';
import { Trace } from '../../core/block/trace.js';
import { Errno, errnoName } from '../../core/util/errno.js';
import { ScenarioError } from './fields.js';
import { parseScenarioText, SCENARIO_LIMITS, type Scenario } from './parse.js';
import { BoundedReadError, readFileBounded } from '../../core/util/read-bounded.js';
import type { ParsedStep, StepOutcome } from './types.js';
import { scenarioFolder } from './data-file.js';
import { createStack } from '../dm/scenario.js';
import type { TraceSink } from '../../core/trace/record.js';

export { ScenarioError };

export interface StepResult extends StepOutcome {
  /** 1-based step number. */
  readonly step: number;
  readonly kind: string;
  readonly errno: string | null;
  readonly wall_ms: number;
  /** Modeled time the step took (docs/timing.md); 0 when no device of the lab has a timing model. */
  readonly modeled_us: number;
  readonly trace?: string;
}

export interface ScenarioReport {
  readonly ok: boolean;
  readonly steps: readonly StepResult[];
}

export interface RunOptions {
  /** Keep each step's blktrace-style trace in the result. */
  readonly trace?: boolean;
  /** Streams every step's trace events here (trace files); each step is one request id. */
  readonly traceSink?: TraceSink;
  /** Called after each step (progress). */
  readonly onStep?: (r: StepResult, total: number) => void;
}

/**
 * Reads (at most SCENARIO_LIMITS.textBytes) and parses a scenario file (`-`: standard input);
 * every problem is a ScenarioError. Its data_file paths resolve against its folder and may not
 * leave it unless `allowOutsidePaths` (data-file.ts).
 */
export function loadScenario(file: string, opts: { readonly allowOutsidePaths?: boolean } = {}): Scenario {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileBounded(file, SCENARIO_LIMITS.textBytes));
  } catch (err) {
    if (err instanceof BoundedReadError) throw new ScenarioError(`${file}: ${err.message}`);
    if (err instanceof TypeError) throw new ScenarioError(`${file}: not UTF-8 text`);
    throw err;
  }
  return parseScenarioText(text, file === '-' ? 'stdin' : file, { baseDir: scenarioFolder(file), ...opts });
}

/** Creates the scenario's lab and devices; a device the model refuses is a ScenarioError. */
export function buildLab(s: Scenario): Lab {
  let lab: Lab;
  try {
    lab = new Lab(s.lab);
  } catch (err) {
    throw new ScenarioError(`lab: ${(err as Error).message}`);
  }
  s.devices.forEach((d, i) => {
    try {
      d.create(lab);
    } catch (err) {
      throw new ScenarioError(`devices[${i}] (${d.provides.join(', ')}): ${(err as Error).message}`);
    }
  });
  const bad = createStack(lab, s.stack);
  if (bad) throw new ScenarioError(bad);
  return lab;
}

/** Runs one parsed step on a lab (scenario runs and `copylab shell` lines); never throws. */
export async function runStep(lab: Lab, step: ParsedStep, i: number, options: RunOptions = {}): Promise<StepResult> {
  const timed = lab.list().some((d) => d.timing);
  const t0 = process.hrtime.bigint();
  const m0 = lab.clock.now();
  const trace = options.traceSink ? new Trace(lab.clock, options.traceSink, options.traceSink.nextRequest()) : lab.newTrace();
  let outcome: StepOutcome;
  try {
    outcome = await step.run(lab, trace);
  } catch (err) {
    // A step that finds the scenario unusable while running (too many fault rules on a
    // device) stops the run like a parse error; anything else is the step's failure.
    if (err instanceof ScenarioError) throw err;
    outcome = { target: '', res: -Errno.EIO, ok: false, message: `internal error: ${(err as Error).message}` };
  }
  const r: StepResult = {
    step: i + 1,
    kind: step.kind,
    errno: outcome.res < 0 ? errnoName(outcome.res) : null,
    ...outcome,
    wall_ms: Number(process.hrtime.bigint() - t0) / 1e6,
    modeled_us: (lab.clock.now() - m0) / 1e3,
    ...(options.trace && trace.events.length ? { trace: trace.format(timed) } : {}),
  };
  return r;
}

/**
 * Builds the scenario's lab, runs its steps and returns the report. The lab is closed when the
 * steps end, and not returned; with `keepOpen: true` it stays open and comes back with the
 * report, for a caller that inspects it afterwards (and then closes it with `lab.close()`).
 */
export async function runScenario(s: Scenario, options?: RunOptions & { readonly keepOpen?: false }): Promise<ScenarioReport>;
export async function runScenario(s: Scenario, options: RunOptions & { readonly keepOpen: true }): Promise<ScenarioReport & { readonly lab: Lab }>;
export async function runScenario(s: Scenario, options: RunOptions & { readonly keepOpen?: boolean } = {}): Promise<ScenarioReport | (ScenarioReport & { readonly lab: Lab })> {
  const lab = buildLab(s);
  const results: StepResult[] = [];
  let open = false;
  try {
    for (const [i, step] of s.steps.entries()) {
      const r = await runStep(lab, step, i, options);
      results.push(r);
      options.onStep?.(r, s.steps.length);
    }
    open = options.keepOpen === true;
  } finally {
    if (!open) await lab.close();
  }
  const report: ScenarioReport = { ok: results.every((r) => r.ok), steps: results };
  return open ? { ...report, lab } : report;
}
