/** The `nullblk` device kind of scenario files (docs/scenario.md). */
import type { NullBlkOptions } from '../../../devices/nullblk/nullblk.js';
import type { DeviceDef } from '../types.js';

export const nullblkDevice: DeviceDef = {
  kind: 'nullblk',
  parse(f) {
    f.obj(['kind', 'name', 'size', 'lbs', 'backing', 'copy_max_hw_bytes', 'copy_max_segments', 'domain', 'max_hw_sectors_kb', 'discard', 'memory_limit', 'copy_offload_min_bytes', 'execution', 'queue_depth', 'idle_us', 'timing']);
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
        lab.addNullBlk(opts);
        if (minBytes !== undefined) {
          const r = lab.writeSysfs(`/sys/block/${opts.name}/queue/copy_offload_min_bytes`, String(minBytes));
          if (r.res < 0) throw new Error(`copy_offload_min_bytes: ${r.message}`);
        }
      },
    };
  },
};
