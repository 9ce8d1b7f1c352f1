/**
 * The `gc` step: a GC lab run (docs/gc.md) on a scenario device, its bytes checked, with
 * expectations on what the run reports:
 *   - gc: { dev: /dev/nvme0n2, path: izc, policy: greedy, spare_factor: 0.25, overwrites: 1,
 *           workload: uniform, seed: 1, expect: { waf_max: 4, host_bytes: 0 } }
 */
import { runGcOnLab } from '../../gc/lab-backend.js';
import { GC_DEFAULTS, type GcOptions } from '../../gc/options.js';
import { GC_PATHS, type GcPathName } from '../../gc/paths.js';
import { VICTIM_POLICIES, type VictimPolicyName } from '../../gc/policies.js';
import { GC_LIMITS } from '../../gc/constants.js';
import type { Field } from '../fields.js';
import type { ParsedStep, StepDef } from '../types.js';
import { k as key, type ObjSpec } from '../keys.js';
import { Errno } from '../../../core/util/errno.js';

const num = (min: number, max: number, description: string, extra: { default?: unknown } = {}) => ({
  schema: { type: 'number', minimum: min, maximum: max },
  type: `number ${min}..${max}`,
  description,
  ...extra,
});
const GC_EXPECT: ObjSpec = {
  description: 'what the garbage collection must achieve',
  keys: {
    waf_max: num(1, 1000, 'largest write amplification allowed'),
    host_bytes: key.size('bytes moved through host buffers (0: every relocation offloaded)'),
    min_victims: key.int(0, 2 ** 31, 'fewest victim zones/segments cleaned'),
  },
};
export const GC_SPEC: ObjSpec = {
  description: 'garbage collection on a device: a workload of overwrites, victims chosen by a policy, live data relocated by a copy path',
  example: { dev: '/dev/nullb0', workload: 'uniform', seed: 1 },
  keys: {
    dev: key.dev('the device', { required: true, example: '/dev/nullb0' }),
    path: key.oneOf(GC_PATHS, 'how live data moves: a copy path of the stack', { default: 'copy' }),
    policy: key.oneOf(VICTIM_POLICIES, 'victim selection policy', { default: 'greedy' }),
    spare_factor: num(GC_LIMITS.minSpareFactor, GC_LIMITS.maxSpareFactor, 'over-provisioned share of the device', { default: 0.25 }),
    overwrites: num(0.01, GC_LIMITS.maxOverwrites, 'device capacities of overwrites to run', { default: 1 }),
    workload: key.str('the overwrite pattern (uniform, …; trace: workloads run from the command line)', { default: 'uniform' }),
    seed: key.int(0, 2 ** 32 - 1, 'workload seed', { default: 1 }),
    age_threshold: num(0, 100, 'age threshold of age-aware policies', { default: GC_DEFAULTS.ageThreshold }),
    expect: key.obj(GC_EXPECT),
  },
};

function real(f: Field, min: number, max: number): number {
  const v = f.required().value;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) f.fail(`expected a number in ${min}..${max}`);
  return v as number;
}


/** A parsed `gc` step: its device and run options, which `copylab gc --scenario F --dev D` takes as its defaults. */
export interface GcStepOptions {
  readonly dev: string;
  readonly options: GcOptions;
}

interface GcParsedStep extends ParsedStep {
  readonly gc: GcStepOptions;
}

const isGcStep = (s: ParsedStep): s is GcParsedStep => s.kind === 'gc' && 'gc' in s;

/** The run options of the scenario's first `gc` step on `dev`, if it has one. */
export function gcStepOn(steps: readonly ParsedStep[], dev: string): GcOptions | undefined {
  return steps.find((s): s is GcParsedStep => isGcStep(s) && s.gc.dev === dev)?.gc.options;
}

export const gcStep: StepDef = {
  kind: 'gc',
  spec: GC_SPEC,
  parse(body) {
    body.obj(GC_SPEC);
    const dev = body.key('dev').required().devPath();
    const k = (n: string): Field => body.key(n);
    const o: GcOptions = {
      ...GC_DEFAULTS,
      path: k('path').present ? k('path').oneOf<GcPathName>(GC_PATHS) : 'copy',
      policy: k('policy').present ? k('policy').oneOf<VictimPolicyName>(VICTIM_POLICIES) : 'greedy',
      spareFactor: k('spare_factor').present ? real(k('spare_factor'), GC_LIMITS.minSpareFactor, GC_LIMITS.maxSpareFactor) : 0.25,
      overwrites: k('overwrites').present ? real(k('overwrites'), 0.01, GC_LIMITS.maxOverwrites) : 1,
      workload: k('workload').present ? k('workload').str() : 'uniform',
      seed: k('seed').present ? k('seed').int(0, 2 ** 32 - 1) : 1,
      ageThreshold: k('age_threshold').present ? real(k('age_threshold'), 0, 100) : GC_DEFAULTS.ageThreshold,
    };
    if (o.workload.startsWith('trace:')) k('workload').fail('trace workloads run from the command line (copylab gc --workload trace:FILE)');
    const e = body.key('expect');
    const expect: { waf_max?: number; host_bytes?: number; min_victims?: number } = {};
    if (e.present) {
      e.obj(GC_EXPECT);
      if (e.key('waf_max').present) expect.waf_max = real(e.key('waf_max'), 1, 1000);
      if (e.key('host_bytes').present) expect.host_bytes = e.key('host_bytes').size();
      if (e.key('min_victims').present) expect.min_victims = e.key('min_victims').int(0, 2 ** 31);
    }
    const step: GcParsedStep = {
      kind: 'gc',
      gc: { dev, options: o },
      async run(lab) {
        try {
          const r = await runGcOnLab({ lab, dev }, o);
          const problems: string[] = [];
          if (expect.waf_max !== undefined && r.waf > expect.waf_max) problems.push(`WAF ${r.waf.toFixed(3)} > ${expect.waf_max}`);
          if (expect.host_bytes !== undefined && r.host_bytes !== expect.host_bytes) problems.push(`host bytes ${r.host_bytes}, expected ${expect.host_bytes}`);
          if (expect.min_victims !== undefined && r.victims < expect.min_victims) problems.push(`${r.victims} victims, expected at least ${expect.min_victims}`);
          // A copy path the device emulated says so, and why (the run's note names the key that changes it).
          const emulated = r.copy_emulated_bytes > 0 ? `; ${r.copy_emulated_bytes} bytes of GC copies emulated (${r.copy_emulation.map((e) => e.code).join(', ')})` : '';
          const summary = `${o.policy} ${o.path}: WAF ${r.waf.toFixed(3)} (Desnoyers greedy ${r.waf_desnoyers_greedy.toFixed(3)}), ${r.victims} victims, ${r.commands} GC commands, ${r.verified_blocks} blocks verified${emulated}`;
          return {
            target: dev,
            ok: problems.length === 0,
            res: r.gc_moved_bytes,
            path: o.path,
            bytes: r.gc_moved_bytes,
            host_bytes: r.host_bytes,
            message: problems.length ? `${problems.join('; ')}${emulated}` : summary,
            details: { ...r, series: undefined },
          };
        } catch (err) {
          return { target: dev, ok: false, res: -Errno.EIO, message: `gc: ${(err as Error).message}` };
        }
      },
    };
    return step;
  },
};
