/**
 * Puts an NVMe controller into a host (src/core/block/host.ts, the Lab): the host's DMA arena and
 * subsystems (one per host, kept beside it), the controller and its namespaces, the host driver, one block device per
 * namespace (`nvme0n1`, …) and their sysfs attributes (the zoned ones of
 * Documentation/ABI/stable/sysfs-block, and /sys/class/nvme/<ctrl>/).
 */
import type { DeviceBackend, DeviceHost } from '../../src/core/block/host.js';
import { SECTOR_SIZE } from '../../src/core/block/ops.js';
import { DmaArena, ARENA_DEFAULT_BYTES } from './dma.js';
import { NvmeSubsystem } from './subsystem.js';
import { NvmeController } from './controller.js';
import { NvmeNamespace } from './namespace.js';
import { NvmeHost } from './host.js';
import { NvmeNamespaceDevice } from './driver.js';
import { controllerProblem, NVME_DEFAULTS, NVME_LIMITS, type NvmeControllerOptions } from './defaults.js';
import { NVME_VERSION } from './spec.js';
import { resolveTiming } from '../timing/params.js';
import { TimingModel } from '../timing/model.js';
import { NvmeWorkerBar } from './worker-bar.js';
import { NvmeSubsystemThread } from './worker-thread.js';
import { CommandTimer } from './command-timer.js';
import { HostTiming, type SubsystemTiming } from './host-timing.js';

export interface NvmeAttachment {
  readonly name: string;
  /** The controller model, when it runs on the lab's thread (`execution: inline`); null on a worker. */
  readonly ctrl: NvmeController | null;
  /** The registers of a controller that runs on a worker thread (`execution: worker`), else null. */
  readonly worker: NvmeWorkerBar | null;
  readonly host: NvmeHost;
  readonly devices: readonly NvmeNamespaceDevice[];
}

interface HostNvme {
  readonly arena: DmaArena;
  readonly subsystems: Map<string, NvmeSubsystem>;
  readonly controllers: Map<string, NvmeAttachment>;
  /** Subsystems whose controllers run on a worker thread (execution: worker): the thread and the NSIDs in use. */
  readonly workerSubsystems: Map<string, { readonly thread: NvmeSubsystemThread; readonly nsids: Set<number>; readonly timing: SubsystemTiming }>;
}

const perHost = new WeakMap<DeviceHost, HostNvme>();

function stateOf(host: DeviceHost): HostNvme {
  let s = perHost.get(host);
  if (!s) {
    s = { arena: new DmaArena(ARENA_DEFAULT_BYTES), subsystems: new Map(), controllers: new Map(), workerSubsystems: new Map() };
    perHost.set(host, s);
  }
  return s;
}

/** The host's DMA arena (created with the first controller). */
export function labArena(lab: DeviceHost): DmaArena {
  return stateOf(lab).arena;
}

/** A controller of the host by name (`nvme0` or `/dev/nvme0`), or undefined. */
export function nvmeController(lab: DeviceHost, name: string): NvmeAttachment | undefined {
  return stateOf(lab).controllers.get(name.replace(/^\/dev\//, ''));
}

export function nvmeControllers(lab: DeviceHost): NvmeAttachment[] {
  return [...stateOf(lab).controllers.values()];
}

/**
 * Creates a controller with its namespaces (in a new or an existing subsystem) and registers one
 * block device per namespace it defines. Throws RangeError for options the model refuses.
 */
export function addNvmeController(lab: DeviceHost, o: NvmeControllerOptions): NvmeAttachment {
  const problem = controllerProblem(o);
  if (problem) throw new RangeError(`${o.name}: ${problem}`);
  const st = stateOf(lab);
  if (st.controllers.has(o.name)) throw new RangeError(`controller ${o.name} exists`);
  const subName = o.subsystem ?? o.name;
  if ((o.execution ?? NVME_DEFAULTS.execution) === 'worker') return addWorkerController(lab, st, subName, o);
  if (st.workerSubsystems.has(subName)) throw new RangeError(`${o.name}: subsystem ${subName} runs on a worker thread; its controllers all need execution: worker`);
  let sub = st.subsystems.get(subName);
  if (!sub) {
    sub = new NvmeSubsystem(subName);
    st.subsystems.set(subName, sub);
  }
  const mine: number[] = [];
  for (const nso of o.namespaces) {
    const nsid = nso.nsid ?? sub.nextNsid();
    if (!Number.isInteger(nsid) || nsid < 1 || nsid > NVME_LIMITS.maxNamespaces) throw new RangeError(`${o.name}: nsid must be 1..${NVME_LIMITS.maxNamespaces}`);
    const ns = new NvmeNamespace(nsid, nso);
    const nsTiming = resolveTiming(nso.timing);
    if (nsTiming) ns.timing = new TimingModel(nsTiming, lab.clock);
    sub.addNamespace(ns);
    mine.push(ns.nsid);
  }
  const ctrl = new NvmeController(o.name, sub, st.arena, o);
  const ctrlTiming = resolveTiming(o.timing);
  if (ctrlTiming) ctrl.timing = new TimingModel(ctrlTiming, lab.clock);
  const host = new NvmeHost(ctrl, st.arena, o.io_queues ?? NVME_DEFAULTS.io_queues, o.queue_depth ?? NVME_DEFAULTS.queue_depth);
  if (o.cdfe ?? NVME_DEFAULTS.cdfe) {
    const s = host.setCdfe(ctrl.ocfs & 0b1100);
    if (s) throw new RangeError(`${o.name}: enabling copy descriptor formats failed (0x${s.toString(16)})`);
  }
  // Block devices for the namespaces this controller entry defines (a shared namespace gets one node).
  const devices = host.namespaces.filter((n) => mine.includes(n.nsid)).map((n) => lab.addDevice(new NvmeNamespaceDevice(host, n, o.name, ctrl.timingOf(n.nsid))));
  for (const d of devices) registerNamespaceAttrs(lab, d);
  registerControllerAttrs(lab, o.name, ctrl, host);
  const att: NvmeAttachment = { name: o.name, ctrl, worker: null, host, devices };
  st.controllers.set(o.name, att);
  return att;
}

/**
 * `execution: worker`: the controller is built on its subsystem's worker thread (workers/nvme-subsystem.ts,
 * one thread per subsystem, started by its first controller) from the same options, with the
 * namespaces its entry defines; the host driver here reaches it through shared registers and the
 * shared DMA arena. Timing models stay on the lab's thread: the host end of the controller times
 * each command the worker hands back (host-timing.ts), in the subsystem's doorbell order, as
 * inline. A subsystem is all inline or all on its worker.
 */
function addWorkerController(lab: DeviceHost, st: HostNvme, subName: string, o: NvmeControllerOptions): NvmeAttachment {
  if (st.subsystems.has(subName)) throw new RangeError(`${o.name}: subsystem ${subName} runs on the lab's thread; its controllers all need execution: inline`);
  const existing = st.workerSubsystems.get(subName);
  // NSIDs fixed here, as the subsystem would number them (the first free one), so both ends agree.
  const used = new Set(existing?.nsids);
  const namespaces = o.namespaces.map((n) => {
    let nsid = n.nsid;
    for (let c = 1; nsid === undefined && c <= NVME_LIMITS.maxNamespaces; c++) if (!used.has(c)) nsid = c;
    if (nsid === undefined || !Number.isInteger(nsid) || nsid < 1 || nsid > NVME_LIMITS.maxNamespaces) throw new RangeError(`${o.name}: nsid must be 1..${NVME_LIMITS.maxNamespaces}`);
    if (used.has(nsid)) throw new RangeError(`subsystem ${subName}: NSID ${nsid} exists`);
    used.add(nsid);
    return { ...n, nsid };
  });
  const mine = namespaces.map((n) => n.nsid);
  // Timing models live here, as inline: a namespace's own model is the subsystem's (every
  // controller reaches it), the controller's model times the rest (host-timing.ts).
  let sub = existing;
  if (!sub) {
    const thread = new NvmeSubsystemThread(subName, st.arena.buffer, lab.poller.doorbell.buffer as SharedArrayBuffer, o.idle_us ?? NVME_DEFAULTS.idle_us);
    lab.onClose(() => thread.close());
    sub = { thread, nsids: new Set(), timing: { timer: new CommandTimer(), namespaces: new Map() } };
  }
  const ctrlTiming = resolveTiming(o.timing);
  const ownModels = new Map<number, TimingModel>();
  for (const n of namespaces) {
    const params = resolveTiming(n.timing);
    if (params) ownModels.set(n.nsid, new TimingModel(params, lab.clock));
  }
  const timing = new HostTiming(st.arena, sub.timing, ctrlTiming ? new TimingModel(ctrlTiming, lab.clock) : null);
  // The lab's clock always: a command may address a timed namespace another controller defined.
  const bar = new NvmeWorkerBar({ options: { ...o, namespaces }, thread: sub.thread, poller: lab.poller, clock: lab.clock, timing, onFailure: (r) => lab.reportFailure(o.name, r) });
  let host: NvmeHost;
  try {
    host = new NvmeHost(bar, st.arena, o.io_queues ?? NVME_DEFAULTS.io_queues, o.queue_depth ?? NVME_DEFAULTS.queue_depth);
    bar.bind(host);
    if (o.cdfe ?? NVME_DEFAULTS.cdfe) {
      const s = host.setCdfe(host.info.ocfs & 0b1100);
      if (s) throw new RangeError(`${o.name}: enabling copy descriptor formats failed (0x${s.toString(16)})`);
    }
  } catch (err) {
    if (!existing) void sub.thread.close();
    throw err;
  }
  if (!existing) st.workerSubsystems.set(subName, sub);
  for (const n of mine) sub.nsids.add(n);
  for (const [nsid, m] of ownModels) sub.timing.namespaces.set(nsid, m);
  timing.bindNamespaces(() => host.namespaces);
  // Block devices for the namespaces this controller entry defines (a shared namespace gets one node).
  const devices = host.namespaces.filter((n) => mine.includes(n.nsid)).map((n) => lab.addDevice(new NvmeNamespaceDevice(host, n, o.name, timing.timingOf(n.nsid))));
  for (const d of devices) registerNamespaceAttrs(lab, d);
  registerControllerAttrs(lab, o.name, bar, host);
  const att: NvmeAttachment = { name: o.name, ctrl: null, worker: bar, host, devices };
  st.controllers.set(o.name, att);
  return att;
}

const ro = (v: () => string | number) => ({ show: () => String(v()) });

function registerNamespaceAttrs(lab: DeviceHost, d: NvmeNamespaceDevice): void {
  const q = `/sys/block/${d.name}/queue`;
  const z = d.ns.zoned;
  const zsBytes = z ? z.zsze * d.ns.lbs : 0;
  // chunk_sectors is the zone size for a zoned device; 0 otherwise (the kernel's blk_queue_chunk_sectors).
  lab.sysfs.add(`${q}/chunk_sectors`, ro(() => zsBytes / SECTOR_SIZE));
  lab.sysfs.add(`${q}/nr_zones`, ro(() => (z ? z.nrZones : 0)));
  lab.sysfs.add(`${q}/max_open_zones`, ro(() => (z ? z.maxOpen : 0)));
  lab.sysfs.add(`${q}/max_active_zones`, ro(() => (z ? z.maxActive : 0)));
  // nvme_update_zone_info: zone_append_max_bytes from ZASL (0 = MDTS), in pages of CAP.MPSMIN.
  const zasl = d.host.info.zasl || d.host.info.mdts;
  lab.sysfs.add(`${q}/zone_append_max_bytes`, ro(() => (z ? 4096 << zasl : 0)));
  lab.sysfs.add(`/sys/block/${d.name}/device/nsid`, ro(() => d.ns.nsid));
}

function registerControllerAttrs(lab: DeviceHost, name: string, ctrl: Pick<NvmeController, 'cntlid' | 'numQueues'>, host: NvmeHost): void {
  const base = `/sys/class/nvme/${name}`;
  lab.sysfs.add(`${base}/subsysnqn`, ro(() => host.info.subnqn));
  lab.sysfs.add(`${base}/serial`, ro(() => host.info.serial));
  lab.sysfs.add(`${base}/model`, ro(() => host.info.model));
  lab.sysfs.add(`${base}/cntlid`, ro(() => ctrl.cntlid));
  lab.sysfs.add(`${base}/transport`, ro(() => 'pcie'));
  lab.sysfs.add(`${base}/queue_count`, ro(() => ctrl.numQueues.nsqr + 2));
  lab.sysfs.add(`${base}/firmware_rev`, ro(() => NVME_DEFAULTS.firmware));
  lab.sysfs.add(`${base}/state`, ro(() => 'live'));
  lab.sysfs.add(`${base}/version`, ro(() => `${NVME_VERSION >>> 16}.${(NVME_VERSION >>> 8) & 0xff}`));
  // copylab: the Copy descriptor formats the controller supports (Identify Controller OCFS) and
  // those the host enabled (Host Behavior Support CDFE: 2 and 3 copy from another namespace).
  lab.sysfs.add(`${base}/ocfs`, ro(() => `0x${host.info.ocfs.toString(16)}`));
  lab.sysfs.add(`${base}/cdfe`, ro(() => `0x${host.cdfe.toString(16)}`));
}

export const nvmeBackend: DeviceBackend<NvmeControllerOptions, NvmeAttachment> = {
  kind: 'nvme',
  attach: addNvmeController,
};
