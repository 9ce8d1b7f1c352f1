/**
 * A null_blk-like RAM disk (drivers/block/null_blk, with the copy support of the copy-offload
 * series, where a copy is a memcpy inside the device). It is its own driver: queueBio executes
 * bios against the backing store and completes them inline (null_blk irqmode=0).
 *
 * Native copy: a COPY bio's sources are read straight out of the backing stores of nullblk
 * devices in the same copy domain; no host buffer is touched (host_bytes stays 0).
 */
import type { Bio } from '../../src/block/bio.js';
import type { BlockDevice, DeviceStats } from '../../src/block/device.js';
import { newDeviceStats } from '../../src/block/device.js';
import { FaultInjector } from '../../src/block/fault.js';
import { BLK_COPY_MAX_BYTES, checkLimits, defaultLimits, updateCopyLimit, type QueueLimits } from '../../src/block/limits.js';
import { ReqOp, SECTOR_SIZE } from '../../src/block/ops.js';
import { Errno } from '../../src/util/errno.js';
import type { Backing } from '../backing/backing.js';
import { copyBetween } from '../backing/backing.js';
import { MemoryBacking } from '../backing/memory.js';
import { SparseBacking, SPARSE_DEFAULT_LIMIT } from '../backing/sparse.js';

export interface NullBlkOptions {
  readonly name: string;
  /** Capacity in bytes. */
  readonly size: number;
  /** Logical block size: 512 or 4096 (null_blk's `bs`). */
  readonly lbs?: 512 | 4096;
  readonly backing?: 'memory' | 'sparse';
  /** Copy length the device takes per command; 0 = no offload (null_blk's copy_max_bytes). */
  readonly copy_max_hw_bytes?: number;
  /** Source ranges per copy command. */
  readonly copy_max_segments?: number;
  /** Copy domain name; devices with the same name copy between each other inside the "hardware". */
  readonly domain?: string | null;
  /** Largest read/write per command, KiB (max_hw_sectors_kb). */
  readonly max_hw_sectors_kb?: number;
  /** Advertise discard and write zeroes (default true). */
  readonly discard?: boolean;
  /** Sparse backing: the most memory its chunks may take. */
  readonly memory_limit?: number;
}

/** Device defaults in one table (QEMU's habit): what a nullblk is when the scenario says nothing. */
export const NULLBLK_DEFAULTS = {
  lbs: 512 as 512 | 4096,
  backing: 'sparse' as 'memory' | 'sparse',
  copy_max_hw_bytes: BLK_COPY_MAX_BYTES,
  copy_max_segments: 128,
  domain: null as string | null,
  max_hw_sectors_kb: 1280,
  discard: true,
  memory_limit: SPARSE_DEFAULT_LIMIT,
};

/** Limits on the options themselves. */
export const NULLBLK_LIMITS = {
  maxSize: 2 ** 50, // 1 PiB: sector numbers stay exact in a double
  maxCopySegments: 65536,
  maxHwSectorsKb: { min: 4, max: 65536 },
};

export class NullBlkDevice implements BlockDevice {
  readonly name: string;
  readonly capacity: number;
  readonly limits: QueueLimits;
  readonly stats: DeviceStats = newDeviceStats();
  readonly faults = new FaultInjector();
  readonly backing: Backing;

  constructor(options: NullBlkOptions) {
    const o = { ...NULLBLK_DEFAULTS, ...options };
    const problem = nullBlkOptionProblem(o);
    if (problem) throw new RangeError(`nullblk ${o.name}: ${problem}`);
    this.name = o.name;
    this.capacity = o.size;
    const l = defaultLimits(o.lbs);
    l.physical_block_size = o.lbs;
    l.max_hw_sectors = (o.max_hw_sectors_kb * 1024) / SECTOR_SIZE;
    l.max_sectors = Math.min(l.max_sectors, l.max_hw_sectors);
    if (o.discard) {
      // null_blk: discard and write zeroes of up to UINT_MAX >> 9 sectors.
      l.max_hw_discard_sectors = l.max_discard_sectors = 0xffffffff >>> 9;
      l.max_write_zeroes_sectors = 0xffffffff >>> 9;
    }
    l.max_copy_hw_sectors = o.copy_max_hw_bytes / SECTOR_SIZE;
    l.max_copy_src_segments = o.copy_max_segments;
    l.copy_domain = o.domain;
    updateCopyLimit(l);
    const bad = checkLimits(l);
    if (bad) throw new RangeError(`nullblk ${o.name}: ${bad}`);
    this.limits = l;
    this.backing = o.backing === 'memory' ? new MemoryBacking(o.size) : new SparseBacking(o.size, o.memory_limit);
  }

  copyOffloadRefusal(src: BlockDevice): string | null {
    return src instanceof NullBlkDevice ? null : `${this.name} copies only from nullblk devices, not ${src.name}`;
  }

  queueBio(bio: Bio): void {
    bio.endIo(this.execute(bio));
  }

  private execute(bio: Bio): number {
    switch (bio.op) {
      case ReqOp.READ:
        this.backing.read(bio.offset, bio.data!);
        return bio.length;
      case ReqOp.WRITE: {
        const res = this.backing.write(bio.offset, bio.data!);
        return res < 0 ? res : bio.length;
      }
      case ReqOp.FLUSH:
        return 0;
      case ReqOp.DISCARD:
      case ReqOp.WRITE_ZEROES:
        this.backing.zero(bio.offset, bio.length);
        return 0;
      case ReqOp.COPY:
        return this.copy(bio);
      default:
        return -Errno.ENOTSUP;
    }
  }

  /** The device-internal copy: check every source first, then move the data. */
  private copy(bio: Bio): number {
    const sources = bio.sources ?? [];
    for (const s of sources) {
      if (!(s.dev instanceof NullBlkDevice) || (s.dev !== this && (s.dev.limits.copy_domain === null || s.dev.limits.copy_domain !== this.limits.copy_domain))) {
        return -Errno.EXDEV;
      }
    }
    let at = bio.offset;
    for (const s of sources) {
      const res = copyBetween((s.dev as NullBlkDevice).backing, s.offset, this.backing, at, s.length);
      if (res < 0) return res;
      at += s.length;
    }
    return bio.length;
  }
}

/** Checks nullblk options; returns a message or null. */
export function nullBlkOptionProblem(o: Required<Omit<NullBlkOptions, 'domain'>> & { domain: string | null }): string | null {
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(o.name)) return 'name must be 1-32 characters of [A-Za-z0-9_.-]';
  if (o.lbs !== 512 && o.lbs !== 4096) return `lbs must be 512 or 4096, not ${String(o.lbs)}`;
  if (!Number.isSafeInteger(o.size) || o.size <= 0 || o.size % o.lbs !== 0) return `size must be a positive multiple of ${o.lbs}`;
  if (o.size > NULLBLK_LIMITS.maxSize) return `size exceeds ${NULLBLK_LIMITS.maxSize} bytes`;
  if (o.backing !== 'memory' && o.backing !== 'sparse') return `backing must be memory or sparse, not ${String(o.backing)}`;
  if (!Number.isSafeInteger(o.copy_max_hw_bytes) || o.copy_max_hw_bytes < 0 || o.copy_max_hw_bytes % o.lbs !== 0) {
    return `copy_max_hw_bytes must be 0 or a multiple of ${o.lbs}`;
  }
  if (o.copy_max_hw_bytes > BLK_COPY_MAX_BYTES) return `copy_max_hw_bytes exceeds BLK_COPY_MAX_BYTES (${BLK_COPY_MAX_BYTES})`;
  if (!Number.isSafeInteger(o.copy_max_segments) || o.copy_max_segments < 1 || o.copy_max_segments > NULLBLK_LIMITS.maxCopySegments) {
    return `copy_max_segments must be 1..${NULLBLK_LIMITS.maxCopySegments}`;
  }
  const k = NULLBLK_LIMITS.maxHwSectorsKb;
  if (!Number.isSafeInteger(o.max_hw_sectors_kb) || o.max_hw_sectors_kb < k.min || o.max_hw_sectors_kb > k.max || (o.max_hw_sectors_kb * 1024) % o.lbs !== 0) {
    return `max_hw_sectors_kb must be ${k.min}..${k.max} and a multiple of the block size`;
  }
  if (o.domain !== null && !/^[A-Za-z0-9_.:-]{1,64}$/.test(o.domain)) return 'domain must be 1-64 characters of [A-Za-z0-9_.:-]';
  if (!Number.isSafeInteger(o.memory_limit) || o.memory_limit < 0) return 'memory_limit must be a non-negative integer';
  return null;
}
