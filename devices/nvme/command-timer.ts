/**
 * The order in which a subsystem's I/O commands are timed (docs/timing.md, "Order of commands").
 *
 * A command's modeled time depends on every command timed before it (they share dies, channels
 * and the link), so the order must not depend on how the controller happens to be run. Commands
 * are timed in the order the host wrote their submission queue doorbells, across every queue and
 * controller of the subsystem: each newly rung entry is stamped with the next number, and a
 * command executed out of that order (round-robin arbitration on the lab's thread, or a worker
 * thread reaching doorbells as wall time lets it) waits here until every earlier one is timed.
 * Inline, the controller stamps entries at its doorbell; on a worker thread, the host end of the
 * controller does (worker-bar.ts) and times the commands the worker hands back. Both give the same
 * numbers, so modeled times are the same inline and on a worker, with any number of I/O queues.
 */

/** A command's timing step, run once every command stamped before it has run its own. */
export type TimingStep = () => void;

export class CommandTimer {
  /** The number the next rung entry gets. */
  private stamped = 0;
  /** The lowest number whose step has not run. */
  private due = 0;
  /** Steps of commands executed before an earlier one: at most one per command outstanding. */
  private readonly held = new Map<number, TimingStep>();

  /** An I/O command's doorbell was written: its number in the timing order. */
  stamp(): number {
    return this.stamped++;
  }

  /** Command `seq` was executed: `step` times it now, or once every earlier command has been. */
  done(seq: number, step: TimingStep): void {
    if (seq !== this.due) {
      this.held.set(seq, step);
      return;
    }
    this.due++;
    step();
    for (let next = this.held.get(this.due); next; next = this.held.get(this.due)) {
      this.held.delete(this.due);
      this.due++;
      next();
    }
  }

  /** Command `seq` will never be executed (its queue was deleted): later ones do not wait for it. */
  drop(seq: number): void {
    this.done(seq, noStep);
  }

  /** Commands executed but waiting for an earlier one. */
  get waiting(): number {
    return this.held.size;
  }
}

const noStep: TimingStep = () => undefined;
