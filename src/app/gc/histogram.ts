/**
 * Latency percentiles for GC runs: an HDR histogram (hdr-histogram-js, the maintained port of
 * Gil Tene's HdrHistogram that the timing bench uses too), nanoseconds from 1 to one hour at 3
 * significant digits, bounded memory whatever the run length.
 */
import * as hdr from 'hdr-histogram-js';

export class LatencyHistogram {
  private readonly h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3.6e12, numberOfSignificantValueDigits: 3 });

  record(ns: number): void {
    this.h.recordValue(Math.max(1, Math.min(3.6e12, Math.round(ns))));
  }

  reset(): void {
    this.h.reset();
  }

  get total(): number {
    return this.h.totalCount;
  }

  get max(): number {
    return this.h.totalCount ? this.h.maxValue : 0;
  }

  /** The value at quantile q (0..1); 0 when empty. */
  quantile(q: number): number {
    return this.h.totalCount ? this.h.getValueAtPercentile(q * 100) : 0;
  }
}
