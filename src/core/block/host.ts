/**
 * The narrow interface between a device backend and whatever hosts it (docs/architecture.md,
 * "Tiers"): a device model and its host driver see the host's clock, sysfs tree and completion
 * poller, register their block devices, report a failure and ask for cleanup — and nothing else.
 * The Lab (src/app/lab.ts) implements it; devices never import the Lab.
 *
 * A backend is one folder under devices/ and one `DeviceBackend` listed in devices/backends.ts.
 */
import type { BlockDevice } from './device.js';
import type { CompletionPoller } from './completion-poller.js';
import type { Clock } from '../time/clock.js';
import type { Sysfs } from '../sysfs/tree.js';

export interface DeviceHost {
  /** The host's one clock: timed devices complete on it (src/core/time/clock.ts). */
  readonly clock: Clock;
  /** The sysfs-like tree a backend adds its attributes to (/sys/block/<dev>/…, /sys/class/…). */
  readonly sysfs: Sysfs;
  /** Reaps completions of devices that run on worker threads. */
  readonly poller: CompletionPoller;
  /** Registers a block device (/dev/<name>, /sys/block/<name>); ErrnoError EBUSY for a taken name, ENOSPC past the host's limit. */
  addDevice<D extends BlockDevice>(dev: D): D;
  /** Whether a block device of that name (without /dev/) is registered: checked before a device is built. */
  hasDevice(name: string): boolean;
  /** Tells the host a device failed under it (a worker thread that exited). */
  reportFailure(device: string, reason: string): void;
  /** Work to run when the host closes (stop a worker, release shared memory). */
  onClose(fn: () => void | Promise<void>): void;
}

/**
 * A kind of device a host can attach: nullblk, nvme, scsi. `attach` builds the model and its
 * driver from options (throwing RangeError for options the model refuses, before anything is
 * registered) and registers the block devices it exposes.
 */
export interface DeviceBackend<Options, Attachment> {
  /** The name a scenario's `kind:` uses. */
  readonly kind: string;
  attach(host: DeviceHost, options: Options): Attachment;
}
