/**
 * The mover: who executes the victim jobs (victim-job.ts) the layer (lfs.ts) writes on the
 * tag-only device. The layer has already freed each victim and counted its moves when it writes
 * the job, so the run's decisions are the same whoever moves the blocks and whenever:
 * - InlineMover (inline-mover.ts): every job on this thread as it is dispatched;
 * - WorkerMover (worker-mover.ts): a second thread (workers/gc-mover.ts) runs the jobs through a
 *   ring in shared memory while this thread goes on with user writes and the next victims, and
 *   this one runs a job itself when the worker falls behind; the two meet only where the layer
 *   would read what a pending job has not yet written (section-flight.ts).
 * Both run a job with the same runner (job-runner.ts) and read back with the same verifier
 * (read-back.ts).
 */
import { InlineMover } from './inline-mover.js';
import type { MovePlan, LogStructured } from './lfs.js';
import { MOVER } from './mover-protocol.js';
import type { GcOptions } from './options.js';
import type { PathCounters, PathLimits } from './paths.js';
import type { TagDevice } from './tag-device.js';
import { WorkerMover } from './worker-mover.js';

/** inline: every job on this thread; worker: a second thread runs jobs and the read-back's other half. */
export type MoverMode = 'inline' | 'worker';
export const MOVER_MODES: readonly MoverMode[] = ['inline', 'worker'];

/** Jobs run on each thread, how often and how long this thread waited for the worker, and the moves user writes took over from queued jobs. */
export interface MoverStats {
  here: number;
  worker: number;
  waits: number;
  waitMs: number;
  cancels: number;
}

/** What a mover works on: the layer's map, the device and its tags, the path, its limits, and an injected fault. */
export interface MoverSetup {
  readonly l2p: Uint32Array;
  readonly dev: TagDevice;
  readonly path: GcOptions['path'];
  readonly limits: PathLimits;
  readonly inject: GcOptions['inject'];
}

export interface GcMover {
  /** Where the layer writes the next job: at `slot()`. */
  readonly jobs: Uint32Array;
  slot(): number;
  /** Runs the job written at `at` here, or queues it for the worker: its plan when it ran here (a timed run's model needs it). */
  dispatch(at: number): MovePlan | undefined;
  /** The layer takes a section for writing again: its tags are reset (unless the worker has reset them already). */
  resetSection(section: number): void;
  /** Waits for every queued job. */
  drain(): void;
  /** Adds the path counters of every job, on both threads (after drain). */
  totals(into: PathCounters): void;
  /** The final read-back of [from, to): the blocks checked and the first bad block (−1). Every job must be done first (drain). */
  verify(from: number, to: number): { verified: number; bad: number };
  stats(): MoverStats;
  /** Stops the worker, if there is one. */
  close(): Promise<void>;
}

/** Whether a run moves with a worker: asked, or by default for user spaces of MOVER.autoMinBlocks and more when untimed. */
export function moverModeFor(asked: MoverMode | undefined, userBlocks: number, timed: boolean): MoverMode {
  return asked ?? (userBlocks >= MOVER.autoMinBlocks && !timed ? 'worker' : 'inline');
}

/**
 * The run's mover. A worker mover needs the map and the tags in shared memory (LogStructured's and
 * TagDevice's `shared`), and becomes the layer's SectionFlight.
 */
export function openMover(mode: MoverMode, lfs: LogStructured, dev: TagDevice, o: GcOptions, limits: PathLimits): GcMover {
  const s: MoverSetup = { l2p: lfs.l2p, dev, path: o.path, limits, inject: o.inject };
  return mode === 'worker' ? WorkerMover.start(s, lfs) : new InlineMover(s);
}
