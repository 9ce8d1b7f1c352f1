/**
 * Puts an NVMe controller into a host (core/block/host.ts, the Lab): the host's DMA arena and
 * subsystems (one per host, kept beside it), the controller and its namespaces, the host driver, one block device per
 * namespace (`nvme0n1`, …) and their sysfs attributes (the zoned ones of
 * Documentation/ABI/stable/sysfs-block, and /sys/class/nvme/<ctrl>/).
 */
import type { DeviceBackend, DeviceHost } from '../../core/block/host.js';
import { SECTOR_SIZE } from '../../core/block/ops.js';
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

export interface NvmeAttachment {
  readonly name: string;
  readonly ctrl: NvmeController;
  readonly host: NvmeHost;
  readonly devices: readonly NvmeNamespaceDevice[];
}

interface HostNvme {
  readonly arena: DmaArena;
  readonly subsystems: Map<string, NvmeSubsystem>;
  readonly controllers: Map<string, NvmeAttachment>;
}

const perHost = new WeakMap<DeviceHost, HostNvme>();

function stateOf(host: DeviceHost): HostNvme {
  let s = perHost.get(host);
  if (!s) {
    s = { arena: new DmaArena(ARENA_DEFAULT_BYTES), subsystems: new Map(), controllers: new Map() };
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
  const att: NvmeAttachment = { name: o.name, ctrl, host, devices };
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

function registerControllerAttrs(lab: DeviceHost, name: string, ctrl: NvmeController, host: NvmeHost): void {
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
}

export const nvmeBackend: DeviceBackend<NvmeControllerOptions, NvmeAttachment> = {
  kind: 'nvme',
  attach: addNvmeController,
};
