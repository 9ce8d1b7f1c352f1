/** The `nvme` device kind of scenario files: a controller with namespaces (docs/nvme.md). */
import type { NvmeControllerOptions, NvmeNamespaceOptions } from '../../../../devices/nvme/defaults.js';
import { NVME_LIMITS } from '../../../../devices/nvme/defaults.js';
import type { DeviceDef } from '../types.js';
import { k, type ObjSpec } from '../keys.js';
import { timingKey } from '../timing-key.js';

const NAMESPACE_SPEC: ObjSpec = {
  description: 'an NVMe namespace: /dev/<controller>n<nsid>',
  keys: {
    nsid: k.int(1, NVME_LIMITS.maxNamespaces, 'namespace ID (give it for the namespaces of a second controller in a shared subsystem)', { default: 'position + 1' }),
    size: k.size('capacity, a multiple of lbs', { required: true, example: '64MiB' }),
    lbs: k.oneOf([512, 4096], 'LBA data size in bytes', { default: 4096 }),
    backing: k.oneOf(['memory', 'sparse'], 'media store', { default: 'sparse' }),
    memory_limit: k.size('sparse: most chunk memory (a thin-provisioned namespace: a Copy that cannot grow fails with 0x0189)', { default: '4GiB' }),
    pif: k.oneOf([0, 1, 2], 'protection information format: 0 = 16b guard (Copy formats 0/2), 1 or 2 (formats 1/3; PI is not checked)', { default: 0 }),
    mssrl: k.int(1, 0xffff, 'Maximum Single Source Range Length, blocks', { default: 128 }),
    mcl: k.int(1, 0xffffffff, 'Maximum Copy Length, blocks', { default: 128 }),
    msrc: k.int(0, 255, 'Maximum Source Range Count, 0-based', { default: 127 }),
    zoned: k.bool('a Zoned Namespace (ZNS): writes and copies land at the write pointer', { default: false }),
    zone_size: k.size('zone size', { default: '128MiB', example: '4MiB' }),
    zone_capacity: k.size('writable bytes of each zone', { default: 'zone_size' }),
    max_open: k.int(0, NVME_LIMITS.maxZones, 'most open zones, 0 = no limit', { default: 0 }),
    max_active: k.int(0, NVME_LIMITS.maxZones, 'most active zones, 0 = no limit', { default: 0 }),
    auto_transition: k.bool('close implicitly opened zones when the open limit is reached', { default: true }),
    read_only_zones: k.list(k.int(0, NVME_LIMITS.maxZones - 1, 'zone index'), NVME_LIMITS.maxZones, 'zones that start Read Only (null_blk\'s zone_readonly)'),
    timing: timingKey('the namespace (overrides the controller\'s)'),
    offline_zones: k.list(k.int(0, NVME_LIMITS.maxZones - 1, 'zone index'), NVME_LIMITS.maxZones, 'zones that start Offline (null_blk\'s zone_offline)'),
    copy_offload_min_bytes: k.size('the size heuristic: shorter copies are emulated (also writable in sysfs)', { default: 'the timing preset\'s measured crossover, else 0', example: '4MiB' }),
  },
};

export const NVME_SPEC: ObjSpec = {
  description: 'an NVMe controller with namespaces (/dev/nvme0n1, …), Copy formats 0-3 and Zoned Namespaces (docs/nvme.md)',
  keys: {
    kind: k.oneOf(['nvme'], 'the device kind', { required: true }),
    name: k.str('controller name nvme<N>; namespaces appear as nvme<N>n1, nvme<N>n2, …', { required: true, example: 'nvme0' }),
    subsystem: k.str('controllers naming one subsystem share its namespaces and copy domain', { example: 's0' }),
    namespaces: k.list(k.obj(NAMESPACE_SPEC), NVME_LIMITS.maxNamespaces, 'the namespaces', { required: true, example: [{ size: '64MiB' }, { size: '64MiB', zoned: true, zone_size: '4MiB' }] }),
    copy_formats: k.list(k.oneOf([0, 1, 2, 3], 'descriptor format'), 4, 'Copy descriptor formats the controller supports (OCFS)', { default: [0, 1, 2, 3] }),
    cdfe: k.bool('the host enables Copy formats 2/3 (cross-namespace copy) at probe (Host Behavior Support CDFE)', { default: false }),
    mdts: k.int(NVME_LIMITS.mdts.min, NVME_LIMITS.mdts.max, 'Maximum Data Transfer Size, a power of two of 4 KiB pages', { default: 7 }),
    zasl: k.int(0, NVME_LIMITS.mdts.max, 'Zone Append Size Limit (0 = MDTS)', { default: 0 }),
    fast_copy: k.oneOf(['all', 'same-namespace'], 'same-namespace drops All Fast Copy from ONCS', { default: 'all' }),
    io_queues: k.int(1, NVME_LIMITS.maxIoQueues, 'I/O queue pairs', { default: 2 }),
    queue_depth: k.int(2, NVME_LIMITS.maxQueueDepth, 'entries per I/O queue', { default: 64 }),
    serial: k.str('serial number (Identify Controller SN)'),
    timing: timingKey('the controller\'s namespaces'),
    execution: k.oneOf(['inline', 'worker'], 'inline: the controller runs on the lab\'s thread; worker: on its subsystem\'s worker thread, reached through queues and doorbells in shared memory (a subsystem\'s controllers are all inline or all worker)', { default: 'inline' }),
    idle_us: k.int(0, 1_000_000, 'worker mode: microseconds the subsystem\'s thread polls its doorbells after its last command before it sleeps (the first controller of the subsystem sets it)', { default: 200 }),
  },
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export const nvmeDevice: DeviceDef = {
  kind: 'nvme',
  spec: NVME_SPEC,
  parse(f) {
    f.obj(NVME_SPEC);
    const name = f.key('name').required().str();
    if (!/^nvme\d{1,3}$/.test(name)) f.key('name').fail('expected nvme<N> (nvme0, nvme1, …)');
    const used = new Set<number>();
    /** copy_offload_min_bytes per namespace that sets it: written to its queue once the namespace exists. */
    const minBytes = new Map<number, number>();
    const namespaces = f.key('namespaces').required().list(NVME_LIMITS.maxNamespaces).map((nf, i) => {
      nf.obj(NAMESPACE_SPEC);
      const k = (key: string) => nf.key(key);
      const o: Mutable<NvmeNamespaceOptions> = { size: k('size').required().size() };
      o.nsid = k('nsid').present ? k('nsid').int(1, NVME_LIMITS.maxNamespaces) : i + 1;
      if (used.has(o.nsid)) k('nsid').fail(`duplicate nsid ${o.nsid}`);
      used.add(o.nsid);
      if (k('lbs').present) o.lbs = k('lbs').oneOf([512, 4096] as const);
      if (k('backing').present) o.backing = k('backing').oneOf(['memory', 'sparse'] as const);
      if (k('memory_limit').present) o.memory_limit = k('memory_limit').size();
      if (k('pif').present) o.pif = k('pif').oneOf([0, 1, 2] as const);
      if (k('mssrl').present) o.mssrl = k('mssrl').int(1, 0xffff);
      if (k('mcl').present) o.mcl = k('mcl').int(1, 0xffffffff);
      if (k('msrc').present) o.msrc = k('msrc').int(0, 255);
      if (k('zoned').present) o.zoned = k('zoned').bool();
      if (k('zone_size').present) o.zone_size = k('zone_size').size();
      if (k('zone_capacity').present) o.zone_capacity = k('zone_capacity').size();
      if (k('max_open').present) o.max_open = k('max_open').int(0, NVME_LIMITS.maxZones);
      if (k('max_active').present) o.max_active = k('max_active').int(0, NVME_LIMITS.maxZones);
      if (k('auto_transition').present) o.auto_transition = k('auto_transition').bool();
      if (k('read_only_zones').present) o.read_only_zones = k('read_only_zones').list(NVME_LIMITS.maxZones).map((z) => z.int(0, NVME_LIMITS.maxZones - 1));
      if (k('timing').present) o.timing = k('timing').timing();
      if (k('offline_zones').present) o.offline_zones = k('offline_zones').list(NVME_LIMITS.maxZones).map((z) => z.int(0, NVME_LIMITS.maxZones - 1));
      if (k('copy_offload_min_bytes').present) minBytes.set(o.nsid, k('copy_offload_min_bytes').size());
      return o;
    });
    const opts: Mutable<NvmeControllerOptions> = { name, namespaces };
    const k = (key: string) => f.key(key);
    if (k('subsystem').present) opts.subsystem = k('subsystem').str();
    if (k('copy_formats').present) opts.copy_formats = k('copy_formats').list(4).map((x) => x.oneOf([0, 1, 2, 3] as const));
    if (k('cdfe').present) opts.cdfe = k('cdfe').bool();
    if (k('mdts').present) opts.mdts = k('mdts').int(NVME_LIMITS.mdts.min, NVME_LIMITS.mdts.max);
    if (k('zasl').present) opts.zasl = k('zasl').int(0, NVME_LIMITS.mdts.max);
    if (k('fast_copy').present) opts.fast_copy = k('fast_copy').oneOf(['all', 'same-namespace'] as const);
    if (k('io_queues').present) opts.io_queues = k('io_queues').int(1, NVME_LIMITS.maxIoQueues);
    if (k('queue_depth').present) opts.queue_depth = k('queue_depth').int(2, NVME_LIMITS.maxQueueDepth);
    if (k('serial').present) opts.serial = k('serial').str();
    if (k('timing').present) opts.timing = k('timing').timing();
    if (k('execution').present) opts.execution = k('execution').oneOf(['inline', 'worker'] as const);
    if (k('idle_us').present) opts.idle_us = k('idle_us').int(0, 1_000_000);
    return {
      provides: namespaces.map((n) => `${name}n${n.nsid}`),
      create(lab) {
        lab.attach('nvme', opts);
        for (const [nsid, bytes] of minBytes) {
          const r = lab.writeSysfs(`/sys/block/${name}n${nsid}/queue/copy_offload_min_bytes`, String(bytes));
          if (r.res < 0) throw new Error(`namespaces (nsid ${nsid}): copy_offload_min_bytes: ${r.message}`);
        }
      },
    };
  },
};
