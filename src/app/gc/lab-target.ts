/**
 * The lab device a GC run is given (`--scenario FILE --dev PATH`), checked before the run: it is
 * in the scenario, its logical block size divides 4 KiB, a zoned device is an NVMe ZNS namespace
 * (zone size from its identify data, zone capacity from Report Zones), the path has what it needs
 * (append and izc a ZNS namespace, izc NVMe Copy), an allocation or a timing preset is the
 * device's timing model's; and the layer's layout over the device's capacity.
 */
import type { Lab } from '../lab.js';
import type { BlockDevice } from '../../core/block/device.js';
import { NvmeNamespaceDevice } from '../../../devices/nvme/driver.js';
import { buildSqe } from '../../../devices/nvme/codec.js';
import { IoOpc, ZONE_REPORT, ZRA, ZRASF, ZMR_PARTIAL, statusName } from '../../../devices/nvme/spec.js';
import { le64 } from '../../core/util/bytes.js';
import { isStacked } from '../../core/block/remap.js';
import { GC_BLOCK_BYTES } from './constants.js';
import { makeLayout, type Layout } from './layout.js';
import { GcOptionError, checkGcOptions, type GcOptions } from './options.js';

export interface LabGcTarget {
  readonly lab: Lab;
  readonly dev: string;
}

/** A zoned NVMe namespace's geometry (bytes). */
export interface ZnsInfo {
  readonly dev: NvmeNamespaceDevice;
  readonly zoneBytes: number;
  readonly zoneCapBytes: number;
}

async function znsInfo(dev: NvmeNamespaceDevice): Promise<ZnsInfo> {
  const z = dev.ns.zoned!;
  const lbs = dev.ns.lbs;
  // Report Zones (Zone Management Receive, ZRA 0, all zones, partial): the first descriptor's ZCAP.
  const len = ZONE_REPORT.HEADER + ZONE_REPORT.DESC;
  const r = await dev.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.ZONE_MGMT_RECV, nsid: dev.ns.nsid, cdw: { 10: 0, 11: 0, 12: len / 4 - 1, 13: ZRA.REPORT | (ZRASF.ALL << 8) | ZMR_PARTIAL } }), dataLen: len });
  if (r.status !== 0 || !r.data) throw new GcOptionError('--dev', `${dev.name}: Report Zones failed with ${statusName(r.status)}`);
  const zcap = le64(r.data, ZONE_REPORT.HEADER + ZONE_REPORT.ZCAP);
  return { dev, zoneBytes: z.zsze * lbs, zoneCapBytes: zcap * lbs };
}

/**
 * The timing presets that give a lab device modeled time: its own model's, or for a stacked (dm)
 * device those of the lab's timed devices (the ones below it among them); none when untimed.
 */
export function timingsOf(lab: Lab, dev: BlockDevice): string[] {
  if (dev.timing) return [dev.timing.params.preset];
  if (!isStacked(dev)) return [];
  return [...new Set(lab.list().flatMap((d) => (d.timing ? [d.timing.params.preset] : [])))];
}

/** The device a run goes to, its zones (a ZNS namespace) and the layer's layout over it. */
export interface LabDevice {
  readonly dev: BlockDevice;
  readonly zns: ZnsInfo | null;
  readonly layout: Layout;
}

/** The run's device and layout; a GcOptionError naming the option when the device cannot take the run. */
export async function openLabDevice(target: LabGcTarget, o: GcOptions): Promise<LabDevice> {
  checkGcOptions({ ...o, ...(o.zoneBytes === undefined && (o.path === 'append' || o.path === 'izc') ? { zoneBytes: GC_BLOCK_BYTES } : {}) });
  const lab = target.lab;
  const dev = lab.findDevice(target.dev);
  if (!dev) throw new GcOptionError('--dev', `no device ${target.dev} in the scenario`);
  if (GC_BLOCK_BYTES % dev.limits.logical_block_size !== 0) throw new GcOptionError('--dev', `${dev.name}'s logical block size ${dev.limits.logical_block_size} does not divide 4 KiB`);
  const zoned = dev.limits.zoned !== 'none';
  let zns: ZnsInfo | null = null;
  if (zoned) {
    if (!(dev instanceof NvmeNamespaceDevice) || !dev.ns.zoned) throw new GcOptionError('--dev', `${dev.name} is zoned but not an NVMe ZNS namespace`);
    zns = await znsInfo(dev);
  }
  if ((o.path === 'append' || o.path === 'izc') && !zns) throw new GcOptionError('--path', `${o.path} needs a zoned NVMe namespace; ${dev.name} is not one`);
  if (o.allocation !== 'frontier' && dev.timing?.params.allocation !== o.allocation) {
    throw new GcOptionError('--allocation', `${dev.name}'s placement is its timing model's: set timing: { allocation: ${o.allocation} } on it in the scenario`);
  }
  if (o.timing !== 'none') {
    const presets = timingsOf(lab, dev);
    if (!presets.includes(o.timing)) {
      throw new GcOptionError('--timing', `${dev.name}'s timing model is the scenario's (${presets.length ? presets.join(', ') : 'it has none'}): set timing: ${o.timing} on it in the scenario`);
    }
  }
  if (o.path === 'izc' && zns && !(zns.dev.host.info.oncs & (1 << 8))) throw new GcOptionError('--path', `izc needs NVMe Copy; ${dev.name}'s controller does not support it`);
  let layout: Layout;
  try {
    layout = makeLayout({
      bytes: dev.capacity,
      spareFactor: o.spareFactor,
      segsPerSection: o.segsPerSection,
      ...(zns ? { zoneBytes: zns.zoneBytes, zoneCapacityBytes: zns.zoneCapBytes } : {}),
    });
  } catch (err) {
    throw new GcOptionError('--dev', `${dev.name} (${dev.capacity} bytes): ${(err as Error).message}`);
  }
  return { dev, zns, layout };
}
