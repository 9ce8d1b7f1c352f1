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
import type { StepDef } from '../types.js';

function real(f: Field, min: number, max: number): number {
  const v = f.required().value;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) f.fail(`expected a number in ${min}..${max}`);
  return v as number;
}


export const gcStep: StepDef = {
  kind: 'gc',
  parse(body) {
    body.obj(['dev', 'path', 'policy', 'spare_factor', 'overwrites', 'workload', 'seed', 'age_threshold', 'expect']);
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
      e.obj(['waf_max', 'host_bytes', 'min_victims']);
      if (e.key('waf_max').present) expect.waf_max = real(e.key('waf_max'), 1, 1000);
      if (e.key('host_bytes').present) expect.host_bytes = e.key('host_bytes').size();
      if (e.key('min_victims').present) expect.min_victims = e.key('min_victims').int(0, 2 ** 31);
    }
    return {
      kind: 'gc',
      async run(lab) {
        try {
          const r = await runGcOnLab({ lab, dev }, o);
          const problems: string[] = [];
          if (expect.waf_max !== undefined && r.waf > expect.waf_max) problems.push(`WAF ${r.waf.toFixed(3)} > ${expect.waf_max}`);
          if (expect.host_bytes !== undefined && r.host_bytes !== expect.host_bytes) problems.push(`host bytes ${r.host_bytes}, expected ${expect.host_bytes}`);
          if (expect.min_victims !== undefined && r.victims < expect.min_victims) problems.push(`${r.victims} victims, expected at least ${expect.min_victims}`);
          const summary = `${o.policy} ${o.path}: WAF ${r.waf.toFixed(3)} (Desnoyers greedy ${r.waf_desnoyers_greedy.toFixed(3)}), ${r.victims} victims, ${r.commands} GC commands, ${r.verified_blocks} blocks verified`;
          return {
            target: dev,
            ok: problems.length === 0,
            res: r.gc_moved_bytes,
            path: o.path,
            bytes: r.gc_moved_bytes,
            host_bytes: r.host_bytes,
            message: problems.length ? problems.join('; ') : summary,
            details: { ...r, series: undefined },
          };
        } catch (err) {
          return { target: dev, ok: false, res: -5, message: `gc: ${(err as Error).message}` };
        }
      },
    };
  },
};
