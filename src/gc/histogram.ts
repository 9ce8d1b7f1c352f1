/**
 * Latency percentiles with bounded memory: log-linear buckets (32 per power of two, so a value
 * is recorded within 1/32 ≈ 3% of itself), nanoseconds from 1 to 2^50.
 */
const SUB = 32;
const MAX_POW = 50;

export class LatencyHistogram {
  private readonly counts = new Float64Array(MAX_POW * SUB + 1);
  total = 0;
  max = 0;

  record(ns: number): void {
    const b = bucketOf(ns);
    this.counts[b]!++;
    this.total++;
    if (ns > this.max) this.max = ns;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
  }

  /** The value at quantile q (0..1): the upper edge of the bucket holding it; 0 when empty. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const want = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b]!;
      if (seen >= want) return Math.min(this.max, upperOf(b));
    }
    return this.max;
  }
}

function bucketOf(ns: number): number {
  if (ns < 1) return 0;
  const e = Math.min(MAX_POW - 1, Math.floor(Math.log2(ns)));
  const frac = ns / 2 ** e - 1;
  return 1 + e * SUB + Math.min(SUB - 1, Math.floor(frac * SUB));
}

function upperOf(b: number): number {
  if (b === 0) return 0;
  const e = Math.floor((b - 1) / SUB);
  const s = (b - 1) % SUB;
  return 2 ** e * (1 + (s + 1) / SUB);
}
