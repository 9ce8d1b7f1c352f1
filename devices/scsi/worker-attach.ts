/**
 * `execution: worker` for SCSI arrays: the array is built on the worker thread of the host's
 * fabric (one per fabric, started by its first worker array, stopped when the host closes), and
 * the host gets a WorkerScsiArray in its place. A fabric is all inline or all on its worker (a
 * copy manager reaches LUs of its fabric only). Timing models run on the thread against the lab's
 * clock (worker-clock.ts); block-device media stay on the lab's thread, so an LU on one is refused.
 */
import type { DeviceHost } from '../../src/core/block/host.js';
import type { ScsiArray, ScsiArrayOptions, ScsiFabric } from './array.js';
import { WorkerScsiArray } from './worker-array.js';
import { ScsiFabricThread } from './worker-thread.js';
import type { ArraySnapshot } from './worker-protocol.js';
import { resolveTiming } from '../timing/params.js';
import { TimingModel } from '../timing/model.js';

export type ScsiExecution = 'inline' | 'worker';
export const SCSI_EXECUTIONS: readonly ScsiExecution[] = ['inline', 'worker'];

const threads = new WeakMap<ScsiFabric, ScsiFabricThread>();

/** The worker thread running the fabric's arrays, or undefined (they run on the lab's thread). */
export function scsiFabricThread(fabric: ScsiFabric): ScsiFabricThread | undefined {
  return threads.get(fabric);
}

/** Builds the array on the fabric's thread; returns its stand-in, registered in the fabric under its name. */
export function addWorkerArray(host: DeviceHost, fabric: ScsiFabric, o: ScsiArrayOptions): ScsiArray {
  if (o.lus?.some((l) => l.block)) throw new RangeError(`array ${o.name}: execution: worker needs store media; an LU on a block device of the lab runs inline`);
  let thread = threads.get(fabric);
  if (!thread) {
    if (fabric.arrays.size > 0) throw new RangeError(`array ${o.name}: this lab's SCSI arrays run inline; every array of the fabric needs the same execution (all inline or all worker)`);
    const t = new ScsiFabricThread(host.clock, (device, reason) => host.reportFailure(device, reason));
    thread = t;
    threads.set(fabric, t);
    fabric.onWorker = true;
    host.onClose(() => t.close());
  }
  if (fabric.arrays.has(o.name)) throw new RangeError(`array ${o.name} already exists`);
  const options: ScsiArrayOptions = {
    name: o.name,
    ...(o.lus ? { lus: o.lus.map((l) => ({ name: l.name, size: l.size, ...(l.lbs ? { lbs: l.lbs } : {}), ...(l.backing ? { backing: l.backing } : {}), ...(l.serial !== undefined ? { serial: l.serial } : {}), ...(l.timing !== undefined ? { timing: l.timing } : {}) })) } : {}),
    ...(o.initiators ? { initiators: o.initiators } : {}),
    ...(o.reach ? { reach: o.reach } : {}),
    ...(o.tokenScope ? { tokenScope: o.tokenScope } : {}),
    ...(o.copyManager !== undefined ? { copyManager: o.copyManager } : {}),
    ...(o.domain !== undefined ? { domain: o.domain } : {}),
    ...(o.timing !== undefined ? { timing: o.timing } : {}),
  };
  const snap = thread.call({ op: 'addArray', options }) as ArraySnapshot;
  thread.arrays.push(snap.name);
  // The models that time commands run on the thread; the lab keeps copies of their parameters to show (sysfs, sd's timing).
  const arrayTiming = resolveTiming(o.timing);
  const shown = {
    array: arrayTiming ? new TimingModel(arrayTiming, host.clock) : null,
    lu: (i: number) => {
      const own = resolveTiming(o.lus?.[i]?.timing);
      return own ? new TimingModel(own, host.clock) : null;
    },
  };
  const array = new WorkerScsiArray(thread, snap, shown) as unknown as ScsiArray;
  fabric.arrays.set(snap.name, array);
  return array;
}
