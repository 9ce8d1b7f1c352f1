/**
 * nullblk as a device backend (src/core/block/host.ts): one block device per entry, inline or on a
 * worker thread (stopped when the host closes).
 */
import type { DeviceBackend } from '../../src/core/block/host.js';
import { Errno, ErrnoError } from '../../src/core/util/errno.js';
import { NullBlkDevice, type NullBlkOptions } from './nullblk.js';

export const nullblkBackend: DeviceBackend<NullBlkOptions, NullBlkDevice> = {
  kind: 'nullblk',
  attach(host, options) {
    // Refuse a taken name before a worker is started for it.
    if (host.hasDevice(options.name)) throw new ErrnoError(Errno.EBUSY, `device ${options.name} already exists`);
    const dev = host.addDevice(new NullBlkDevice(options, host));
    if (dev.queue) host.onClose(() => dev.shutdown());
    return dev;
  },
};
