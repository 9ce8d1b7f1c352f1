/**
 * A null_blk-like RAM disk (drivers/block/null_blk, with the copy support of the copy-offload
 * series, where a copy is a memcpy inside the device). It is its own driver: queueBio executes
 * bios against the backing store and completes them inline (null_blk irqmode=0).
 *
 * Native copy: a COPY bio's sources are read straight out of the backing stores of nullblk
 * devices in the same copy domain; no host buffer is touched (host_bytes stays 0).
 */
import type { Bio } from '../../src/core/block/bio.js';
import type { BlockDevice, DeviceStats } from '../../src/core/block/device.js';
import { newDeviceStats } from '../../src/core/block/device.js';
import { FaultInjector } from '../../src/core/block/fault.js';
import { BLK_COPY_MAX_BYTES, checkLimits, defaultLimits, updateCopyLimit, type QueueLimits } from '../../src/core/block/limits.js';
import { ReqOp, SECTOR_SIZE } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import type { Backing } from '../backing/backing.js';
import { MemoryBacking } from '../backing/memory.js';
import { SparseBacking, SPARSE_DEFAULT_LIMIT } from '../backing/sparse.js';
import { NullBlkModel, type ModelSource } from './model.js';
import { WorkerQueue, type SharedSource } from '../worker/host-queue.js';
import { QUEUE_DEPTH } from '../worker/queue-layout.js';
import { shmId } from '../worker/shm.js';
import type { DeviceHost } from '../../src/core/block/host.js';
import { resolveTiming, type TimingSpec } from '../timing/params.js';
import { TimingModel } from '../timing/model.js';
import { timedCost } from '../timing/bio-cost.js';
import { offloadMinBytesFor } from '../timing/heuristics.js';

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
  /** Where the device runs: on the lab's thread, or on a worker thread of its own (memory backing). */
  readonly execution?: 'inline' | 'worker';
  /** Worker mode: commands in flight (tags), as the kernel's nr_requests. */
  readonly queue_depth?: number;
  /** Worker mode: microseconds the worker busy-polls after its last command before sleeping. */
  readonly idle_us?: number;
  /** Timing model (docs/timing.md): a preset name or `{ preset, …overrides }`; `none` (default) completes at once. */
  readonly timing?: TimingSpec;
}

/** What a nullblk needs from its host (src/core/block/host.ts): the poller and failure report for a worker, the clock for timing. */
export type NullBlkHost = Pick<DeviceHost, 'poller' | 'clock' | 'reportFailure'>;

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
  execution: 'inline' as 'inline' | 'worker',
  queue_depth: QUEUE_DEPTH.default,
  idle_us: 200,
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
  readonly model: NullBlkModel;
  /** Set in worker mode: the queue to the device's thread. */
  readonly queue: WorkerQueue | null = null;
  /** The device's timing model, or null (completes at once). */
  readonly timing: TimingModel | null = null;

  constructor(options: NullBlkOptions, host?: NullBlkHost) {
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
    this.model = new NullBlkModel(this.backing);
    const timing = resolveTiming(o.timing);
    if (timing) {
      if (!host?.clock) throw new RangeError(`nullblk ${o.name}: a timing model needs a lab (its clock)`);
      this.timing = new TimingModel(timing, host.clock);
      // The preset's measured crossover (devices/timing/heuristics.ts); a scenario may override it.
      l.copy_offload_min_bytes = offloadMinBytesFor(timing.preset);
    }
    if (o.execution === 'worker') {
      if (!host) throw new RangeError(`nullblk ${o.name}: execution: worker needs a lab`);
      const media = (this.backing as MemoryBacking).bytes.buffer as SharedArrayBuffer;
      this.queue = new WorkerQueue({
        data: { kind: 'nullblk', name: o.name, depth: o.queue_depth, maxSources: o.copy_max_segments, mediaId: shmId(media), media, mediaSize: o.size, idleMicros: o.idle_us },
        poller: host.poller,
        onFailure: (reason) => host.reportFailure(o.name, reason),
      });
    }
  }

  /** The device's medium when another device's worker can reach it (memory backing), else null. */
  get sharedMedia(): SharedArrayBuffer | null {
    return this.backing instanceof MemoryBacking ? (this.backing.bytes.buffer as SharedArrayBuffer) : null;
  }

  copyOffloadRefusal(src: BlockDevice): string | null {
    if (!(src instanceof NullBlkDevice)) return `${this.name} copies only from nullblk devices, not ${src.name}`;
    if (this.queue && src !== this && !src.sharedMedia) return `${this.name} runs on a worker and cannot reach ${src.name}'s sparse medium`;
    return null;
  }

  queueBio(bio: Bio): void {
    let sources: ModelSource[] | undefined;
    let shared: SharedSource[] | null = null;
    if (bio.op === ReqOp.COPY) {
      // The device checks it can reach every source before it moves anything.
      sources = [];
      shared = [];
      for (const s of bio.sources ?? []) {
        const src = s.dev;
        const sameDomain = src === this || (src instanceof NullBlkDevice && src.limits.copy_domain !== null && src.limits.copy_domain === this.limits.copy_domain);
        if (!(src instanceof NullBlkDevice) || !sameDomain) return bio.endIo(-Errno.EXDEV);
        if (this.queue) {
          const media = src.sharedMedia;
          if (!media) return bio.endIo(-Errno.EXDEV);
          shared.push({ media, offset: s.offset, length: s.length });
        } else {
          sources.push({ backing: src.backing, offset: s.offset, length: s.length });
        }
      }
    }
    const timing = this.timing;
    if (timing) {
      // Modeled time: the command occupies the model's resources from now; the bytes move as
      // before and the completion is delivered at the modeled time (docs/timing.md).
      const clock = timing.clock;
      if (bio.op === ReqOp.READ && timing.params.read_dispatch === 'event') {
        // The read's time is known once its chips get to it: the completion waits for both that and the bytes.
        let at = NaN;
        let res: number | undefined;
        const both = (): void => void (res !== undefined && !Number.isNaN(at) && clock.at(at, () => bio.endIo(res!)));
        if (this.queue) {
          clock.hold();
          this.queue.submit({ ...bio, endIo: (r) => { res = r; both(); clock.release(); } }, shared);
        } else res = this.model.execute(bio.op, bio.offset, bio.length, bio.data, sources);
        timing.readThen(bio.offset, bio.length, (t) => { at = t; both(); });
        return;
      }
      const t = timedCost(timing, bio);
      if (this.queue) {
        clock.hold();
        return this.queue.submit({ ...bio, endIo: (res) => { clock.at(t, () => bio.endIo(res)); clock.release(); } }, shared);
      }
      const res = this.model.execute(bio.op, bio.offset, bio.length, bio.data, sources);
      clock.at(t, () => bio.endIo(res));
      return;
    }
    if (this.queue) return this.queue.submit(bio, shared);
    bio.endIo(this.model.execute(bio.op, bio.offset, bio.length, bio.data, sources));
  }

  /** Stops the device's worker, if it has one. */
  async shutdown(): Promise<void> {
    await this.queue?.close();
  }
}

/** Checks nullblk options; returns a message or null. */
export function nullBlkOptionProblem(o: Required<Omit<NullBlkOptions, 'domain' | 'timing'>> & { domain: string | null }): string | null {
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
  if (o.execution !== 'inline' && o.execution !== 'worker') return `execution must be inline or worker, not ${String(o.execution)}`;
  if (o.execution === 'worker' && o.backing !== 'memory') return 'execution: worker needs backing: memory (a sparse medium cannot be shared with a worker)';
  if (!Number.isSafeInteger(o.queue_depth) || o.queue_depth < QUEUE_DEPTH.min || o.queue_depth > QUEUE_DEPTH.max) return `queue_depth must be ${QUEUE_DEPTH.min}..${QUEUE_DEPTH.max}`;
  if (!Number.isSafeInteger(o.idle_us) || o.idle_us < 0 || o.idle_us > 1_000_000) return 'idle_us must be 0..1000000';
  return null;
}
