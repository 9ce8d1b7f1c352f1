import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import { resolveTiming } from '../../devices/timing/params.js';
import { parseScenarioText as loadScenarioText } from '../../src/app/scenario/parse.js';
import { runScenario } from '../../src/app/scenario/run.js';

const US = 1000;

describe('a timed nullblk in a lab', () => {
  it('completes a 4 KiB read at its modeled time and moves the real bytes', async () => {
    const lab = new Lab();
    lab.addNullBlk({ name: 'nullb0', size: 64 << 20, lbs: 4096, backing: 'memory', timing: 'femu' });
    const p = resolveTiming('femu')!;
    const data = new Uint8Array(4096).fill(0x5a);
    await lab.write('/dev/nullb0', 8192, data);
    await lab.clock.sleep(1e9); // let the write's program finish: the die is idle again
    const t0 = lab.clock.now();
    const back = await lab.read('/dev/nullb0', 8192, 4096);
    expect(back).toEqual(data);
    const expected = (p.link_latency_us + p.ctrl_overhead_us + p.tr_us) * US + (4096 * 1000) / p.channel_mbps + (4096 * 1000) / p.link_mbps;
    expect(lab.clock.now() - t0).toBeCloseTo(expected, 3);
    expect(lab.readSysfs('/sys/block/nullb0/timing/preset').value).toBe('femu');
    expect(lab.readSysfs('/sys/block/nullb0/timing/tr_us').value).toBe('40');
    expect(lab.writeSysfs('/sys/block/nullb0/timing/tr_us', '1').res).toBeLessThan(0);
    await lab.close();
  });

  it('an offloaded copy costs device time only; an emulated one pays the link twice', async () => {
    const lab = new Lab();
    lab.addNullBlk({ name: 'nullb0', size: 256 << 20, lbs: 4096, backing: 'memory', timing: 'femu', domain: 'd0' });
    lab.addNullBlk({ name: 'nullb1', size: 256 << 20, lbs: 4096, backing: 'memory', timing: 'femu', copy_max_hw_bytes: 0 });
    const len = 4 << 20;
    const src = new Uint8Array(len).map((_, i) => i * 7);
    await lab.write('/dev/nullb0', 0, src);
    await lab.write('/dev/nullb1', 0, src);
    let t0 = lab.clock.now();
    const off = await lab.copy('/dev/nullb0', [{ srcOffset: 0, dstOffset: 64 << 20, length: len }]);
    const offloadNs = lab.clock.now() - t0;
    expect(off.res).toBe(len);
    expect(off.path).toBe('offload');
    expect(await lab.read('/dev/nullb0', 64 << 20, len)).toEqualBytes(src);
    t0 = lab.clock.now();
    const emu = await lab.copy('/dev/nullb1', [{ srcOffset: 0, dstOffset: 64 << 20, length: len }]);
    const emulatedNs = lab.clock.now() - t0;
    expect(emu.path).toBe('emulated');
    expect(await lab.read('/dev/nullb1', 64 << 20, len)).toEqualBytes(src);
    // Offload: no link transfer at all. Emulation: 4 MiB up and 4 MiB down the link at least.
    expect(off.host_bytes).toBe(0);
    expect(emulatedNs).toBeGreaterThan((2 * len * 1000) / resolveTiming('femu')!.link_mbps);
    expect(offloadNs).toBeGreaterThan(0);
    await lab.close();
  });

  it('an untimed lab keeps modeled time at 0', async () => {
    const lab = new Lab();
    lab.addNullBlk({ name: 'nullb0', size: 1 << 20 });
    await lab.read('/dev/nullb0', 0, 4096);
    expect(lab.clock.now()).toBe(0);
    expect(lab.readSysfs('/sys/block/nullb0/timing/preset').value).toBe('none');
    await lab.close();
  });

  it('scenario: timing on a device and modeled_us per step; a bad key is named', async () => {
    const r = await runScenario(loadScenarioText(`
devices:
  - { kind: nullblk, name: nullb0, size: 64MiB, lbs: 4096, backing: memory, timing: { preset: nvmevirt-zns, dies_per_channel: 4 } }
steps:
  - fill: { dev: /dev/nullb0, offset: 0, length: 1MiB, seed: 1 }
  - copy: { dev: /dev/nullb0, ranges: [ { src: 0, dst: 32MiB, length: 1MiB } ] }
  - verify: { dev: /dev/nullb0, offset: 32MiB, length: 1MiB, seed: 1, pattern_offset: 0 }
`));
    expect(r.ok).toBe(true);
    for (const s of r.steps) expect(s.modeled_us).toBeGreaterThan(0);
    expect(() => loadScenarioText(`
devices:
  - { kind: nullblk, name: nullb0, size: 64MiB, timing: { preset: femu, tr_us: -1 } }
`)).toThrow(/devices\[0\]\.timing: tr_us must be a number in 0..1000000/);
  });
});
