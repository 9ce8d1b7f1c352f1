import { describe, expect, it } from 'vitest';
import { runGc } from '../../src/app/gc/run.js';
import { GC_DEFAULTS, type GcOptions } from '../../src/app/gc/options.js';
import { ModeledEstimateError, estimateModeled, modeledRates } from '../../src/app/gc/modeled-estimate.js';

const MiB = 1024 ** 2;
const opts = (o: Partial<GcOptions>): GcOptions => ({ ...GC_DEFAULTS, seriesPoints: 4, zoneBytes: 2 * MiB, zoneCapacityBytes: 2 * MiB, spareFactor: 0.1, overwrites: 2, path: 'copy', timing: 'nvmevirt-zns', ...o });

describe('modeled time of a counted run, from a timed run’s per-block costs', () => {
  it('a 512 MiB timed run predicts a 2 GiB timed run’s modeled time within 5%', () => {
    const small = runGc(opts({ size: 512 * MiB, seed: 2 }));
    const large = runGc(opts({ size: 2048 * MiB, seed: 3 }));
    const est = estimateModeled(modeledRates(small), large);
    expect(Math.abs(est.modeled_s / large.modeled_s - 1)).toBeLessThan(0.05);
    expect(Math.abs(est.gc_modeled_s / large.gc_modeled_s - 1)).toBeLessThan(0.05);
    // A run's own rates give back its own modeled time.
    const self = estimateModeled(modeledRates(large), large);
    expect(self.modeled_s).toBeCloseTo(large.modeled_s, 6);
  }, 120_000);

  it('an untimed run cannot calibrate', () => {
    expect(() => modeledRates(runGc(opts({ size: 256 * MiB, timing: 'none', overwrites: 0.5 })))).toThrow(ModeledEstimateError);
  });
});
