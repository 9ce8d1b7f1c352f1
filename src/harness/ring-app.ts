/**
 * An application thread of an SQPOLL ring (tests and benchmarks share it; it runs on the thread
 * workers/ring-app.ts starts): attaches to the ring's shared memory, submits NOPs in batches,
 * reaps their CQEs and reports how many it saw, in order.
 */
import { Ring, type SharedRing } from '../core/ring/ring.js';
import { prepNop, sqeSetData } from '../core/ring/prep.js';

export interface RingAppJob {
  readonly ring: SharedRing;
  /** NOPs to submit, in batches of `batch`; 0 = run for `ms`. */
  readonly count: number;
  readonly batch: number;
  readonly ms: number;
}

export interface RingAppResult {
  readonly ops: number;
  readonly seconds: number;
  /** Every CQE's user_data arrived once and in order, with res 0. */
  readonly inOrder: boolean;
}

export function runRingApp(job: RingAppJob): RingAppResult {
  const ring = Ring.attach(job.ring);
  let next = 0;
  let seen = 0;
  let inOrder = true;
  const t0 = performance.now();
  const more = (): boolean => (job.count > 0 ? next < job.count : performance.now() - t0 < job.ms);
  while (more() || seen < next) {
    let queued = 0;
    while (more() && queued < job.batch) {
      const sqe = ring.getSqe();
      if (!sqe) break;
      prepNop(sqe);
      sqeSetData(sqe, next++);
      queued++;
    }
    if (queued) ring.submit();
    if (seen < next) ring.waitCqeSync(1);
    for (let c = ring.peekCqe(); c; c = ring.peekCqe()) {
      if (c.user_data !== seen || c.res !== 0) inOrder = false;
      seen++;
      ring.cqeSeen(c);
    }
  }
  const result: RingAppResult = { ops: seen, seconds: (performance.now() - t0) / 1000, inOrder };
  return result;
}
