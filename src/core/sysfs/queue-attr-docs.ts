/**
 * What each /sys/block/<dev>/queue/ attribute means, for `copylab explain` (the kernel's
 * Documentation/ABI/stable/sysfs-block for its names, the copy-offload series for the copy
 * ones, and copylab's own). A test checks that every queue attribute a device shows is here.
 */
export interface QueueAttrDoc {
  /** rw: a user may write it (`copylab sysfs write`). */
  readonly mode: 'r' | 'rw';
  readonly description: string;
  /** Whose attribute it is: the kernel's, the copy-offload series', or copylab's own. */
  readonly origin: 'kernel' | 'copy-offload series' | 'copylab';
}

export const QUEUE_ATTR_DOCS: Readonly<Record<string, QueueAttrDoc>> = {
  logical_block_size: { mode: 'r', origin: 'kernel', description: 'the smallest unit the device addresses, bytes; every I/O and copy offset and length is a multiple of it' },
  hw_sector_size: { mode: 'r', origin: 'kernel', description: 'the same as logical_block_size (the older name)' },
  physical_block_size: { mode: 'r', origin: 'kernel', description: 'the smallest unit the device writes without a read-modify-write, bytes' },
  minimum_io_size: { mode: 'r', origin: 'kernel', description: 'the smallest I/O the device prefers, bytes (here the physical block size)' },
  max_hw_sectors_kb: { mode: 'r', origin: 'kernel', description: 'the largest read or write the hardware takes in one command, KiB' },
  max_sectors_kb: { mode: 'rw', origin: 'kernel', description: 'the largest read or write the block layer builds, KiB; between one page and max_hw_sectors_kb, 0 restores the default' },
  max_segments: { mode: 'r', origin: 'kernel', description: 'memory segments one request may carry' },
  max_segment_size: { mode: 'r', origin: 'kernel', description: 'the largest memory segment, bytes' },
  rotational: { mode: 'r', origin: 'kernel', description: '1 for a spinning disk; always 0 here' },
  zoned: { mode: 'r', origin: 'kernel', description: 'none, host-aware or host-managed (a zoned namespace: writes at each zone\'s write pointer)' },
  chunk_sectors: { mode: 'r', origin: 'kernel', description: 'zoned: the zone size, 512-byte sectors' },
  nr_zones: { mode: 'r', origin: 'kernel', description: 'zoned: how many zones the device has' },
  max_open_zones: { mode: 'r', origin: 'kernel', description: 'zoned: zones that may be open at once (0: no limit)' },
  max_active_zones: { mode: 'r', origin: 'kernel', description: 'zoned: zones that may be open or closed at once (0: no limit)' },
  zone_append_max_bytes: { mode: 'r', origin: 'kernel', description: 'zoned: the largest Zone Append, bytes' },
  discard_granularity: { mode: 'r', origin: 'kernel', description: 'the unit a discard frees, bytes (0: no discard)' },
  discard_max_hw_bytes: { mode: 'r', origin: 'kernel', description: 'the largest discard the hardware takes, bytes (0: no discard)' },
  discard_max_bytes: { mode: 'rw', origin: 'kernel', description: 'the largest discard the block layer sends, bytes; a multiple of discard_granularity, at most discard_max_hw_bytes' },
  write_zeroes_max_bytes: { mode: 'r', origin: 'kernel', description: 'the largest Write Zeroes the device takes, bytes (0: written as zeros)' },
  copy_max_hw_bytes: { mode: 'r', origin: 'copy-offload series', description: 'the longest copy the device takes in one command, bytes (0: no copy offload); on a dm device, the smallest of the devices below' },
  copy_max_bytes: {
    mode: 'rw',
    origin: 'copy-offload series',
    description: 'the longest copy the block layer sends as one command: min(copy_max_hw_bytes, what a user wrote), bytes; a multiple of logical_block_size; 0 disables offload (copies are emulated). Written on a dm device it caps every piece of a copy through it',
  },
  copy_max_segments: { mode: 'r', origin: 'copylab', description: 'source ranges one copy command may carry (NVMe: MSRC + 1)' },
  copy_domain: { mode: 'r', origin: 'copylab', description: 'devices with the same copy domain copy between each other inside the hardware (an NVMe subsystem, a SCSI copy manager, a nullblk domain); "(own)" when the device copies only within itself' },
  copy_domain_members: { mode: 'r', origin: 'copylab', description: 'the devices that share this device\'s copy domain (not on dm devices)' },
  copy_offload_to: { mode: 'r', origin: 'copylab', description: 'the devices a copy from this device is offloaded to: its domain\'s members that also consent (NVMe: another namespace needs formats 2/3 enabled by CDFE); not on dm devices' },
  copy_offload_min_bytes: { mode: 'rw', origin: 'copylab', description: 'the size heuristic: pieces shorter than this are emulated even when offload is possible, bytes; a multiple of logical_block_size (copylab heuristic measures it)' },
};
