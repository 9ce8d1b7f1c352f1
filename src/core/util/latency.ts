/**
 * Latency distributions: HdrHistogram (hdr-histogram-js) for percentiles with bounded memory
 * and a fixed relative error (3 significant digits), exact min, max, mean and count kept beside
 * it. fio's own histogram (stat.c, FIO_IO_U_PLAT_BITS 6) has the same shape of guarantee: a
 * relative error per bucket, not per sample, so millions of samples cost a few KiB.
 */
import * as hdr from 'hdr-histogram-js';

/** Latencies recorded up to one hour in ns; longer ones are clamped (and counted). */
export const LATENCY_MAX_NS = 3600e9;
const SIGNIFICANT_DIGITS = 3;

/** fio's latency object (lat_ns / clat_ns / slat_ns in its JSON). */
export interface FioLatency {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  N: number;
  percentile?: Record<string, number>;
}

/** Sub-buckets per bucket past the first, as a power of two (2048 / 2 at 3 significant digits, 1 ns unit). */
const HALF_BUCKET_BITS = 10;

/**
 * The counter a value goes to, as hdr-histogram-js's countsArrayIndex computes it for this
 * histogram's shape (unit 1 ns, 2048 sub-buckets), for integers in 0 .. 2^32 − 1: the library
 * takes a Math.log2 and three Math.pow per value (about a tenth of a microsecond, and a job
 * records six latencies per I/O); here it is a count of leading zeros and a shift.
 * bucket = max(msb(v) − 10, 0), sub = v >> bucket, index = (bucket + 1) · 1024 + sub − 1024.
 */
export function hdrCountsIndex(v: number): number {
  const bucket = v < 2 << HALF_BUCKET_BITS ? 0 : 31 - Math.clz32(v) - HALF_BUCKET_BITS;
  return (bucket << HALF_BUCKET_BITS) + (v >>> bucket);
}

export class LatencyStats {
  private readonly h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: LATENCY_MAX_NS, numberOfSignificantValueDigits: SIGNIFICANT_DIGITS, useWebAssembly: false }) as hdr.JsHistogram;
  count = 0;
  min = Infinity;
  max = 0;
  private sum = 0;
  clamped = 0;

  record(ns: number): void {
    const v = ns < 0 ? 0 : Math.round(ns);
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (v > LATENCY_MAX_NS) {
      this.clamped++;
      this.h.recordValue(LATENCY_MAX_NS);
    } else if (v < 2 ** 32) {
      // recordValue's own steps (count, min and max, total) with the counter found by a shift.
      const h = this.h;
      h.incrementCountAtIndex(hdrCountsIndex(v));
      h.updateMinAndMax(v);
      h.incrementTotalCount();
    } else this.h.recordValue(v);
  }

  /** Merges another distribution (group_reporting). */
  add(o: LatencyStats): void {
    if (!o.count) return;
    this.h.add(o.h);
    this.count += o.count;
    this.sum += o.sum;
    this.clamped += o.clamped;
    this.min = Math.min(this.min, o.min);
    this.max = Math.max(this.max, o.max);
  }

  get mean(): number {
    return this.count ? this.sum / this.count : 0;
  }

  percentile(p: number): number {
    // The histogram answers with its bucket's value; keep it inside what was really seen.
    return this.count ? Math.min(this.max, Math.max(this.min, this.h.getValueAtPercentile(p))) : 0;
  }

  /** fio's JSON object; `percentiles` adds the percentile map with fio's keys ("99.900000"). */
  toFio(percentiles?: readonly number[]): FioLatency {
    const out: FioLatency = {
      min: this.count ? this.min : 0,
      max: this.max,
      mean: this.mean,
      stddev: this.count > 1 ? this.h.stdDeviation : 0,
      N: this.count,
    };
    if (percentiles && this.count) out.percentile = Object.fromEntries(percentiles.map((p) => [p.toFixed(6), this.percentile(p)]));
    return out;
  }

  destroy(): void {
    this.h.destroy();
  }
}
