/** What a caller may give a GC run besides its options, on either backend (run.ts, lab-backend.ts). */
import type { TraceSink } from '../../core/trace/record.js';
import type { GcTimer } from './cost.js';
import type { MoverMode, MoverStats } from './mover.js';
import type { PathLimits } from './paths.js';
import type { GcTrace } from './trace-file.js';

export interface GcHooks {
  /** Called now and then (about every million blocks on the tag-only device) with the share done (0..1). */
  readonly onProgress?: (done: number) => void;
  /** Tag-only device: its timer (default: the options' `timing`, timing-spec.ts). */
  readonly timer?: GcTimer;
  /** The trace a `trace:FILE` workload replays, read already. */
  readonly trace?: GcTrace;
  /** Tag-only device: the command limits its paths count with (default: DEFAULT_PATH_LIMITS). */
  readonly limits?: PathLimits;
  /**
   * Lab devices only: what the run has to say before it starts (the copy path will be emulated,
   * and why), each note once; the result's `notes` holds them too.
   */
  readonly onNote?: (note: string) => void;
  /** Lab devices only: every block-layer request the GC issues streams its trace events here (`--trace-out`). */
  readonly traceSink?: TraceSink;
  /**
   * Tag-only device: who moves the GC's blocks (mover.ts): inline (this thread) or worker (a second thread runs
   * the victim jobs, this one too when the worker falls behind; the worker also takes the page
   * faults and shares the final read-back). Default: worker for user spaces of
   * MOVER.autoMinBlocks and more, untimed; inline otherwise. The run's result is the same in both.
   */
  readonly mover?: MoverMode;
  /** Tag-only device: filled in at the end of a run: jobs run on each thread, how often and how long this thread waited, and the moves user writes took over from queued jobs (WorkerMover.forward). */
  readonly moverStats?: MoverStats;
}
