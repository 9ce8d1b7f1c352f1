import { describe, expect, it } from 'vitest';
import { latLine, percentileLines } from '../../src/app/bench/format.js';
import type { FioLatency } from '../../src/core/util/latency.js';

const lat = (min: number, max: number, mean: number, stddev: number, percentile?: Record<string, number>): FioLatency => ({ min, max, mean, stddev, N: 10, ...(percentile ? { percentile } : {}) });

describe("normal output in fio's units", () => {
  it('prints a latency line in usec or msec only when min, max and stdev all pass fio\'s thresholds', () => {
    expect(latLine('clat', lat(1500, 200_000, 50_000, 20_000))).toBe('clat (nsec): min=1500, max=200000, avg=50000.00, stdev=20000.00');
    expect(latLine('clat', lat(2500, 200_000, 50_000, 20_000))).toBe('clat (usec): min=2, max=200, avg=50.00, stdev=20.00');
    expect(latLine('clat', lat(2500, 200_000, 50_000, 900))).toMatch(/^clat \(nsec\)/);
    expect(latLine(' lat', lat(3e6, 2e8, 5e7, 2e6))).toBe(' lat (msec): min=3, max=200, avg=50.00, stdev= 2.00');
  });

  it('scales percentiles by their smallest and largest value, rounding up, four to a line', () => {
    const p = (a: number, b: number) => ({ '1.000000': a, '5.000000': a, '10.000000': a, '20.000000': b, '50.000000': b });
    expect(percentileLines('clat', lat(0, 0, 0, 0, p(1500, 150_000)))).toEqual([
      '    clat percentiles (nsec):',
      '     |  1.00th=[  1500],  5.00th=[  1500], 10.00th=[  1500], 20.00th=[150000],',
      '     | 50.00th=[150000]',
    ]);
    expect(percentileLines('clat', lat(0, 0, 0, 0, p(2500, 150_001)))).toEqual([
      '    clat percentiles (usec):',
      '     |  1.00th=[    3],  5.00th=[    3], 10.00th=[    3], 20.00th=[  151],',
      '     | 50.00th=[  151]',
    ]);
    expect(percentileLines('lat', lat(0, 0, 0, 0, p(3e6, 2e8)))[0]).toBe('    lat percentiles (msec):');
  });
});
