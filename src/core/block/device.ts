/**
 * The block device a driver registers (the kernel's gendisk + request_queue, reduced). The
 * driver declares capability through its queue limits; the block layer (submit.ts) checks and
 * splits a bio before it reaches `queueBio`, and the copy engine (copy/engine.ts) decides
 * whether a copy is offloaded (a COPY bio) or emulated (READ + WRITE bios).
 */
import type { Bio } from './bio.js';
import type { QueueLimits } from './limits.js';
import type { FaultInjector } from './fault.js';

export interface DeviceStats {
  ios: Record<'read' | 'write' | 'flush' | 'discard' | 'write_zeroes' | 'copy', number>;
  bytes: Record<'read' | 'write' | 'discard' | 'write_zeroes' | 'copy', number>;
  /** Bytes moved between the device and host buffers (READ and WRITE data). A copy done inside the device adds 0. */
  host_bytes: number;
}

export function newDeviceStats(): DeviceStats {
  return {
    ios: { read: 0, write: 0, flush: 0, discard: 0, write_zeroes: 0, copy: 0 },
    bytes: { read: 0, write: 0, discard: 0, write_zeroes: 0, copy: 0 },
    host_bytes: 0,
  };
}

/** What the block layer and sysfs see of a timing model: its parameters, read-only. */
export interface DeviceTimingInfo {
  readonly params: { readonly preset: string } & Readonly<Record<string, string | number>>;
}

export interface BlockDevice {
  /** Kernel name without /dev/ ("nullb0", "nvme0n1", "dm-0"). */
  readonly name: string;
  /** Capacity in bytes, a multiple of the logical block size. */
  readonly capacity: number;
  readonly limits: QueueLimits;
  readonly stats: DeviceStats;
  readonly faults: FaultInjector;
  /** The device's timing model (devices/timing/, docs/timing.md); absent or null: commands complete at once. */
  readonly timing?: DeviceTimingInfo | null;
  /**
   * The driver's entry point (queue_rq). Called only with a bio the block layer has checked:
   * aligned, in bounds, within the queue limits. Must call bio.endIo exactly once.
   */
  queueBio(bio: Bio): void;
  /**
   * Optional: the driver's own check that it can copy from `src` in hardware (beyond limits and
   * copy domain, which the engine checks). Returns a reason when it cannot.
   */
  copyOffloadRefusal?(src: BlockDevice): string | null;
}
