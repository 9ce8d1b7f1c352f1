/**
 * Wiring SCSI arrays into a host (src/core/block/host.ts, the Lab): one fabric per host, an sd BlockDevice per LU (/dev/sda, …)
 * and the sysfs entries sd adds: /sys/block/<sd>/device/* and /sys/class/scsi_disk/H:C:T:L/*.
 */
import type { DeviceBackend, DeviceHost } from '../../src/core/block/host.js';
import { ScsiFabric, type ScsiArray, type ScsiArrayOptions } from './array.js';
import { SdDevice, type CopyMode } from './sd.js';
import { INQUIRY_PRODUCT, INQUIRY_REVISION, INQUIRY_VENDOR } from './constants.js';
import { TPC_LIMITS } from './tpc-limits.js';
import { addWorkerArray, type ScsiExecution } from './worker-attach.js';

const fabrics = new WeakMap<DeviceHost, ScsiFabric>();

/** The host's SCSI fabric (made on first use). */
export function scsiFabricOf(lab: DeviceHost): ScsiFabric {
  let f = fabrics.get(lab);
  if (!f) {
    f = new ScsiFabric(lab.clock);
    fabrics.set(lab, f);
  }
  return f;
}

export interface ScsiLabOptions extends ScsiArrayOptions {
  /** Initiator name the lab's host logs in with (must be in `initiators` when that is given). */
  readonly hostInitiator?: string;
  readonly copyMode?: CopyMode | 'auto';
  /** inline (default): the array runs on the host's thread; worker: on its fabric's worker thread (worker-attach.ts). */
  readonly execution?: ScsiExecution;
}

/** Adds an array and an sd disk per LU the host can see; the disks are named after the LUs. */
export function addScsiArray(lab: DeviceHost, o: ScsiLabOptions): { array: ScsiArray; disks: SdDevice[] } {
  const fabric = scsiFabricOf(lab);
  const array = o.execution === 'worker' ? addWorkerArray(lab, fabric, o) : fabric.addArray(o);
  const host = [...fabric.arrays.keys()].indexOf(array.name);
  const disks: SdDevice[] = [];
  for (const lu of array.lus) {
    const initiator = o.hostInitiator;
    if (!array.visibleLuns(initiator ?? 'iqn.2024-01.org.copylab:host').includes(lu.lun)) continue;
    const sd = lab.addDevice(new SdDevice({ name: lu.name, array, lun: lu.lun, ...(initiator ? { initiator } : {}), ...(o.copyMode ? { copyMode: o.copyMode } : {}) }));
    registerScsiDisk(lab, sd, `${host}:0:0:${lu.lun}`);
    disks.push(sd);
  }
  return { array, disks };
}

function registerScsiDisk(lab: DeviceHost, sd: SdDevice, hctl: string): void {
  const ro = (v: () => string | number) => ({ show: () => String(v()) });
  const dev = `/sys/block/${sd.name}/device`;
  lab.sysfs.add(`${dev}/vendor`, ro(() => INQUIRY_VENDOR.trim()));
  lab.sysfs.add(`${dev}/model`, ro(() => INQUIRY_PRODUCT.trim()));
  lab.sysfs.add(`${dev}/rev`, ro(() => INQUIRY_REVISION));
  lab.sysfs.add(`${dev}/scsi_level`, ro(() => 7)); // SPC-4 + 1, as the kernel shows it
  lab.sysfs.add(`${dev}/array`, ro(() => sd.array.name));
  lab.sysfs.add(`${dev}/wwid`, ro(() => `naa.${Buffer.from(sd.array.lus[sd.lun]!.naa).toString('hex')}`));
  const sdisk = `/sys/class/scsi_disk/${hctl}`;
  lab.sysfs.add(`${sdisk}/device`, ro(() => sd.name));
  lab.sysfs.add(`${sdisk}/provisioning_mode`, ro(() => (sd.caps.lbpme ? 'unmap' : 'full')));
  lab.sysfs.add(`${sdisk}/thin_provisioning`, ro(() => (sd.caps.lbpme ? 1 : 0)));
  lab.sysfs.add(`${sdisk}/max_write_same_blocks`, ro(() => sd.caps.maxWriteSameBlocks));
  lab.sysfs.add(`${sdisk}/cache_type`, ro(() => 'write back'));
  lab.sysfs.add(`${sdisk}/third_party_copy`, ro(() => (sd.caps.threePc ? 1 : 0)));
  lab.sysfs.add(`${sdisk}/xcopy_max_segment_descriptors`, ro(() => sd.caps.maxSegmentDescriptors));
  lab.sysfs.add(`${sdisk}/xcopy_max_cscd_descriptors`, ro(() => sd.caps.maxCscdDescriptors));
  lab.sysfs.add(`${sdisk}/rod_max_range_descriptors`, ro(() => sd.caps.maxRangeDescriptors));
  lab.sysfs.add(`${sdisk}/rod_default_inactivity_timeout`, ro(() => TPC_LIMITS.defaultInactivityTimeout));
  lab.sysfs.add(`${sdisk}/copy_offload`, { show: () => sd.copyMode, store: (v) => sd.setCopyMode(v.trim()) });
}

export const scsiBackend: DeviceBackend<ScsiLabOptions, { array: ScsiArray; disks: SdDevice[] }> = {
  kind: 'scsi',
  attach: addScsiArray,
};
