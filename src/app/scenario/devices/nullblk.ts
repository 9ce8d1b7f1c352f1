/** The `nullblk` device kind of scenario files (docs/scenario.md). */
import { NULLBLK_DEFAULTS as D, type NullBlkOptions } from '../../../../devices/nullblk/nullblk.js';
import { formatSize } from '../../../core/util/size.js';
import type { DeviceDef } from '../types.js';
import { k, type ObjSpec } from '../keys.js';
import { timingKey } from '../timing-key.js';

export const NULLBLK_SPEC: ObjSpec = {
  description: 'a null_blk-like RAM disk: /dev/NAME and /sys/block/NAME',
  keys: {
    kind: k.oneOf(['nullblk'], 'the device kind', { required: true }),
    name: k.str('kernel name; the device is /dev/NAME and /sys/block/NAME', { required: true, example: 'nullb0' }),
    size: k.size('capacity, a multiple of lbs (up to 1 PiB sparse, 4 GiB memory)', { required: true, example: '64MiB' }),
    lbs: k.oneOf([512, 4096], 'logical (and physical) block size in bytes', { default: D.lbs, example: 4096 }),
    backing: k.oneOf(['memory', 'sparse'], 'sparse: 64 KiB chunks allocated on first write, holes read as zeros; memory: one SharedArrayBuffer', { default: D.backing }),
    copy_max_hw_bytes: k.size('longest copy the device takes per command (BLK_COPY_MAX_BYTES); 0 = no offload, as null_blk\'s copy_max_bytes parameter', { default: formatSize(D.copy_max_hw_bytes), example: '1MiB' }),
    copy_max_segments: k.int(1, 65536, 'source ranges per copy command', { default: D.copy_max_segments }),
    domain: k.str('copy domain: devices with the same domain copy between each other inside the device; without one a device copies only within itself', { example: 'd0' }),
    max_hw_sectors_kb: k.int(4, 65536, 'largest read/write per command, KiB', { default: D.max_hw_sectors_kb }),
    discard: k.bool('advertise discard and write zeroes', { default: D.discard }),
    memory_limit: k.size('sparse only: most chunk memory; a write past it fails with ENOSPC and writes nothing', { default: formatSize(D.memory_limit) }),
    copy_offload_min_bytes: k.size('the size heuristic: shorter copies are emulated (also writable in sysfs)', { default: 0, example: '256KiB' }),
    execution: k.oneOf(['inline', 'worker'], 'inline: the device runs on the lab\'s thread; worker: on a worker thread of its own (needs backing: memory)', { default: D.execution }),
    queue_depth: k.int(1, 4096, 'worker mode: commands in flight', { default: D.queue_depth }),
    timing: timingKey('the device'),
    idle_us: k.int(0, 1_000_000, 'worker mode: microseconds the worker polls after its last command before it sleeps', { default: D.idle_us }),
  },
};

export const nullblkDevice: DeviceDef = {
  kind: 'nullblk',
  spec: NULLBLK_SPEC,
  parse(f) {
    f.obj(NULLBLK_SPEC);
    const opts: { -readonly [K in keyof NullBlkOptions]: NullBlkOptions[K] } = {
      name: f.key('name').required().str(),
      size: f.key('size').required().size(),
    };
    const k = (name: string) => f.key(name);
    if (k('lbs').present) opts.lbs = k('lbs').oneOf([512, 4096] as const);
    if (k('backing').present) opts.backing = k('backing').oneOf(['memory', 'sparse'] as const);
    if (k('copy_max_hw_bytes').present) opts.copy_max_hw_bytes = k('copy_max_hw_bytes').size();
    if (k('copy_max_segments').present) opts.copy_max_segments = k('copy_max_segments').int(1, 65536);
    if (k('domain').present) opts.domain = k('domain').str();
    if (k('max_hw_sectors_kb').present) opts.max_hw_sectors_kb = k('max_hw_sectors_kb').int(4, 65536);
    if (k('discard').present) opts.discard = k('discard').bool();
    if (k('memory_limit').present) opts.memory_limit = k('memory_limit').size();
    if (k('execution').present) opts.execution = k('execution').oneOf(['inline', 'worker'] as const);
    if (k('queue_depth').present) opts.queue_depth = k('queue_depth').int(1, 4096);
    if (k('idle_us').present) opts.idle_us = k('idle_us').int(0, 1_000_000);
    if (k('timing').present) opts.timing = k('timing').timing();
    const minBytes = k('copy_offload_min_bytes').present ? k('copy_offload_min_bytes').size() : undefined;
    return {
      provides: [opts.name],
      create(lab) {
        lab.attach('nullblk', opts);
        if (minBytes !== undefined) {
          const r = lab.writeSysfs(`/sys/block/${opts.name}/queue/copy_offload_min_bytes`, String(minBytes));
          if (r.res < 0) throw new Error(`copy_offload_min_bytes: ${r.message}`);
        }
      },
    };
  },
};
