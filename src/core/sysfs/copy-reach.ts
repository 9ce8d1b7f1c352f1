/**
 * Where a device's data can be copied in hardware, as sysfs attributes next to the queue limits
 * (copylab's own, like copy_domain): `copy_domain_members`, the devices that share its copy
 * domain, and `copy_offload_to`, the devices a copy from it is offloaded to (the copy engine's
 * rule: copy_max_bytes, copy domain and the driver's consent, e.g. NVMe CDFE for another
 * namespace). Space-separated device names; only for devices that are not stacked (a dm
 * device's answer depends on the extent: its table says where each lives).
 */
import type { BlockDevice } from '../block/device.js';
import { copyDomainOf, offloadRefusal } from '../block/copy/plan.js';
import { isStacked } from '../block/remap.js';
import type { Sysfs } from './tree.js';

const byName = (a: BlockDevice, b: BlockDevice): number => a.name.localeCompare(b.name, 'en', { numeric: true });

/** The plain devices sharing `dev`'s copy domain (itself included). */
export function copyDomainMembers(dev: BlockDevice, devices: readonly BlockDevice[]): BlockDevice[] {
  const d = copyDomainOf(dev);
  return devices.filter((x) => !isStacked(x) && copyDomainOf(x) === d).sort(byName);
}

/** The plain devices a copy from `src` is offloaded to (itself included when it copies within). */
export function copyOffloadTo(src: BlockDevice, devices: readonly BlockDevice[]): BlockDevice[] {
  return devices.filter((x) => !isStacked(x) && offloadRefusal(x, src) === null).sort(byName);
}

export function registerCopyReach(sysfs: Sysfs, dev: BlockDevice, devices: () => readonly BlockDevice[]): void {
  if (isStacked(dev)) return;
  const q = `/sys/block/${dev.name}/queue`;
  const names = (ds: readonly BlockDevice[]): string => ds.map((d) => d.name).join(' ');
  sysfs.add(`${q}/copy_domain_members`, { show: () => names(copyDomainMembers(dev, devices())) });
  sysfs.add(`${q}/copy_offload_to`, { show: () => names(copyOffloadTo(dev, devices())) });
}
