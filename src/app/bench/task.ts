/**
 * One job file on one scenario as a queued task (`copylab bench JOBFILE… --scenario F… --queue
 * URL`, docs/sweeps.md): a data-only payload (the job file's text and the scenario's text, never
 * a path), the checks a worker applies before it runs one (the command line's: the job file and
 * the scenario parsed as `copylab bench` parses them, plus what a worker may not do: read a file
 * the scenario names, write fio's log files), and the run itself, on a pool thread, whose
 * outcome comes back as data.
 */
import { createHash } from 'node:crypto';
import type { Lab } from '../lab.js';
import type { JobSpec } from './job.js';
import { JobFileError, parseJobText } from './jobfile.js';
import { plannedLogPaths } from './fio-logs.js';
import { modeledClockOf, runJobs, timedDevice } from './engine.js';
import { fioResult, type FioResult } from './result.js';
import { buildLab } from '../scenario/run.js';
import { parseScenarioText, type Scenario } from '../scenario/parse.js';
import { ScenarioError } from '../scenario/fields.js';
import { DEFAULT_SCENARIO_YAML } from '../scenario/default-lab.js';
import { firstLine, type GcFailureKind } from '../gc/failure.js';

/** Largest job file or scenario text in a task (a limit on everything; the CLI reads more). */
export const BENCH_TASK_MAX_TEXT_BYTES = 256 * 1024;
/** Longest name of a job file or scenario in a task (for messages only). */
export const BENCH_TASK_MAX_NAME_CHARS = 256;
/** Largest payload as JSON: the two texts and their names, escaped (checked before anything else). */
export const BENCH_TASK_MAX_PAYLOAD_CHARS = 4 * BENCH_TASK_MAX_TEXT_BYTES + 4096;
/** Payload format version. */
export const BENCH_TASK_VERSION = 1;
/** The name of the default lab when a task has no scenario. */
export const DEFAULT_LAB_NAME = 'default lab';

export interface BenchTaskPayload {
  readonly kind: 'bench';
  readonly v: number;
  readonly jobfile: { readonly name: string; readonly text: string };
  /** null: the default lab (`copylab bench` without --scenario). */
  readonly scenario: { readonly name: string; readonly text: string } | null;
  /** fio's json+ (latency buckets in the result). */
  readonly plus: boolean;
}

export class BenchTaskError extends Error {}

/** What a task gives: fio's result (and whether a job failed), or its one-line error and kind. */
export interface BenchRun {
  readonly result: FioResult;
  readonly failed: boolean;
}
export type BenchOutcome = BenchRun | { readonly error: string; readonly error_kind: GcFailureKind };

export const isBenchFailure = (o: BenchOutcome): o is { error: string; error_kind: GcFailureKind } => 'error' in o;

const NO_FILES = 'a queued task reads no file its scenario names (run it without --queue)';

/** The job id of a task: a hash of its payload. */
export function benchTaskId(p: BenchTaskPayload): string {
  return `bench-${createHash('sha256').update(JSON.stringify(p)).digest('hex').slice(0, 32)}`;
}

/** The label of a task in messages: the job file on the scenario. */
export const benchTaskLabel = (p: BenchTaskPayload): string => `${p.jobfile.name} on ${p.scenario?.name ?? DEFAULT_LAB_NAME}`.slice(0, 300);

/**
 * The jobs and the scenario of a payload, parsed as the command line parses them; a
 * BenchTaskError ("malformed task: …") for a payload of the wrong shape, a JobFileError or
 * ScenarioError for a job file or scenario the command line would refuse too.
 */
export function checkBenchTask(data: unknown): { payload: BenchTaskPayload; jobs: JobSpec[]; scenario: Scenario } {
  const bad = (why: string): never => {
    throw new BenchTaskError(`malformed task: ${why}`);
  };
  let size: number | undefined;
  try {
    size = JSON.stringify(data)?.length;
  } catch {
    bad('not JSON data');
  }
  if (size === undefined) return bad('no payload');
  if (size > BENCH_TASK_MAX_PAYLOAD_CHARS) bad(`the payload is ${size} characters; at most ${BENCH_TASK_MAX_PAYLOAD_CHARS}`);
  if (!isRecord(data)) return bad('the payload is not an object');
  for (const k of Object.keys(data)) if (!['kind', 'v', 'jobfile', 'scenario', 'plus'].includes(k)) bad(`unknown field "${k.slice(0, 40)}"`);
  if (data.kind !== 'bench') bad(`kind must be "bench", not ${JSON.stringify(data.kind)?.slice(0, 40)}`);
  if (data.v !== BENCH_TASK_VERSION) bad(`format version ${JSON.stringify(data.v)?.slice(0, 20)}; this worker reads version ${BENCH_TASK_VERSION}`);
  if (typeof data.plus !== 'boolean') bad('plus must be true or false');
  const text = (v: unknown, what: string): { name: string; text: string } => {
    if (!isRecord(v)) return bad(`${what} must be an object with name and text`);
    for (const k of Object.keys(v)) if (k !== 'name' && k !== 'text') bad(`${what}: unknown field "${k.slice(0, 40)}"`);
    if (typeof v.name !== 'string' || !v.name || v.name.length > BENCH_TASK_MAX_NAME_CHARS || /[\x00-\x1f]/.test(v.name)) bad(`${what}.name must be a name of 1 to ${BENCH_TASK_MAX_NAME_CHARS} characters`);
    if (typeof v.text !== 'string') return bad(`${what}.text must be a string`);
    // Characters first (no allocation), then the UTF-8 length.
    if (v.text.length > BENCH_TASK_MAX_TEXT_BYTES || Buffer.byteLength(v.text) > BENCH_TASK_MAX_TEXT_BYTES) bad(`${what}.text is over ${BENCH_TASK_MAX_TEXT_BYTES} bytes`);
    return { name: v.name as string, text: v.text };
  };
  const jobfile = text(data.jobfile, 'jobfile');
  const scenarioText = data.scenario === null ? null : text(data.scenario, 'scenario');
  const jobs = parseJobText(jobfile.text, jobfile.name);
  const logs = plannedLogPaths(jobs);
  if (logs.length) throw new JobFileError(jobfile.name, null, null, `fio's log files (${logs[0]!.slice(0, 100)}) are not written by a queued task (run it without --queue)`);
  const scenario = scenarioText === null ? parseScenarioText(DEFAULT_SCENARIO_YAML, DEFAULT_LAB_NAME) : parseScenarioText(scenarioText.text, scenarioText.name, { noDataFiles: NO_FILES });
  return { payload: { kind: 'bench', v: BENCH_TASK_VERSION, jobfile, scenario: scenarioText, plus: data.plus as boolean }, jobs, scenario };
}

/** A lab built from the scenario with its steps run, or why a step failed (as `copylab bench` says it). */
export async function preparedLab(scenario: Scenario, name: string): Promise<Lab | string> {
  const lab = buildLab(scenario);
  // The scenario's steps prepare the lab (sysfs settings, fills) before the jobs run.
  for (const [i, step] of scenario.steps.entries()) {
    const o = await step.run(lab, lab.newTrace());
    if (!o.ok) {
      await lab.close();
      return `${name}: step ${i + 1} (${step.kind}) failed: ${o.message ?? `res ${o.res}`}`;
    }
  }
  return lab;
}

/**
 * Runs a task as `copylab bench JOBFILE --scenario F --output-format=json` runs it; never
 * throws. A payload or a job the command line would refuse is `usage`, anything else `failed`.
 */
export async function runBenchTask(data: unknown): Promise<BenchOutcome> {
  let lab: Lab | undefined;
  try {
    const t = checkBenchTask(data);
    const prepared = await preparedLab(t.scenario, t.payload.scenario?.name ?? DEFAULT_LAB_NAME);
    if (typeof prepared === 'string') return { error: firstLine(prepared), error_kind: 'usage' };
    lab = prepared;
    const started = new Date();
    const runs = await runJobs(t.jobs, { lab, modeled: modeledClockOf(lab), timed: (dev) => timedDevice(lab!, dev) });
    return { result: fioResult(runs, (r) => r.spec.filename!, started, { plus: t.payload.plus }), failed: runs.some((r) => r.error) };
  } catch (err) {
    const usage = err instanceof BenchTaskError || err instanceof JobFileError || err instanceof ScenarioError;
    return { error: usage ? firstLine(err) : `internal error: ${firstLine(err)}`, error_kind: usage ? 'usage' : 'failed' };
  } finally {
    await lab?.close();
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
