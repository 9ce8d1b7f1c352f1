/**
 * `execution: worker` for SCSI arrays: the array is built on the worker thread of the host's
 * fabric (one per fabric, started by its first worker array, stopped when the host closes), and
 * the host gets a WorkerScsiArray in its place. A fabric is all inline or all on its worker (a
 * copy manager reaches LUs of its fabric only). Timing models and block-device media stay on the
 * lab's thread, so an array with them is refused here.
 */
import type { DeviceHost } from '../../core/block/host.js';
import type { ScsiArray, ScsiArrayOptions, ScsiFabric } from './array.js';
import { WorkerScsiArray } from './worker-array.js';
import { ScsiFabricThread } from './worker-thread.js';
import type { ArraySnapshot } from './worker-protocol.js';

export type ScsiExecution = 'inline' | 'worker';
export const SCSI_EXECUTIONS: readonly ScsiExecution[] = ['inline', 'worker'];

const threads = new WeakMap<ScsiFabric, ScsiFabricThread>();

/** The worker thread running the fabric's arrays, or undefined (they run on the lab's thread). */
export function scsiFabricThread(fabric: ScsiFabric): ScsiFabricThread | undefined {
  return threads.get(fabric);
}

/** Builds the array on the fabric's thread; returns its stand-in, registered in the fabric under its name. */
export function addWorkerArray(host: DeviceHost, fabric: ScsiFabric, o: ScsiArrayOptions): ScsiArray {
  if (o.timing || o.lus?.some((l) => l.timing)) throw new RangeError(`array ${o.name}: execution: worker does not take timing models (timing); run a timed array inline`);
  if (o.lus?.some((l) => l.block)) throw new RangeError(`array ${o.name}: execution: worker needs store media; an LU on a block device of the lab runs inline`);
  let thread = threads.get(fabric);
  if (!thread) {
    if (fabric.arrays.size > 0) throw new RangeError(`array ${o.name}: this lab's SCSI arrays run inline; every array of the fabric needs the same execution (all inline or all worker)`);
    const t = new ScsiFabricThread((device, reason) => host.reportFailure(device, reason));
    thread = t;
    threads.set(fabric, t);
    fabric.onWorker = true;
    host.onClose(() => t.close());
  }
  if (fabric.arrays.has(o.name)) throw new RangeError(`array ${o.name} already exists`);
  const options: ScsiArrayOptions = {
    name: o.name,
    ...(o.lus ? { lus: o.lus.map((l) => ({ name: l.name, size: l.size, ...(l.lbs ? { lbs: l.lbs } : {}), ...(l.backing ? { backing: l.backing } : {}), ...(l.serial !== undefined ? { serial: l.serial } : {}) })) } : {}),
    ...(o.initiators ? { initiators: o.initiators } : {}),
    ...(o.reach ? { reach: o.reach } : {}),
    ...(o.tokenScope ? { tokenScope: o.tokenScope } : {}),
    ...(o.copyManager !== undefined ? { copyManager: o.copyManager } : {}),
    ...(o.domain !== undefined ? { domain: o.domain } : {}),
  };
  const snap = thread.call({ op: 'addArray', options }) as ArraySnapshot;
  thread.arrays.push(snap.name);
  const array = new WorkerScsiArray(thread, snap) as unknown as ScsiArray;
  fabric.arrays.set(snap.name, array);
  return array;
}
