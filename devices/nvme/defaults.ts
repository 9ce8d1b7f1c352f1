/**
 * Every default of the NVMe model in one table (QEMU's habit: device properties with defaults
 * in one place), and the checks on user options. Copy limits are QEMU's (hw/nvme/ns.c: mssrl
 * 128, mcl 128, msrc 127); zone defaults are QEMU's (zoned.zone_size 128 MiB, capacity = size,
 * no open/active limit); MDTS 7 (512 KiB) is QEMU's default.
 */
import type { TimingSpec } from '../timing/params.js';
export const NVME_DEFAULTS = {
  /** Namespace. */
  lbs: 4096 as 512 | 4096,
  backing: 'sparse' as 'memory' | 'sparse',
  /** Sparse media: the most memory its chunks may take (a thin-provisioned namespace). */
  memory_limit: 4 * 1024 ** 3,
  /** Protection information format (QEMU pif): 0 = 16b guard (formats 0/2), 1 or 2 = 32b/64b guard (formats 1/3). PI itself is not checked. */
  pif: 0 as 0 | 1 | 2,
  mssrl: 128,
  mcl: 128,
  msrc: 127,
  zoned: false,
  zone_size: 128 * 1024 * 1024,
  /** 0 = the zone size. */
  zone_capacity: 0,
  /** 0 = no limit. */
  max_open: 0,
  max_active: 0,
  /** Implicitly opened zones are closed to make room when the open limit is reached (QEMU zoned.auto_transition). */
  auto_transition: true,
  /** Controller. */
  mdts: 7,
  /** 0 = MDTS (ZNS: zone append size limit, 2^n pages). */
  zasl: 0,
  /** Descriptor formats advertised in OCFS. */
  copy_formats: [0, 1, 2, 3] as readonly number[],
  /** Host enables formats 2/3 at probe (Host Behavior Support CDFE). */
  cdfe: false,
  /** 'all': every copy is a fast copy (ONCS all fast copy); 'same-namespace': cross-namespace ranges are not. */
  fast_copy: 'all' as 'all' | 'same-namespace',
  /** I/O queue pairs the host driver creates, and their depth. */
  io_queues: 2,
  queue_depth: 64,
  /** Error log entries kept (ELPE + 1). */
  error_log_entries: 64,
  serial: '',
  execution: 'inline' as 'inline' | 'worker',
  idle_us: 200,
  model: 'copylab NVMe Ctrl',
  firmware: '1.0',
};

/** Limits on the options themselves (a limit on everything). */
export const NVME_LIMITS = {
  maxNamespaces: 32,
  maxNamespaceBytes: 2 ** 50,
  maxZones: 65536,
  maxIoQueues: 16,
  /** CAP.MQES + 1. */
  maxQueueDepth: 1024,
  mdts: { min: 1, max: 10 },
};

export interface NvmeNamespaceOptions {
  /** NSID in the subsystem; default: the next free one. */
  readonly nsid?: number;
  readonly size: number;
  readonly lbs?: 512 | 4096;
  readonly backing?: 'memory' | 'sparse';
  /** Sparse backing: memory its chunks may take; writes beyond fail (Capacity Exceeded; Copy: Insufficient Resources). */
  readonly memory_limit?: number;
  readonly pif?: 0 | 1 | 2;
  readonly mssrl?: number;
  readonly mcl?: number;
  readonly msrc?: number;
  readonly zoned?: boolean;
  readonly zone_size?: number;
  readonly zone_capacity?: number;
  readonly max_open?: number;
  readonly max_active?: number;
  readonly auto_transition?: boolean;
  /** Zone indexes put in Read Only or Offline at start (as null_blk's zone_readonly / zone_offline). */
  readonly read_only_zones?: readonly number[];
  readonly offline_zones?: readonly number[];
  /** A timing model of this namespace's own (docs/timing.md); default: the controller's. */
  readonly timing?: TimingSpec;
}

export interface NvmeControllerOptions {
  /** Controller name: nvme0, nvme1, … ; namespaces appear as <name>n<nsid>. */
  readonly name: string;
  /** Subsystem name; controllers naming the same subsystem share its namespaces and copy domain. */
  readonly subsystem?: string;
  readonly namespaces: readonly NvmeNamespaceOptions[];
  readonly mdts?: number;
  readonly zasl?: number;
  readonly copy_formats?: readonly number[];
  readonly cdfe?: boolean;
  readonly fast_copy?: 'all' | 'same-namespace';
  readonly io_queues?: number;
  readonly queue_depth?: number;
  readonly serial?: string;
  /** The controller's timing model, shared by its namespaces (docs/timing.md); default none. */
  readonly timing?: TimingSpec;
  /** Where the controller runs: on the lab's thread, or on a worker thread of its own (worker-bar.ts). */
  readonly execution?: 'inline' | 'worker';
  /** Worker mode: microseconds the controller polls its doorbells after its last command before it sleeps. */
  readonly idle_us?: number;
}

const isInt = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

export function namespaceProblem(o: Required<Omit<NvmeNamespaceOptions, 'read_only_zones' | 'offline_zones' | 'nsid' | 'timing'>>): string | null {
  if (o.lbs !== 512 && o.lbs !== 4096) return `lbs must be 512 or 4096, not ${String(o.lbs)}`;
  if (!isInt(o.size, o.lbs, NVME_LIMITS.maxNamespaceBytes) || o.size % o.lbs) return `size must be a positive multiple of ${o.lbs} up to ${NVME_LIMITS.maxNamespaceBytes}`;
  if (o.pif !== 0 && o.pif !== 1 && o.pif !== 2) return 'pif must be 0, 1 or 2';
  if (!isInt(o.memory_limit, 0, Number.MAX_SAFE_INTEGER)) return 'memory_limit must be a non-negative integer';
  if (!isInt(o.mssrl, 1, 0xffff)) return 'mssrl must be 1..65535 blocks';
  if (!isInt(o.mcl, 1, 0xffffffff)) return 'mcl must be 1..4294967295 blocks';
  if (!isInt(o.msrc, 0, 255)) return 'msrc must be 0..255 (0-based)';
  if (o.mcl < o.mssrl) return 'mcl must be at least mssrl';
  if (o.zoned) {
    if (!isInt(o.zone_size, o.lbs, o.size) || o.zone_size % o.lbs) return `zone_size must be a multiple of ${o.lbs} no larger than the namespace`;
    const cap = o.zone_capacity || o.zone_size;
    if (!isInt(cap, o.lbs, o.zone_size) || cap % o.lbs) return 'zone_capacity must be a multiple of the block size no larger than zone_size';
    if (Math.floor(o.size / o.zone_size) > NVME_LIMITS.maxZones) return `at most ${NVME_LIMITS.maxZones} zones`;
    if (!isInt(o.max_open, 0, NVME_LIMITS.maxZones) || !isInt(o.max_active, 0, NVME_LIMITS.maxZones)) return 'max_open and max_active must be 0..65536';
    if (o.max_active && o.max_open > o.max_active) return 'max_open must not exceed max_active';
  }
  return null;
}

export function controllerProblem(o: NvmeControllerOptions): string | null {
  if (!/^nvme\d{1,3}$/.test(o.name)) return `name must be nvme<N>, not ${JSON.stringify(o.name)}`;
  if (o.subsystem !== undefined && !/^[A-Za-z0-9_.:-]{1,64}$/.test(o.subsystem)) return 'subsystem must be 1-64 characters of [A-Za-z0-9_.:-]';
  if (!Array.isArray(o.namespaces) || o.namespaces.length > NVME_LIMITS.maxNamespaces) return `namespaces must be a list of at most ${NVME_LIMITS.maxNamespaces}`;
  if (o.mdts !== undefined && !isInt(o.mdts, NVME_LIMITS.mdts.min, NVME_LIMITS.mdts.max)) return `mdts must be ${NVME_LIMITS.mdts.min}..${NVME_LIMITS.mdts.max}`;
  if (o.zasl !== undefined && !isInt(o.zasl, 0, o.mdts ?? NVME_DEFAULTS.mdts)) return 'zasl must be 0..mdts';
  if (o.copy_formats !== undefined && (!o.copy_formats.every((f) => isInt(f, 0, 3)) || new Set(o.copy_formats).size !== o.copy_formats.length)) return 'copy_formats must be distinct values among 0, 1, 2, 3';
  if (o.io_queues !== undefined && !isInt(o.io_queues, 1, NVME_LIMITS.maxIoQueues)) return `io_queues must be 1..${NVME_LIMITS.maxIoQueues}`;
  if (o.queue_depth !== undefined && !isInt(o.queue_depth, 2, NVME_LIMITS.maxQueueDepth)) return `queue_depth must be 2..${NVME_LIMITS.maxQueueDepth}`;
  if (o.fast_copy !== undefined && o.fast_copy !== 'all' && o.fast_copy !== 'same-namespace') return "fast_copy must be 'all' or 'same-namespace'";
  if (o.execution !== undefined && o.execution !== 'inline' && o.execution !== 'worker') return `execution must be inline or worker, not ${String(o.execution)}`;
  if (o.idle_us !== undefined && !isInt(o.idle_us, 0, 1_000_000)) return 'idle_us must be 0..1000000';
  return null;
}
