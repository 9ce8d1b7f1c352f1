import fc from 'fast-check';
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { LATENCY_MAX_NS, LatencyStats, hdrCountsIndex } from '../../src/core/util/latency.js';

const shape = (): hdr.JsHistogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: LATENCY_MAX_NS, numberOfSignificantValueDigits: 3, useWebAssembly: false }) as hdr.JsHistogram;

describe('LatencyStats (src/core/util/latency.ts)', () => {
  it("finds a value's counter where hdr-histogram-js's countsArrayIndex does", () => {
    const h = shape();
    const edges = [0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 1e6, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
    for (let k = 11; k < 32; k++) edges.push(2 ** k - 1, 2 ** k, 2 ** k + 1);
    for (const v of edges) expect(hdrCountsIndex(v), `value ${v}`).toBe(h.countsArrayIndex(v));
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (v) => hdrCountsIndex(v) === h.countsArrayIndex(v)), { numRuns: 5000 });
  });

  it('records into the same histogram as recordValue (percentiles, deviation, encoding)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.double({ min: -10, max: 1e13, noNaN: true })), { maxLength: 300 }), (values) => {
        const s = new LatencyStats();
        const ref = shape();
        for (const ns of values) {
          s.record(ns);
          ref.recordValue(Math.min(LATENCY_MAX_NS, ns < 0 ? 0 : Math.round(ns)));
        }
        const h = (s as unknown as { h: hdr.JsHistogram }).h;
        expect(h.totalCount).toBe(ref.totalCount);
        expect(h.maxValue).toBe(ref.maxValue);
        expect(h.minNonZeroValue).toBe(ref.minNonZeroValue);
        expect(h.stdDeviation).toBe(ref.stdDeviation);
        for (const p of [0, 1, 50, 99, 99.9, 100]) expect(h.getValueAtPercentile(p)).toBe(ref.getValueAtPercentile(p));
        expect(hdr.encodeIntoCompressedBase64(h)).toBe(hdr.encodeIntoCompressedBase64(ref));
      }),
      { numRuns: 200 },
    );
  });
});
