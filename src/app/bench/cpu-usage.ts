/**
 * fio's job CPU figures (stat.c update_rusage_stat, show_thread_status_json): user and system
 * CPU time as a percent of the job's run time (usr_cpu, sys_cpu), context switches (ctx,
 * voluntary plus involuntary) and page faults (majf, minf), from getrusage taken as the job
 * starts and ends. copylab's jobs share one process, so the figures are the process's over the
 * job's span (device worker threads included); jobs that run together each see all of it.
 */

export interface CpuSample {
  readonly usrUs: number;
  readonly sysUs: number;
  readonly ctx: number;
  readonly majf: number;
  readonly minf: number;
}

export function cpuSample(): CpuSample {
  const r = process.resourceUsage();
  return {
    usrUs: r.userCPUTime,
    sysUs: r.systemCPUTime,
    ctx: r.voluntaryContextSwitches + r.involuntaryContextSwitches,
    majf: r.majorPageFault,
    minf: r.minorPageFault,
  };
}

/** What a job used: CPU ms and counts, summed over group_reporting clones as fio sums them. */
export class CpuUsage {
  usrMs = 0;
  sysMs = 0;
  ctx = 0;
  majf = 0;
  minf = 0;
  /** The wall run time the percentages are of (fio's total_run_time, ms). */
  runMs = 0;

  set(a: CpuSample, b: CpuSample, wallNs: number): void {
    this.usrMs = (b.usrUs - a.usrUs) / 1000;
    this.sysMs = (b.sysUs - a.sysUs) / 1000;
    this.ctx = b.ctx - a.ctx;
    this.majf = b.majf - a.majf;
    this.minf = b.minf - a.minf;
    this.runMs = wallNs / 1e6;
  }

  add(o: CpuUsage): void {
    this.usrMs += o.usrMs;
    this.sysMs += o.sysMs;
    this.ctx += o.ctx;
    this.majf += o.majf;
    this.minf += o.minf;
    this.runMs += o.runMs;
  }

  /** fio's JSON fields (percentages 0 when the job took no time). */
  toJson(): { usr_cpu: number; sys_cpu: number; ctx: number; majf: number; minf: number } {
    const pct = (ms: number): number => (this.runMs > 0 ? (ms * 100) / this.runMs : 0);
    return { usr_cpu: pct(this.usrMs), sys_cpu: pct(this.sysMs), ctx: this.ctx, majf: this.majf, minf: this.minf };
  }
}
