import { describe, it, expect } from 'vitest';
import { nvmeLab, ns4k } from './nvme-helpers.js';
import { pattern, MiB } from '../../helpers.js';
import { NVME_NS_MAX_QUEUED, NvmeNamespaceDevice } from '../../../devices/nvme/driver.js';
import { ReqOp } from '../../../src/core/block/ops.js';

const B = 4096;

describe('NVMe namespace device: NVME_NS_MAX_QUEUED', () => {
  it('past the limit, bios wait in the device (no command, no DMA pages) and are issued as others complete; every one lands', async () => {
    const { lab } = nvmeLab([ns4k(64 * MiB)]);
    const dev = lab.device('nvme0n1');
    expect(dev).toBeInstanceOf(NvmeNamespaceDevice);
    const ns = dev as NvmeNamespaceDevice;
    const count = NVME_NS_MAX_QUEUED + 1500;
    const data = Array.from({ length: count }, (_, i) => pattern(B, i + 1, i * B));
    let most = 0;
      const writes = data.map((d, i) => {
      const p = lab.submit(ns, { op: ReqOp.WRITE, offset: i * B, length: B, data: d });
      most = Math.max(most, ns.outstanding);
      return p;
    });
    expect(ns.outstanding).toBe(NVME_NS_MAX_QUEUED);
    expect(ns.waiting).toBe(count - NVME_NS_MAX_QUEUED);
    expect(await Promise.all(writes)).toEqual(writes.map(() => B));
    expect(most).toBe(NVME_NS_MAX_QUEUED);
    expect(ns.outstanding).toBe(0);
    expect(ns.waiting).toBe(0);
    const back = await lab.read(ns, 0, count * B);
    for (let i = 0; i < count; i++) expect(back.subarray(i * B, (i + 1) * B)).toEqualBytes(data[i]!);
    await lab.close();
  });

});
