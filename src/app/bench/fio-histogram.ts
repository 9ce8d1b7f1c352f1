/**
 * fio's latency histogram (stat.h / stat.c): buckets in groups of FIO_IO_U_PLAT_VAL, each group
 * twice as wide as the one before, so a bucket's relative error is at most 1/2^(BITS+1). json+
 * writes each non-empty bucket as `bins: { "<bucket value in ns>": count }`, the value being what
 * fio's plat_idx_to_val gives (the middle of the bucket); fio_jsonplus_clat2csv and fio's other
 * tools read those keys. The arithmetic here is written from fio's description of the layout.
 */

/** fio stat.h FIO_IO_U_PLAT_BITS: bits of a value kept exactly within a group. */
export const FIO_IO_U_PLAT_BITS = 6;
/** fio stat.h FIO_IO_U_PLAT_VAL (1 << FIO_IO_U_PLAT_BITS): buckets per group. */
export const FIO_IO_U_PLAT_VAL = 1 << FIO_IO_U_PLAT_BITS;
/** fio stat.h FIO_IO_U_PLAT_GROUP_NR: groups (values up to about 17 s in ns). */
export const FIO_IO_U_PLAT_GROUP_NR = 29;
/** fio stat.h FIO_IO_U_PLAT_NR: buckets in all. */
export const FIO_IO_U_PLAT_NR = FIO_IO_U_PLAT_GROUP_NR * FIO_IO_U_PLAT_VAL;

/** Index of the highest set bit of a non-negative integer below 2^53. */
function msbOf(v: number): number {
  if (v < 2 ** 32) return 31 - Math.clz32(v);
  return 32 + 31 - Math.clz32(Math.floor(v / 2 ** 32));
}

/** The bucket a value (ns) falls in (fio's plat_val_to_idx). */
export function platValToIdx(ns: number): number {
  const v = Math.max(0, Math.floor(ns));
  const msb = v === 0 ? 0 : msbOf(v);
  // Values of at most BITS+1 significant bits are their own bucket.
  if (msb <= FIO_IO_U_PLAT_BITS) return v;
  const errorBits = msb - FIO_IO_U_PLAT_BITS;
  const base = (errorBits + 1) << FIO_IO_U_PLAT_BITS;
  // v >>> errorBits is floor(v / 2^errorBits) while v fits 32 bits (every latency under 4.3 s).
  const offset = (FIO_IO_U_PLAT_VAL - 1) & (v < 2 ** 32 ? v >>> errorBits : Math.floor(v / 2 ** errorBits));
  return Math.min(base + offset, FIO_IO_U_PLAT_NR - 1);
}

/** The value fio reports for a bucket (fio's plat_idx_to_val: the middle of its range). */
export function platIdxToVal(idx: number): number {
  if (idx < FIO_IO_U_PLAT_VAL << 1) return idx;
  const errorBits = (idx >> FIO_IO_U_PLAT_BITS) - 1;
  const base = 2 ** (errorBits + FIO_IO_U_PLAT_BITS);
  const k = idx % FIO_IO_U_PLAT_VAL;
  return base + Math.floor((k + 0.5) * 2 ** errorBits);
}

/** Counts per fio bucket; the array is made at the first sample (most directions stay empty). */
export class FioHistogram {
  private counts: Float64Array | null = null;
  total = 0;

  record(ns: number): void {
    (this.counts ??= new Float64Array(FIO_IO_U_PLAT_NR))[platValToIdx(ns)]!++;
    this.total++;
  }

  add(o: FioHistogram): void {
    if (!o.counts) return;
    const c = (this.counts ??= new Float64Array(FIO_IO_U_PLAT_NR));
    for (let i = 0; i < FIO_IO_U_PLAT_NR; i++) c[i]! += o.counts[i]!;
    this.total += o.total;
  }

  /** json+'s `bins`: non-empty buckets keyed by their value in ns, in increasing order. */
  bins(): Record<string, number> {
    const out: Record<string, number> = {};
    if (!this.counts) return out;
    for (let i = 0; i < FIO_IO_U_PLAT_NR; i++) if (this.counts[i]) out[String(platIdxToVal(i))] = this.counts[i]!;
    return out;
  }

  /**
   * Percentiles as fio computes them from its buckets (calc_clat_percentiles: the first bucket
   * whose running count reaches p% of the samples), for `list` sorted ascending.
   */
  percentiles(list: readonly number[]): number[] {
    const out: number[] = [];
    if (!this.counts || !this.total || !list.length) return out;
    let sum = 0;
    let j = 0;
    for (let i = 0; i < FIO_IO_U_PLAT_NR && j < list.length; i++) {
      sum += this.counts[i]!;
      while (j < list.length && sum >= (list[j]! / 100) * this.total) {
        out.push(platIdxToVal(i));
        j++;
      }
    }
    return out;
  }
}
