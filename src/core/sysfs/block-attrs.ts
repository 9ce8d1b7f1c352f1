/**
 * /sys/block/<dev>/ for a block device: `size` and the queue/ attributes, named as the kernel
 * names them (Documentation/ABI/stable/sysfs-block) plus the copy attributes of the
 * copy-offload series (copy_max_bytes rw, copy_max_hw_bytes ro) and copylab's own
 * copy_max_segments, copy_domain and copy_offload_min_bytes.
 */
import type { BlockDevice } from '../block/device.js';
import { BLK_DEF_MAX_SECTORS_CAP, updateCopyLimit } from '../block/limits.js';
import { SECTOR_SIZE } from '../block/ops.js';
import { copyDomainOf } from '../block/copy/plan.js';
import { parseSysfsUnsigned, type Attribute, type Sysfs } from './tree.js';

/** Largest copy_offload_min_bytes a user may set. */
export const COPY_OFFLOAD_MIN_BYTES_MAX = 4 * 1024 ** 3;
/** The kernel rejects max_sectors_kb below one page. */
const PAGE_KB = 4;

const ro = (show: () => string | number): Attribute => ({ show: () => String(show()) });
const bytesOf = (sectors: number): number => (Number.isFinite(sectors) ? sectors * SECTOR_SIZE : 0);

export function registerBlockDevice(sysfs: Sysfs, dev: BlockDevice): void {
  const base = `/sys/block/${dev.name}`;
  const q = `${base}/queue`;
  const l = dev.limits;
  sysfs.add(`${base}/size`, ro(() => dev.capacity / SECTOR_SIZE));
  sysfs.add(`${base}/ro`, ro(() => 0));
  sysfs.add(`${base}/removable`, ro(() => 0));
  sysfs.add(`${q}/logical_block_size`, ro(() => l.logical_block_size));
  sysfs.add(`${q}/hw_sector_size`, ro(() => l.logical_block_size));
  sysfs.add(`${q}/physical_block_size`, ro(() => l.physical_block_size));
  sysfs.add(`${q}/minimum_io_size`, ro(() => l.physical_block_size));
  sysfs.add(`${q}/max_hw_sectors_kb`, ro(() => bytesOf(l.max_hw_sectors) / 1024));
  sysfs.add(`${q}/max_segments`, ro(() => l.max_segments));
  sysfs.add(`${q}/max_segment_size`, ro(() => l.max_segment_size));
  sysfs.add(`${q}/rotational`, ro(() => 0));
  sysfs.add(`${q}/zoned`, ro(() => l.zoned));
  sysfs.add(`${q}/discard_granularity`, ro(() => (l.max_hw_discard_sectors ? l.discard_granularity : 0)));
  sysfs.add(`${q}/discard_max_hw_bytes`, ro(() => bytesOf(l.max_hw_discard_sectors)));
  sysfs.add(`${q}/write_zeroes_max_bytes`, ro(() => bytesOf(l.max_write_zeroes_sectors)));
  sysfs.add(`${q}/copy_max_hw_bytes`, ro(() => bytesOf(l.max_copy_hw_sectors)));
  sysfs.add(`${q}/copy_max_segments`, ro(() => (Number.isFinite(l.max_copy_src_segments) ? l.max_copy_src_segments : 0)));
  sysfs.add(`${q}/copy_domain`, ro(() => copyDomainOf(dev)));
  // copylab: the device's timing model, read-only (docs/timing.md). `preset` is "none" untimed.
  sysfs.add(`${base}/timing/preset`, ro(() => dev.timing?.params.preset ?? 'none'));
  if (dev.timing) {
    for (const [k, v] of Object.entries(dev.timing.params)) if (k !== 'preset') sysfs.add(`${base}/timing/${k}`, ro(() => v));
  }

  // queue_max_sectors_store (block/blk-sysfs.c): 0 restores the default; otherwise between one
  // page and max_hw_sectors_kb.
  sysfs.add(`${q}/max_sectors_kb`, {
    show: () => String(bytesOf(l.max_sectors) / 1024),
    store: (v) => {
      const kb = parseSysfsUnsigned(v);
      if (kb === undefined) return 'not an unsigned decimal number';
      const hwKb = bytesOf(l.max_hw_sectors) / 1024;
      if (kb === 0) {
        l.max_sectors = Math.min(l.max_hw_sectors, BLK_DEF_MAX_SECTORS_CAP);
        return null;
      }
      if (kb > hwKb) return `${kb} exceeds max_hw_sectors_kb (${hwKb})`;
      if (kb < PAGE_KB || kb * 1024 < l.logical_block_size) return `${kb} is below one page and one logical block`;
      if ((kb * 1024) % l.logical_block_size !== 0) return `${kb} KiB is not a multiple of the logical block size`;
      l.max_sectors = (kb * 1024) / SECTOR_SIZE;
      return null;
    },
  });

  // queue_discard_max_store: a multiple of discard_granularity; above hw means hw.
  sysfs.add(`${q}/discard_max_bytes`, {
    show: () => String(bytesOf(l.max_discard_sectors)),
    store: (v) => {
      const bytes = parseSysfsUnsigned(v);
      if (bytes === undefined) return 'not an unsigned decimal number';
      if (l.discard_granularity && bytes % l.discard_granularity !== 0) return `${bytes} is not a multiple of discard_granularity (${l.discard_granularity})`;
      l.max_discard_sectors = Math.min(bytes / SECTOR_SIZE, l.max_hw_discard_sectors);
      return null;
    },
  });

  // queue_copy_max_store (copy-offload series v20): a multiple of the logical block size;
  // 0 disables offload; the effective value is min(copy_max_hw_bytes, this).
  sysfs.add(`${q}/copy_max_bytes`, {
    show: () => String(bytesOf(l.max_copy_sectors)),
    store: (v) => {
      const bytes = parseSysfsUnsigned(v);
      if (bytes === undefined) return 'not an unsigned decimal number';
      if (bytes % l.logical_block_size !== 0) return `${bytes} is not a multiple of logical_block_size (${l.logical_block_size})`;
      l.max_user_copy_sectors = bytes / SECTOR_SIZE;
      updateCopyLimit(l);
      return null;
    },
  });

  sysfs.add(`${q}/copy_offload_min_bytes`, {
    show: () => String(l.copy_offload_min_bytes),
    store: (v) => {
      const bytes = parseSysfsUnsigned(v);
      if (bytes === undefined) return 'not an unsigned decimal number';
      if (bytes % l.logical_block_size !== 0) return `${bytes} is not a multiple of logical_block_size (${l.logical_block_size})`;
      if (bytes > COPY_OFFLOAD_MIN_BYTES_MAX) return `${bytes} exceeds ${COPY_OFFLOAD_MIN_BYTES_MAX}`;
      l.copy_offload_min_bytes = bytes;
      return null;
    },
  });
}
