/**
 * fio's io_stat (stat.h): min, max, running mean and sum of squared deviations of samples
 * (Welford's update, as fio's add_stat_sample does), used for the bandwidth and IOPS samples
 * behind bw_min … iops_samples. Standard deviation is sqrt(S / (n - 1)), 0 for one sample (fio's
 * calc_lat).
 */
export class IoStat {
  min = 0;
  max = 0;
  mean = 0;
  /** Sum of squared deviations from the mean. */
  S = 0;
  samples = 0;

  add(v: number): void {
    if (this.samples === 0 || v < this.min) this.min = v;
    if (this.samples === 0 || v > this.max) this.max = v;
    const delta = v - this.mean;
    if (delta) {
      this.mean += delta / (this.samples + 1);
      this.S += delta * (v - this.mean);
    }
    this.samples++;
  }

  get dev(): number {
    return this.samples > 1 ? Math.sqrt(this.S / (this.samples - 1)) : 0;
  }

  /**
   * group_reporting's merge of bandwidth and IOPS samples (fio's sum_stat with pure_sum): the
   * jobs' figures add up, min to min, max to max, mean to mean, so the group reads as one job
   * moving all their bytes.
   */
  pureSum(o: IoStat): void {
    if (o.samples === 0) return;
    if (this.samples === 0) {
      Object.assign(this, { min: o.min, max: o.max, mean: o.mean, S: o.S, samples: o.samples });
      return;
    }
    this.min += o.min;
    this.max += o.max;
    this.mean += o.mean;
    this.S += o.S;
    this.samples += o.samples;
  }
}
