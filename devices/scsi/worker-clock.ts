/**
 * The lab's clock as the arrays on the SCSI fabric's worker thread see it (worker-entry.ts).
 * Modeled time is what the lab published with the request being handled: a command's arrival
 * time, or the time of the event that fires. `at` does not keep a heap here: the event is
 * scheduled on the lab's own clock (a message, before the lab releases the hold it took for the
 * request), and the lab sends it back when it fires. So timing models, timed runs and copy
 * operations of worker-run arrays sit on the one clock of the lab, in the lab's order, and
 * modeled times are those of inline.
 */
import { Clock } from '../../src/core/time/clock.js';
import type { WorkerEvent } from './worker-protocol.js';

/** Events of worker-run arrays pending on the lab's clock at once (a limit on everything). */
export const REMOTE_CLOCK_MAX_EVENTS = 1 << 20;

export class RemoteClock extends Clock {
  private published = 0;
  private nextRemoteId = 0;
  private readonly remoteFns = new Map<number, () => void>();

  constructor(private readonly post: (e: WorkerEvent) => void) {
    super();
  }

  /** The lab's time for the request being handled. */
  publish(t: number): void {
    if (Number.isFinite(t) && t > this.published) this.published = t;
  }

  override now(): number {
    return this.published;
  }

  override at(t: number, fn: () => void): number {
    if (!Number.isFinite(t)) throw new RangeError(`event time must be finite, not ${t}`);
    if (this.remoteFns.size >= REMOTE_CLOCK_MAX_EVENTS) throw new RangeError(`at most ${REMOTE_CLOCK_MAX_EVENTS} events may be pending`);
    const id = ++this.nextRemoteId;
    this.remoteFns.set(id, fn);
    this.post({ kind: 'at', id, t: Math.max(t, this.published) });
    return id;
  }

  override cancel(id: number): boolean {
    if (!this.remoteFns.delete(id)) return false;
    this.post({ kind: 'cancel', id });
    return true;
  }

  /** The lab's clock reached the event: run it at its time. */
  fire(id: number, t: number): void {
    const fn = this.remoteFns.get(id);
    if (!fn) return;
    this.remoteFns.delete(id);
    this.publish(t);
    fn();
  }

  override get pending(): number {
    return this.remoteFns.size;
  }
}
