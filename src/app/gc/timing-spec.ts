/** The tag-only device's timer from `--timing` (cost.ts, model-timer.ts). */
import { resolveTiming, TIMING_ENUMS, type AllocationName } from '../../../devices/timing/params.js';
import { NoTimer, type GcTimer } from './cost.js';
import type { Layout } from './layout.js';
import { ModelTimer } from './model-timer.js';
import { GcOptionError } from './options.js';
import type { PathLimits } from './paths.js';

/**
 * The timer for `PRESET[,key=value…]` (timing keys as in a scenario's timing: mapping, e.g.
 * `nvmevirt-zns,dram_bytes=0`): none → no modeled time; otherwise a TimingModel on its own clock.
 */
export function makeTimer(spec: string, layout: Layout, limits: PathLimits, allocation: AllocationName = 'frontier'): GcTimer {
  let params;
  try {
    const [preset, ...kv] = spec.split(',');
    const o: Record<string, string | number> = { preset: preset! };
    for (const p of kv) {
      const m = /^([a-z_]+)=(.+)$/.exec(p.trim());
      if (!m) throw new RangeError(`expected key=value after the preset, got "${p}"`);
      // The string keys (link, allocation, issue, read_dispatch, …) take their word; the rest a number.
      o[m[1]!] = Object.hasOwn(TIMING_ENUMS, m[1]!) ? m[2]! : Number(m[2]);
    }
    if (allocation !== 'frontier') {
      if (o.allocation !== undefined && o.allocation !== allocation) throw new RangeError(`allocation=${o.allocation} contradicts --allocation ${allocation}`);
      o.allocation = allocation;
    }
    params = resolveTiming(Object.keys(o).length > 1 ? (o as Parameters<typeof resolveTiming>[0]) : preset!);
  } catch (err) {
    throw new GcOptionError('--timing', (err as Error).message);
  }
  return params ? new ModelTimer(params, layout, limits) : new NoTimer();
}
