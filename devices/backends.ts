/**
 * The device backends a host can attach, in one place (docs/architecture.md, "Where a change
 * goes"): a new backend is a folder under devices/ with a `DeviceBackend` (src/core/block/host.ts)
 * and one line here. The Lab attaches through this table (`lab.attach(kind, options)`), and
 * the scenario's device kinds (src/app/scenario/devices/) parse their keys into these options.
 */
import { nullblkBackend } from './nullblk/backend.js';
import { nvmeBackend } from './nvme/attach.js';
import { scsiBackend } from './scsi/attach.js';

export const DEVICE_BACKENDS = {
  nullblk: nullblkBackend,
  nvme: nvmeBackend,
  scsi: scsiBackend,
} as const;

export type DeviceKind = keyof typeof DEVICE_BACKENDS;
/** The options a backend's attach takes. */
export type BackendOptions<K extends DeviceKind> = Parameters<(typeof DEVICE_BACKENDS)[K]['attach']>[1];
/** What a backend's attach returns (the device, or the controller/array and its devices). */
export type BackendAttachment<K extends DeviceKind> = ReturnType<(typeof DEVICE_BACKENDS)[K]['attach']>;
