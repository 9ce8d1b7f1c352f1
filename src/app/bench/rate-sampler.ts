/**
 * Bandwidth and IOPS sampled per window, as fio's __add_samples does: once a window of
 * `periodMs` has passed on the job's clock (modeled time for timed devices), each direction
 * that moved bytes gets one sample, the rate over the time actually spent (whole ms, as fio's
 * mtime_since counts it): KiB/s for bandwidth, I/Os per second for IOPS. The window then starts
 * again from that moment. These samples are what bw_min … iops_samples summarise.
 *
 * fio's statistics thread wakes on a timer and takes a window that is within LOG_MSEC_SLACK of its
 * length; here the windows are checked as completions arrive, so there is no timer to be early
 * and a window is taken once it has fully passed.
 */
import type { IoDir } from './workload.js';

/** fio stat.c LOG_MSEC_SLACK: a log window within this many ms of its length counts as complete. */
export const LOG_MSEC_SLACK_MS = 1;
const DIRS: readonly IoDir[] = ['read', 'write', 'trim', 'copy'];

export class RateSampler {
  private last = 0;
  private readonly seen: Record<IoDir, number> = { read: 0, write: 0, trim: 0, copy: 0 };

  /** `kib`: bandwidth in KiB/s from byte counts; otherwise a rate per second of the counts. */
  constructor(readonly periodMs: number, private readonly kib: boolean, private readonly onSample: (dir: IoDir, rate: number) => void) {}

  /** Starts the first window at `t` (ns) with the counts as they are. */
  start(t: number, total: (d: IoDir) => number): void {
    this.last = t;
    for (const d of DIRS) this.seen[d] = total(d);
  }

  /** Takes the window's samples if it has passed by `t` (ns); `total` gives each direction's running count. */
  tick(t: number, total: (d: IoDir) => number): void {
    const spent = Math.floor((t - this.last) / 1e6);
    if (spent < this.periodMs) return;
    for (const d of DIRS) {
      const now = total(d);
      const delta = now - this.seen[d];
      if (!delta) continue;
      const perSec = spent ? Math.floor((delta * 1000) / spent) : 0;
      this.onSample(d, this.kib ? Math.floor(perSec / 1024) : perSec);
      this.seen[d] = now;
    }
    this.last = t;
  }
}
