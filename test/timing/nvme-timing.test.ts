import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import { addNvmeController } from '../../devices/nvme/attach.js';
import { resolveTiming } from '../../devices/timing/params.js';
import { pattern } from '../helpers.js';

const US = 1000;

function timedLab(extra: Record<string, unknown> = {}) {
  const lab = new Lab();
  addNvmeController(lab, {
    name: 'nvme0',
    timing: 'femu',
    namespaces: [
      { size: 64 << 20, lbs: 4096, backing: 'memory' },
      { size: 64 << 20, lbs: 4096, backing: 'memory', zoned: true, zone_size: 4 << 20 },
    ],
    ...extra,
  });
  return lab;
}

describe('NVMe with a timing model', () => {
  it('a 4 KiB Read completes at overhead + tR + transfers, with the real bytes', async () => {
    const lab = timedLab();
    const p = resolveTiming('femu')!;
    const data = pattern(4096, 3);
    await lab.write('/dev/nvme0n1', 1 << 20, data);
    await lab.clock.sleep(1e9);
    const t0 = lab.clock.now();
    expect(await lab.read('/dev/nvme0n1', 1 << 20, 4096)).toEqualBytes(data);
    const expected = (p.link_latency_us + p.ctrl_overhead_us + p.tr_us) * US + (4096 * 1000) / p.channel_mbps + (4096 * 1000) / p.link_mbps;
    expect(lab.clock.now() - t0).toBeCloseTo(expected, 3);
    expect(lab.readSysfs('/sys/block/nvme0n1/timing/preset').value).toBe('femu');
    await lab.close();
  });

  it('completions of concurrent commands arrive in modeled-time order, not submission order', async () => {
    const lab = timedLab();
    await lab.write('/dev/nvme0n1', 0, pattern(4096, 5));
    const order: string[] = [];
    // Six reads of page 0 queue on its die one tR after another; the read of page 1 after them
    // goes to another die and completes long before the last of them.
    const queued = Array.from({ length: 6 }, () => lab.read('/dev/nvme0n1', 0, 4096));
    const big = Promise.all(queued).then(() => order.push('big'));
    const small = lab.read('/dev/nvme0n1', 4096, 4096).then(() => order.push('small'));
    await Promise.all([big, small]);
    expect(order).toEqual(['small', 'big']);
    await lab.close();
  });

  it('modeled times are the same inline and on a worker, with four I/O queues and event-dispatched reads', async () => {
    // Commands are timed in doorbell order on the lab's thread (devices/nvme/command-timer.ts),
    // whatever order round-robin arbitration or the worker's wall time runs them in.
    const times = async (timing: string, execution: 'inline' | 'worker'): Promise<{ ends: string[]; data: Uint8Array }> => {
      const lab = timedLab({ timing, execution, io_queues: 4 });
      expect(lab.writeSysfs('/sys/block/nvme0n1/queue/copy_offload_min_bytes', '0').res).toBeGreaterThan(0);
      await lab.write('/dev/nvme0n1', 0, pattern(256 << 10, 4));
      const t0 = lab.clock.now();
      const ends: string[] = [];
      const done = (what: string) => () => void ends.push(`${what}@${lab.clock.now() - t0}`);
      await Promise.all([
        ...Array.from({ length: 48 }, (_, i) => lab.read('/dev/nvme0n1', ((i * 7919) % 16384) * 4096, 4096).then(done(`r${i}`))),
        ...Array.from({ length: 16 }, (_, i) => lab.write('/dev/nvme0n1', (1 << 20) + i * 8192, pattern(8192, i)).then(done(`w${i}`))),
        lab.copy('/dev/nvme0n1', [{ srcOffset: 0, dstOffset: 32 << 20, length: 256 << 10 }]).then(done('copy')),
      ]);
      const data = await lab.read('/dev/nvme0n1', 32 << 20, 256 << 10);
      await lab.close();
      return { ends, data };
    };
    for (const timing of ['mqsim', 'femu']) {
      const inline = await times(timing, 'inline');
      expect(inline.data).toEqualBytes(pattern(256 << 10, 4));
      expect(new Set(inline.ends.map((e) => e.split('@')[1])).size).toBeGreaterThan(8); // queued on chips and channels, not one time for all
      expect((await times(timing, 'inline')).ends).toEqual(inline.ends);
      for (let run = 0; run < 2; run++) expect((await times(timing, 'worker')).ends).toEqual(inline.ends);
    }
  });

  it('an NVMe Copy takes device time and no link time; data lands', async () => {
    const lab = timedLab();
    // 1 MiB is below femu's measured crossover (4 MiB): ask for offload anyway.
    expect(lab.writeSysfs('/sys/block/nvme0n1/queue/copy_offload_min_bytes', '0').res).toBeGreaterThan(0);
    const len = 1 << 20;
    const src = pattern(len, 9);
    await lab.write('/dev/nvme0n1', 0, src);
    await lab.clock.sleep(1e9);
    const t0 = lab.clock.now();
    const r = await lab.copy('/dev/nvme0n1', [{ srcOffset: 0, dstOffset: 16 << 20, length: len }]);
    expect(r.path).toBe('offload');
    const took = lab.clock.now() - t0;
    const p = resolveTiming('femu')!;
    // At least one tR + tPROG; far less than 256 serial page copies.
    expect(took).toBeGreaterThan((p.tr_us + p.tprog_us) * US);
    expect(took).toBeLessThan(256 * (p.tr_us + p.tprog_us) * US);
    expect(await lab.read('/dev/nvme0n1', 16 << 20, len)).toEqualBytes(src);
    await lab.close();
  });
});
