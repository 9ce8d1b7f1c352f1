/**
 * The scenario runner: builds a Lab from a scenario and runs its steps in order, checking each
 * step's expectations. A failed expectation marks the step (and the report) not ok but the run
 * goes on, so one run shows every problem.
 */
import { readFileSync } from 'node:fs';
import { Lab } from '../lab.js';
import { ReqOp } from '../block/ops.js';
import { Trace } from '../block/trace.js';
import { errnoName } from '../util/errno.js';
import { fillPattern, findPatternMismatch } from '../util/pattern.js';
import { ScenarioError } from './fields.js';
import { parseScenarioText, type Scenario, type Step } from './parse.js';

export { ScenarioError };

export interface StepResult {
  /** 1-based step number. */
  readonly step: number;
  readonly kind: Step['kind'];
  /** Device or sysfs path the step acted on. */
  readonly target: string;
  readonly ok: boolean;
  /** Bytes, 0 or a negative errno, as the block layer returned it. */
  readonly res: number;
  readonly errno: string | null;
  readonly path?: string;
  readonly pieces?: number;
  readonly offloaded_pieces?: number;
  readonly bytes?: number;
  readonly host_bytes?: number;
  readonly value?: string;
  readonly wall_ms: number;
  readonly reason?: string;
  /** What went wrong when ok is false, or what the step did. */
  readonly message?: string;
  readonly trace?: string;
}

export interface ScenarioReport {
  readonly ok: boolean;
  readonly steps: readonly StepResult[];
}

export interface RunOptions {
  /** Keep each step's blktrace-style trace in the result. */
  readonly trace?: boolean;
  /** Called after each step (progress). */
  readonly onStep?: (r: StepResult, total: number) => void;
}

/** Reads and parses a scenario file; every problem is a ScenarioError. */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseScenarioText(text, file);
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
      const { kind: _kind, copy_offload_min_bytes, ...opts } = d;
      lab.addNullBlk(opts);
      if (copy_offload_min_bytes !== undefined) {
        const r = lab.writeSysfs(`/sys/block/${d.name}/queue/copy_offload_min_bytes`, String(copy_offload_min_bytes));
        if (r.res < 0) throw new Error(`copy_offload_min_bytes: ${r.message}`);
      }
    } catch (err) {
      throw new ScenarioError(`devices[${i}] (${d.name}): ${(err as Error).message}`);
    }
  });
  return lab;
}

const CHUNK = 4 * 1024 * 1024;

export async function runScenario(s: Scenario, options: RunOptions = {}): Promise<ScenarioReport & { lab: Lab }> {
  const lab = buildLab(s);
  const results: StepResult[] = [];
  for (const [i, step] of s.steps.entries()) {
    const t0 = process.hrtime.bigint();
    const trace = new Trace();
    const partial = await runStep(lab, step, trace);
    const wall_ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const r: StepResult = {
      step: i + 1,
      kind: step.kind,
      errno: partial.res < 0 ? errnoName(partial.res) : null,
      ...partial,
      wall_ms,
      ...(options.trace && trace.events.length ? { trace: trace.format() } : {}),
    };
    results.push(r);
    options.onStep?.(r, s.steps.length);
  }
  return { ok: results.every((r) => r.ok), steps: results, lab };
}

type Partial_ = Omit<StepResult, 'step' | 'kind' | 'errno' | 'wall_ms' | 'trace'>;

/** ok when the result is what the step expected: the named errno, or success. */
function errnoOk(res: number, expectErrno: number | undefined): { ok: boolean; message?: string } {
  if (expectErrno !== undefined) {
    if (res === -expectErrno) return { ok: true };
    return { ok: false, message: `expected ${errnoName(expectErrno)}, got ${res < 0 ? errnoName(res) : `success (${res})`}` };
  }
  return res < 0 ? { ok: false, message: `failed with ${errnoName(res)}` } : { ok: true };
}

async function runStep(lab: Lab, step: Step, trace: Trace): Promise<Partial_> {
  switch (step.kind) {
    case 'fill': {
      let done = 0;
      while (done < step.length) {
        const n = Math.min(CHUNK, step.length - done);
        const buf = new Uint8Array(n);
        fillPattern(buf, step.seed, step.pattern_offset + done);
        const res = await lab.submit(step.dev, { op: ReqOp.WRITE, offset: step.offset + done, length: n, data: buf }, trace);
        if (res < 0) return { target: step.dev, res, ok: false, bytes: done, message: `write at ${step.offset + done} failed with ${errnoName(res)}` };
        done += n;
      }
      return { target: step.dev, res: done, ok: true, bytes: done, host_bytes: done };
    }
    case 'verify':
    case 'read': {
      let done = 0;
      while (done < step.length) {
        const n = Math.min(CHUNK, step.length - done);
        const buf = new Uint8Array(n);
        const res = await lab.submit(step.dev, { op: ReqOp.READ, offset: step.offset + done, length: n, data: buf }, trace);
        if (res < 0) return { target: step.dev, res, bytes: done, ...errnoOk(res, step.expect.errno) };
        if (step.kind === 'verify') {
          const bad = step.seed === null ? buf.findIndex((b) => b !== 0) : findPatternMismatch(buf, step.seed, step.pattern_offset + done);
          if (bad >= 0) {
            const what = step.seed === null ? 'zeros' : `pattern seed ${step.seed}`;
            return { target: step.dev, res: done + bad, ok: false, bytes: done + bad, message: `mismatch against ${what} at device offset ${step.offset + done + bad}` };
          }
        }
        done += n;
      }
      return { target: step.dev, res: done, bytes: done, host_bytes: done, ...errnoOk(done, step.expect.errno) };
    }
    case 'copy': {
      const r = await lab.copy(
        step.dev,
        step.ranges.map((x) => ({ src: x.src_dev, srcOffset: x.src, dstOffset: x.dst, length: x.length })),
        step.fallback === undefined ? {} : { fallback: step.fallback },
        trace,
      );
      const e = step.expect;
      const problems: string[] = [];
      const base = errnoOk(r.res, e.errno);
      if (!base.ok) problems.push(base.message!);
      if (e.path !== undefined && r.path !== e.path) problems.push(`expected path ${e.path}, got ${r.path}`);
      if (e.pieces !== undefined && r.pieces.length !== e.pieces) problems.push(`expected ${e.pieces} pieces, got ${r.pieces.length}`);
      if (e.bytes !== undefined && r.bytes !== e.bytes) problems.push(`expected ${e.bytes} bytes, got ${r.bytes}`);
      if (e.host_bytes !== undefined && r.host_bytes !== e.host_bytes) problems.push(`expected ${e.host_bytes} host bytes, got ${r.host_bytes}`);
      const reason = r.reasons.join('; ') || undefined;
      return {
        target: step.dev,
        res: r.res,
        ok: problems.length === 0,
        path: r.path,
        pieces: r.pieces.length,
        offloaded_pieces: r.pieces.filter((p) => p.path === 'offload' && p.res >= 0).length,
        bytes: r.bytes,
        host_bytes: r.host_bytes,
        ...(reason ? { reason } : {}),
        ...(problems.length ? { message: problems.join('; ') } : r.message ? { message: r.message } : {}),
      };
    }
    case 'sysfs': {
      const path = (step.read ?? step.write)!;
      const r = step.read !== undefined ? lab.readSysfs(path) : lab.writeSysfs(path, step.value!);
      const problems: string[] = [];
      const base = errnoOk(r.res, step.expect.errno);
      if (!base.ok) problems.push(r.message ? `${base.message}: ${r.message}` : base.message!);
      if (step.expect.value !== undefined && r.value?.trim() !== step.expect.value.trim()) problems.push(`expected ${JSON.stringify(step.expect.value)}, got ${JSON.stringify(r.value ?? null)}`);
      const message = problems.length ? problems.join('; ') : r.message;
      return { target: path, res: r.res, ok: problems.length === 0, ...(r.value !== undefined ? { value: r.value } : {}), ...(message ? { message } : {}) };
    }
    case 'discard':
    case 'write_zeroes': {
      const op = step.kind === 'discard' ? ReqOp.DISCARD : ReqOp.WRITE_ZEROES;
      const res = await lab.submit(step.dev, { op, offset: step.offset, length: step.length }, trace);
      return { target: step.dev, res, bytes: res < 0 ? 0 : step.length, ...errnoOk(res, step.expect.errno) };
    }
    case 'flush': {
      const res = await lab.submit(step.dev, { op: ReqOp.FLUSH, offset: 0, length: 0 }, trace);
      return { target: step.dev, res, ...errnoOk(res, step.expect.errno) };
    }
    case 'fault': {
      lab.device(step.dev).faults.add(step.op, step.errno, step.count, step.skip);
      return { target: step.dev, res: 0, ok: true, message: `next ${step.count} matching bio(s) after ${step.skip} fail with ${errnoName(step.errno)}` };
    }
  }
}
