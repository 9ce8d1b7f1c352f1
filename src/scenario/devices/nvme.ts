/** The `nvme` device kind of scenario files: a controller with namespaces (docs/nvme.md). */
import type { NvmeControllerOptions, NvmeNamespaceOptions } from '../../../devices/nvme/defaults.js';
import { NVME_LIMITS } from '../../../devices/nvme/defaults.js';
import { addNvmeController } from '../../../devices/nvme/attach.js';
import type { DeviceDef } from '../types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NS_KEYS = ['nsid', 'size', 'lbs', 'backing', 'memory_limit', 'pif', 'mssrl', 'mcl', 'msrc', 'zoned', 'zone_size', 'zone_capacity', 'max_open', 'max_active', 'auto_transition', 'read_only_zones', 'offline_zones', 'timing'];

export const nvmeDevice: DeviceDef = {
  kind: 'nvme',
  parse(f) {
    f.obj(['kind', 'name', 'subsystem', 'namespaces', 'copy_formats', 'cdfe', 'mdts', 'zasl', 'fast_copy', 'io_queues', 'queue_depth', 'serial', 'timing']);
    const name = f.key('name').required().str();
    if (!/^nvme\d{1,3}$/.test(name)) f.key('name').fail('expected nvme<N> (nvme0, nvme1, …)');
    const used = new Set<number>();
    const namespaces = f.key('namespaces').required().list(NVME_LIMITS.maxNamespaces).map((nf, i) => {
      nf.obj(NS_KEYS);
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
    return {
      provides: namespaces.map((n) => `${name}n${n.nsid}`),
      create(lab) {
        addNvmeController(lab, opts);
      },
    };
  },
};
