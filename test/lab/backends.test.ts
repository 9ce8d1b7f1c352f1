import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import { DEVICE_BACKENDS } from '../../devices/backends.js';
import { DEVICE_KINDS } from '../../src/app/scenario/registry.js';
import type { DeviceHost } from '../../src/core/block/host.js';
import { Sysfs } from '../../src/core/sysfs/tree.js';
import { CompletionPoller } from '../../src/core/block/completion-poller.js';
import { Clock } from '../../src/core/time/clock.js';
import { registerBlockDevice } from '../../src/core/sysfs/block-attrs.js';
import type { BlockDevice } from '../../src/core/block/device.js';
import { ErrnoError } from '../../src/core/util/errno.js';
import { submitBioWait } from '../../src/core/block/submit.js';
import { ReqOp } from '../../src/core/block/ops.js';

const MiB = 1024 * 1024;

/** A host that is not a Lab: what the narrow interface promises is all a backend may use. */
function bareHost(): DeviceHost & { devices: Map<string, BlockDevice>; closers: (() => unknown)[] } {
  const sysfs = new Sysfs();
  const devices = new Map<string, BlockDevice>();
  const closers: (() => unknown)[] = [];
  return {
    clock: new Clock({}),
    sysfs,
    poller: new CompletionPoller(),
    devices,
    closers,
    addDevice(d) {
      devices.set(d.name, d);
      registerBlockDevice(sysfs, d);
      return d;
    },
    hasDevice: (n) => devices.has(n),
    reportFailure() {},
    onClose: (fn) => void closers.push(fn),
  };
}

describe('device backends: one registry, one host interface', () => {
  it('every backend is registered under its own kind, and every one is a scenario device kind', () => {
    for (const [key, b] of Object.entries(DEVICE_BACKENDS)) expect(b.kind).toBe(key);
    expect(DEVICE_KINDS.map((d) => d.kind).sort()).toEqual(Object.keys(DEVICE_BACKENDS).sort());
  });

  it('each backend attaches to a host that is not a Lab and its devices do I/O there', async () => {
    const host = bareHost();
    const nb = DEVICE_BACKENDS.nullblk.attach(host, { name: 'nullb0', size: 4 * MiB, lbs: 4096, backing: 'memory' });
    const nv = DEVICE_BACKENDS.nvme.attach(host, { name: 'nvme0', namespaces: [{ size: 4 * MiB, lbs: 4096 }] });
    const sc = DEVICE_BACKENDS.scsi.attach(host, { name: 'arr0', lus: [{ name: 'sda', size: 4 * MiB, lbs: 512 }] });
    expect([...host.devices.keys()].sort()).toEqual(['nullb0', 'nvme0n1', 'sda']);
    expect(nb.name).toBe('nullb0');
    expect(nv.devices.map((d) => d.name)).toEqual(['nvme0n1']);
    expect(sc.disks.map((d) => d.name)).toEqual(['sda']);
    // The backends' own sysfs attributes land in the host's tree.
    expect(host.sysfs.read('/sys/class/nvme/nvme0/transport').value).toBe('pcie');
    expect(host.sysfs.read('/sys/block/sda/device/vendor').res).toBe(0);
    for (const dev of [nb, nv.devices[0]!, sc.disks[0]!]) {
      const data = new Uint8Array(8192).map((_, i) => (i * 7 + dev.name.length) & 0xff);
      expect(await submitBioWait(dev, { op: ReqOp.WRITE, offset: 4096, length: data.length, data })).toBe(data.length);
      const back = new Uint8Array(data.length);
      expect(await submitBioWait(dev, { op: ReqOp.READ, offset: 4096, length: back.length, data: back })).toBe(back.length);
      expect(back).toEqualBytes(data);
    }
  });

  it('lab.attach goes through the registry; an unknown kind and a taken name are refused before anything is built', () => {
    const lab = new Lab();
    const d = lab.attach('nullblk', { name: 'nullb0', size: MiB, lbs: 512 });
    expect(lab.device('/dev/nullb0')).toBe(d);
    expect(() => lab.attach('floppy' as 'nullblk', { name: 'fd0', size: MiB, lbs: 512 })).toThrow(/unknown device kind floppy/);
    expect(() => lab.attach('constructor' as 'nullblk', { name: 'x', size: MiB, lbs: 512 })).toThrow(/unknown device kind/);
    expect(() => lab.attach('nullblk', { name: 'nullb0', size: MiB, lbs: 512, execution: 'worker', backing: 'memory' })).toThrow(ErrnoError);
    expect(lab.list().map((x) => x.name)).toEqual(['nullb0']);
  });
});
