/**
 * dm-raid (drivers/md/dm-raid.c; Documentation/admin-guide/device-mapper/dm-raid.rst):
 * `raid <raid_type> <#raid_params> <chunk_size> [<raid_params>…] <#raid_devs> <metadata_dev0> <dev0> […]`.
 * copylab implements raid_type `raid1` (mirror) and `raid5_ls` (left-symmetric RAID5) over
 * whole data devices, without metadata devices (write `-`). Optional raid params: `sync`,
 * `nosync`, `region_size <sectors>`. Without `sync` an array starts in sync (the devices are
 * assumed to hold the same data, as after `nosync`; fresh lab devices read as zeros, which is
 * consistent). `sync` is dm-raid's "force a full resynchronization": raid1 legs after the first
 * start alive but not in sync (`a`) with every region to copy, until `dmsetup message … resync`;
 * raid5 has no region log here, so `sync` on raid5_ls is refused rather than ignored. dm-raid
 * refuses both together.
 *
 * Health characters in the status line (dm-raid.rst): 'A' alive and in sync, 'a' alive but
 * not in sync (recovering), 'D' dead/failed.
 */
import { SECTOR_SIZE } from '../../block/ops.js';
import type { BlockDevice } from '../../block/device.js';
import { deviceArg, parseCount, parseSectors, TableError, type TableContext, type TargetType } from '../target.js';
import { Raid1Target } from './raid1.js';
import { Raid5Target } from './raid5.js';
import { raidLeg } from './raid-leg.js';

/** Legs per array (dm-raid's MAX_RAID_DEVICES is 253; a tighter limit here). */
export const RAID_MAX_LEGS = 16;
/** Default region size for raid1 resync tracking (sectors): 512 KiB. */
export const RAID_DEFAULT_REGION_SECTORS = 1024;
/** Regions tracked per array (a limit on everything). */
export const RAID_MAX_REGIONS = 1 << 22;
/** Raid params after chunk_size (a limit on everything). */
const RAID_MAX_PARAMS = 16;

interface RaidArgs {
  readonly type: 'raid1' | 'raid5_ls';
  readonly chunk: number;
  readonly regionSize: number;
  /** `sync`: a full resynchronization from the first leg. */
  readonly sync: boolean;
  readonly legs: readonly BlockDevice[];
}

function parseRaidArgs(args: readonly string[], ctx: TableContext): RaidArgs {
  const type = args[0];
  if (type !== 'raid1' && type !== 'raid5_ls') throw new TableError(`raid: raid type ${JSON.stringify(type ?? '')} is not supported (raid1, raid5_ls)`);
  const nParams = parseCount(args[1], 'raid #raid_params', 1, RAID_MAX_PARAMS);
  const params = args.slice(2, 2 + nParams);
  if (params.length !== nParams) throw new TableError(`raid: #raid_params is ${nParams} but fewer follow`);
  const chunkSectors = parseSectors(params[0], 'raid chunk_size');
  let regionSectors = RAID_DEFAULT_REGION_SECTORS;
  let sync: 'sync' | 'nosync' | null = null;
  for (let i = 1; i < params.length; i++) {
    const p = params[i]!;
    if (p === 'sync' || p === 'nosync') {
      if (sync !== null) throw new TableError(`raid: only one of sync or nosync is allowed${sync === p ? `, once` : ''}`);
      sync = p;
      continue;
    }
    if (p === 'region_size') {
      regionSectors = parseSectors(params[++i], 'raid region_size');
      if (regionSectors < 8 || (regionSectors & (regionSectors - 1)) !== 0) throw new TableError(`raid: region_size ${regionSectors} must be a power of two of at least 8 sectors`);
      continue;
    }
    throw new TableError(`raid: unsupported raid parameter ${p} (sync, nosync, region_size)`);
  }
  const rest = args.slice(2 + nParams);
  const nDevs = parseCount(rest[0], 'raid #raid_devs', 2, RAID_MAX_LEGS);
  if (rest.length !== 1 + 2 * nDevs) throw new TableError(`raid: ${nDevs} devices need ${nDevs} <metadata_dev> <dev> pairs, got ${rest.length - 1} argument(s)`);
  const legs: BlockDevice[] = [];
  for (let i = 0; i < nDevs; i++) {
    if (rest[1 + 2 * i] !== '-') throw new TableError(`raid: device ${i}: metadata devices are not supported (write -)`);
    const dev = deviceArg(ctx, rest[2 + 2 * i], `raid device ${i}`);
    if (legs.includes(dev)) throw new TableError(`raid: device ${dev.name} is listed twice`);
    legs.push(dev);
  }
  if (sync === 'sync' && type === 'raid5_ls') throw new TableError('raid: sync (a full resynchronization) is not supported for raid5_ls; its arrays start in sync, as with nosync');
  return { type, chunk: chunkSectors * SECTOR_SIZE, regionSize: regionSectors * SECTOR_SIZE, sync: sync === 'sync', legs };
}

export const raidType: TargetType = {
  name: 'raid',
  create(args, length, ctx) {
    const a = parseRaidArgs(args, ctx);
    const event = (): void => ctx.event?.();
    const legSize = Math.min(...a.legs.map((d) => d.capacity));
    const lbs = Math.max(...a.legs.map((d) => d.limits.logical_block_size));
    if (a.type === 'raid1') {
      if (length > legSize) throw new TableError(`raid: length beyond the underlying device: raid1 of ${length / SECTOR_SIZE} sectors, the smallest leg has ${legSize / SECTOR_SIZE}`);
      if (Math.ceil(length / a.regionSize) > RAID_MAX_REGIONS) throw new TableError(`raid: more than ${RAID_MAX_REGIONS} regions; raise region_size`);
      return new Raid1Target(a.legs.map((dev, i) => raidLeg(dev, a.sync && i > 0 ? 'a' : 'A', event)), length, a.regionSize, a.sync);
    }
    const n = a.legs.length;
    if (n < 3) throw new TableError('raid: raid5_ls needs at least 3 devices');
    const cs = a.chunk / SECTOR_SIZE;
    if (cs < 8 || (cs & (cs - 1)) !== 0) throw new TableError(`raid: invalid chunk size ${cs}: raid5 needs a power of two of at least 8 sectors`);
    if (a.chunk % lbs !== 0) throw new TableError(`raid: invalid chunk size ${cs}: not a multiple of the ${lbs}-byte blocks`);
    const stripeData = a.chunk * (n - 1);
    if (length % stripeData !== 0) throw new TableError(`raid: length ${length / SECTOR_SIZE} is not a multiple of the stripe (${stripeData / SECTOR_SIZE} data sectors)`);
    if ((length / (n - 1)) > legSize) throw new TableError(`raid: length beyond the underlying device: raid5_ls needs ${length / (n - 1) / SECTOR_SIZE} sectors per device, the smallest has ${legSize / SECTOR_SIZE}`);
    return new Raid5Target(a.legs.map((dev) => raidLeg(dev, 'A', event)), length, a.chunk);
  },
};
