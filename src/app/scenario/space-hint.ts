/**
 * Why a write or copy ran out of space, when the lab knows: a sparse medium (a nullblk device
 * or an NVMe namespace with `backing: sparse`) that reached its `memory_limit`, the cap on the
 * memory its written chunks may take (4 GiB unless the scenario says otherwise), named with the
 * key that raises it. A dm device is looked through to the devices below it.
 */
import type { Lab } from '../lab.js';
import type { BlockDevice } from '../../core/block/device.js';
import { DmDevice } from '../../core/dm/device.js';
import { formatSize } from '../../core/util/size.js';
import { NullBlkDevice } from '../../../devices/nullblk/nullblk.js';
import { NvmeNamespaceDevice } from '../../../devices/nvme/driver.js';
import { nvmeController } from '../../../devices/nvme/attach.js';
import { SparseBacking } from '../../../devices/backing/sparse.js';
import type { Backing } from '../../../devices/backing/backing.js';

interface SparseMedium {
  readonly dev: BlockDevice;
  readonly backing: SparseBacking;
  /** Where the key goes: the device entry, or the namespace entry of a controller. */
  readonly where: string;
}

/** The sparse media below a device (itself, or what a dm table maps onto). */
function sparseMedia(lab: Lab, dev: BlockDevice, out: SparseMedium[], seen = new Set<BlockDevice>()): void {
  if (seen.has(dev)) return;
  seen.add(dev);
  if (dev instanceof DmDevice) {
    for (const e of dev.table.entries) for (const d of e.target.devices) sparseMedia(lab, d, out, seen);
    return;
  }
  let backing: Backing | undefined;
  let where = `the device entry of ${dev.name}`;
  if (dev instanceof NullBlkDevice) backing = dev.backing;
  else if (dev instanceof NvmeNamespaceDevice) {
    const ctrl = /^(nvme\d+)n\d+$/.exec(dev.name)?.[1];
    backing = ctrl ? nvmeController(lab, ctrl)?.ctrl?.namespace(dev.ns.nsid)?.backing : undefined;
    where = `namespace ${dev.ns.nsid} of ${ctrl ?? 'its controller'}`;
  }
  if (backing instanceof SparseBacking) out.push({ dev, backing, where });
}

/**
 * For an ENOSPC on `paths`: the sparse media that are (nearly) at their memory_limit, e.g.
 * `nullb0's sparse medium reached its memory_limit of 4GiB (4GiB of chunks written); raise
 * memory_limit on …`; undefined when no sparse medium explains it.
 */
export function spaceHint(lab: Lab, paths: readonly string[]): string | undefined {
  const media: SparseMedium[] = [];
  const seen = new Set<BlockDevice>();
  for (const p of paths) {
    const d = lab.findDevice(p);
    if (d) sparseMedia(lab, d, media, seen);
  }
  const fullness = (m: SparseMedium): number => (m.backing.memoryLimit === 0 ? 1 : m.backing.allocatedBytes / m.backing.memoryLimit);
  const top = Math.max(0, ...media.map(fullness));
  const full = media.filter((m) => fullness(m) >= 0.5 && fullness(m) >= 0.9 * top);
  if (!full.length) return undefined;
  return full
    .map((m) => {
      const raise = Math.min(m.dev.capacity, Math.max(m.backing.memoryLimit * 2, 1024 * 1024));
      return `${m.dev.name}'s sparse medium reached its memory_limit of ${formatSize(m.backing.memoryLimit)} (${formatSize(m.backing.allocatedBytes)} of chunks written); raise memory_limit on ${m.where} (e.g. memory_limit: ${formatSize(raise)}${raise === m.dev.capacity ? ', the device\'s size: every block fits' : ''}; copylab explain memory_limit)`;
    })
    .join('; ');
}
