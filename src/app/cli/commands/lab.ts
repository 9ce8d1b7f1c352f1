/**
 * `copylab lab [--scenario FILE] [--json]`: the devices of the lab every command works on (the
 * default lab unless --scenario names another): kind, size, block size, copy offload, copy
 * domain and what else each can do, then its dm stack and iSCSI targets.
 */
import Table from 'cli-table3';
import type { Command } from 'commander';
import type { Lab } from '../../lab.js';
import type { BlockDevice } from '../../../core/block/device.js';
import { SECTOR_SIZE } from '../../../core/block/ops.js';
import { NullBlkDevice } from '../../../../devices/nullblk/nullblk.js';
import { NvmeNamespaceDevice } from '../../../../devices/nvme/driver.js';
import { SdDevice } from '../../../../devices/scsi/sd.js';
import { DmDevice } from '../../../core/dm/device.js';
import { formatSize } from '../../../core/util/size.js';
import { isStacked } from '../../../core/block/remap.js';
import { offloadRefusal } from '../../../core/block/copy/plan.js';
import { copyDomainMembers, copyOffloadTo } from '../../../core/sysfs/copy-reach.js';
import { allowOutsidePathsOption, EXIT_OK, inShell, natural, openLab, type SetExit } from '../common.js';
import type { Scenario } from '../../scenario/parse.js';

export interface LabDeviceRow {
  readonly device: string;
  readonly kind: 'nullblk' | 'nvme' | 'sd' | 'dm' | 'other';
  readonly size: number;
  readonly lbs: number;
  /** copy_max_hw_bytes: 0 = no copy offload. */
  readonly copy_max_hw_bytes: number;
  readonly copy_domain: string | null;
  /** Devices sharing its copy domain, and those a copy from it is offloaded to (sysfs queue/copy_domain_members, copy_offload_to); absent for dm devices. */
  readonly copy_domain_members?: readonly string[];
  readonly copy_offload_to?: readonly string[];
  /** NVMe: the Copy descriptor formats the controller supports (OCFS) and those the host enabled (CDFE). */
  readonly copy_formats?: readonly number[];
  readonly copy_formats_enabled?: readonly number[];
  readonly capabilities: readonly string[];
}

/** The bits set in a mask, as format numbers. */
const formats = (mask: number): number[] => Array.from({ length: 16 }, (_, i) => i).filter((i) => mask & (1 << i));

const kindOf = (d: BlockDevice): LabDeviceRow['kind'] =>
  d instanceof NullBlkDevice ? 'nullblk' : d instanceof NvmeNamespaceDevice ? 'nvme' : d instanceof SdDevice ? 'sd' : d instanceof DmDevice ? 'dm' : 'other';

function capabilities(lab: Lab, d: BlockDevice): string[] {
  const l = d.limits;
  const caps: string[] = [];
  const sys = (attr: string): string => lab.readSysfs(`/sys/block/${d.name}/queue/${attr}`).value?.trim() ?? '';
  if (l.zoned !== 'none') caps.push(`zoned (${l.zoned}, ${sys('nr_zones')} zones of ${formatSize(Number(sys('chunk_sectors')) * SECTOR_SIZE)})`);
  if (d instanceof NvmeNamespaceDevice) {
    const cross = formats(d.host.info.ocfs).filter((f) => f >= 2);
    const on = cross.filter((f) => d.host.cdfe & (1 << f));
    caps.push(`NVMe Copy, nsid ${d.ns.nsid}, formats ${formats(d.host.info.ocfs).join('/') || 'none'}${cross.length ? `; from other namespaces (formats ${cross.join('/')}): ${on.length === cross.length ? 'enabled (CDFE)' : on.length ? `format ${on.join('/')} enabled (CDFE)` : 'off (CDFE)'}` : ''}`);
  }
  if (d instanceof SdDevice) caps.push(`array ${d.array.name} LUN ${d.lun}, copy by ${d.copyMode}`);
  if (d instanceof DmDevice) caps.push(`/dev/mapper/${d.mapperName}: ${[...new Set(d.table.entries.map((e) => e.target.type))].join(', ')}`);
  if (l.max_discard_sectors > 0) caps.push('discard');
  return caps;
}

export function labDevices(lab: Lab): LabDeviceRow[] {
  return lab.list().sort((a, b) => natural(a.name, b.name)).map((d) => ({
    device: `/dev/${d.name}`,
    kind: kindOf(d),
    size: d.capacity,
    lbs: d.limits.logical_block_size,
    copy_max_hw_bytes: d.limits.max_copy_hw_sectors * SECTOR_SIZE,
    copy_domain: d.limits.copy_domain,
    ...(isStacked(d) ? {} : { copy_domain_members: copyDomainMembers(d, lab.list()).map((x) => x.name), copy_offload_to: copyOffloadTo(d, lab.list()).map((x) => x.name) }),
    ...(d instanceof NvmeNamespaceDevice ? { copy_formats: formats(d.host.info.ocfs), copy_formats_enabled: formats(d.host.info.ocfs & (d.host.cdfe | 0b11)) } : {}),
    capabilities: capabilities(lab, d),
  }));
}

/**
 * Per device that can copy: the devices a copy from it is offloaded to, and the devices of its
 * copy domain that refuse, with the driver's reason (CDFE off, a copy manager out of reach).
 */
export function copyReachLines(lab: Lab): string[] {
  const all = lab.list().filter((d) => !isStacked(d)).sort((a, b) => natural(a.name, b.name));
  const width = Math.max(0, ...all.map((d) => d.name.length));
  return all.map((src) => {
    const to = copyOffloadTo(src, all);
    const refused = copyDomainMembers(src, all).filter((d) => !to.includes(d) && (to.length > 0 || d !== src)).map((d) => `${d.name} refuses: ${offloadRefusal(d, src)?.detail ?? '?'}`);
    const head = to.length ? to.map((d) => d.name).join(', ') : `none (${offloadRefusal(src, src)?.detail ?? 'no device accepts it'})`;
    return `  ${src.name.padEnd(width)} → ${[head, ...refused].join('; ')}`;
  });
}

export function formatLab(lab: Lab, scenario: Scenario, source: string, color: boolean): string {
  const table = new Table({
    head: ['device', 'kind', 'size', 'lbs', 'copy offload', 'copy domain', 'also'],
    colAligns: ['left', 'left', 'right', 'right', 'right', 'left', 'left'],
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
  });
  for (const r of labDevices(lab)) {
    table.push([r.device, r.kind, formatSize(r.size), r.lbs, r.copy_max_hw_bytes ? `≤ ${formatSize(r.copy_max_hw_bytes)}` : 'no', r.copy_domain ?? '(its own)', r.capabilities.join('; ')]);
  }
  const lines = [
    `${source}`,
    table.toString(),
    'copy offload = copy_max_hw_bytes (longest copy per command); devices copy to each other inside the hardware only within one copy domain.',
    'Copies offloaded, source → destinations (sysfs queue/copy_offload_to; a dm device copies where its table maps each extent):',
    ...copyReachLines(lab),
  ];
  for (const t of scenario.iscsi?.targets ?? []) lines.push(`iSCSI target ${t.iqn} (copylab serve iscsi): ${t.luns.map((l) => `LUN ${l.lun} = ${l.dev}`).join(', ')}`);
  if (scenario.steps.length) lines.push(`${scenario.steps.length} steps: \`copylab run${source === 'default lab' ? '' : ` ${source}`}\` runs them.`);
  return lines.join('\n');
}

export function registerLab(program: Command, setExit: SetExit): void {
  allowOutsidePathsOption(program.command('lab'))
    .description('show the lab every command works on: devices, sizes, copy offload, copy domains, capabilities (the default lab unless --scenario)')
    .option('-s, --scenario <file>', 'show the lab this scenario builds instead')
    .option('--json', 'print one JSON object per device')
    .action(async (opts: { scenario?: string; json?: boolean; allowOutsidePaths?: boolean }) => {
      const h = openLab(opts.scenario, opts);
      try {
        if (opts.json) process.stdout.write(labDevices(h.lab).map((r) => JSON.stringify(r)).join('\n') + '\n');
        else process.stdout.write(`${formatLab(h.lab, h.scenario, inShell() ? "this shell's lab" : opts.scenario ?? 'default lab', !!process.stdout.isTTY)}\n`);
        setExit(EXIT_OK);
      } finally {
        await h.release();
      }
    });
}
