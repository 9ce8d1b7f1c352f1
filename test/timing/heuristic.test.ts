import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import { measureHeuristic } from '../../src/app/heuristic/measure.js';
import { PRESET_OFFLOAD_MIN_BYTES } from '../../devices/timing/heuristics.js';
import { presetNames } from '../../devices/timing/params.js';

describe('the size heuristic, measured in modeled time', () => {
  it("every preset's default copy_offload_min_bytes is the crossover the measurement finds", async () => {
    const presets = presetNames().filter((p) => p !== 'none');
    expect(Object.keys(PRESET_OFFLOAD_MIN_BYTES).sort()).toEqual([...presets].sort());
    for (const preset of presets) {
      const lab = new Lab();
      lab.addNullBlk({ name: 'nullb0', size: 256 << 20, lbs: 4096, timing: preset });
      expect(lab.readSysfs('/sys/block/nullb0/queue/copy_offload_min_bytes').value, preset).toBe(String(PRESET_OFFLOAD_MIN_BYTES[preset]));
      const r = await measureHeuristic(lab, '/dev/nullb0');
      expect(r.crossover, preset).toBe(PRESET_OFFLOAD_MIN_BYTES[preset]);
      // The measurement leaves the device as it found it.
      expect(lab.readSysfs('/sys/block/nullb0/queue/copy_offload_min_bytes').value).toBe(String(PRESET_OFFLOAD_MIN_BYTES[preset]));
      expect(r.rows.every((row) => row.offload_us !== null && row.emulated_us !== null)).toBe(true);
      expect(r.rows.every((row) => row.host_bytes_saved === 2 * row.size)).toBe(true);
      await lab.close();
    }
  });

  it('refuses a device without a timing model, naming the fix', async () => {
    const lab = new Lab();
    lab.addNullBlk({ name: 'nullb0', size: 64 << 20 });
    await expect(measureHeuristic(lab, '/dev/nullb0')).rejects.toThrow(/no timing model/);
    await lab.close();
  });

  it('below copy_offload_min_bytes the engine emulates and says why', async () => {
    const lab = new Lab();
    lab.addNullBlk({ name: 'nullb0', size: 64 << 20, lbs: 4096, backing: 'memory', timing: 'femu' });
    lab.writeSysfs('/sys/block/nullb0/queue/copy_offload_min_bytes', String(4 << 20));
    const r = await lab.copy('/dev/nullb0', [{ srcOffset: 0, dstOffset: 32 << 20, length: 1 << 20 }]);
    expect(r.path).toBe('emulated');
    expect(r.reasons.join()).toMatch(/copy_offload_min_bytes/);
    await lab.close();
  });
});
