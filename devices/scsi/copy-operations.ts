/**
 * Copy operations that take modeled time (SPC-4 5.17.4: EXTENDED COPY (LID4) and WRITE USING
 * TOKEN with IMMED=1 run in the background; with IMMED=0 in the foreground of their command).
 * An array on the clock keeps each running operation here, so that RECEIVE COPY STATUS (LID4)
 * and RECEIVE ROD TOKEN INFORMATION report it in progress, COPY OPERATION ABORT (SPC-4 6.3) can
 * stop it between segments, and the copy manager can refuse one more than its limits allow.
 *
 * The limits on operations in progress (MAXIMUM CONCURRENT COPIES per I_T nexus, TOTAL CONCURRENT
 * COPIES per array) are the copy manager's records' (copy-lists.ts): an operation gets here only
 * once its record is taken, so the operations here never exceed them.
 *
 * An operation waits for each step's modeled completion time on the clock, then moves its
 * bytes: an abort cancels the step being waited for, so the segments before it are copied and
 * the ones from it on are untouched, and the record keeps the transfer count of what moved.
 */
import type { Clock } from '../../src/core/time/clock.js';
import { CopyStatus } from './constants.js';
import type { CopyOperationRecord } from './media.js';

export class RunningCopy {
  private pendingId: number | null = null;
  /** What the runner does when the operation is aborted while it waits for a step. */
  private onAbort: (() => void) | null = null;
  /** Set by COPY OPERATION ABORT (or nexus loss): the operation moves nothing more. */
  aborted = false;

  constructor(
    readonly initiator: string,
    readonly rec: CopyOperationRecord,
    readonly background: boolean,
    private readonly clock: Clock,
  ) {}

  /**
   * Runs `due` at modeled time t (the step's bytes move then), or `aborted` instead if the
   * operation is aborted before t. False when it is aborted already.
   */
  schedule(t: number, due: () => void, aborted: () => void): boolean {
    if (this.aborted) return false;
    this.onAbort = aborted;
    this.pendingId = this.clock.at(t, () => {
      this.pendingId = null;
      this.onAbort = null;
      due();
    });
    return true;
  }

  /** Stops the operation before its next step: the step waited for is cancelled and never moves. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.rec.status = CopyStatus.LID4_ABORTED;
    if (this.pendingId !== null) this.clock.cancel(this.pendingId);
    this.pendingId = null;
    const f = this.onAbort;
    this.onAbort = null;
    f?.();
  }
}

export class CopyOperations {
  private readonly running = new Set<RunningCopy>();

  /** Copy operations on the clock now. */
  get size(): number {
    return this.running.size;
  }

  /** Starts running an operation on the clock (its record is taken: copy-manager.ts operation). */
  start(initiator: string, rec: CopyOperationRecord, background: boolean, clock: Clock): RunningCopy {
    const op = new RunningCopy(initiator, rec, background, clock);
    rec.status = background ? CopyStatus.LID4_IN_PROGRESS_BG : CopyStatus.LID4_IN_PROGRESS_FG;
    this.running.add(op);
    return op;
  }

  finish(op: RunningCopy): void {
    this.running.delete(op);
    op.rec.estimatedDelayMs = undefined;
  }

  /** COPY OPERATION ABORT: true when the record's operation was running and is now stopped. */
  abort(rec: CopyOperationRecord): boolean {
    for (const op of this.running) {
      if (op.rec === rec) {
        op.abort();
        return true;
      }
    }
    return false;
  }

  /** I_T nexus loss: the initiator's operations stop (their results were held for that nexus only). */
  nexusLoss(initiator: string): void {
    for (const op of [...this.running]) if (op.initiator === initiator) op.abort();
  }
}
