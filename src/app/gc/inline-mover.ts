/**
 * The inline mover: every victim job runs on this thread as soon as it is dispatched, in the one
 * slot the layer writes (the job runner, job-runner.ts), and this thread resets sections and
 * reads every block back at the end. Timed runs use it (the model times each victim as it moves)
 * and runs too small for a worker to pay (MOVER.autoMinBlocks).
 */
import { makeJobRunner, type JobRunner } from './job-runner.js';
import type { MovePlan } from './lfs.js';
import type { GcMover, MoverSetup, MoverStats } from './mover.js';
import { addPathCounters, newPathCounters, type PathCounters } from './paths.js';
import { makeVerifier, type Verifier } from './read-back.js';
import type { TagDevice } from './tag-device.js';
import { jobWords } from './victim-job.js';

export class InlineMover implements GcMover {
  readonly jobs: Uint32Array;
  private readonly run: JobRunner;
  private readonly verifier: Verifier;
  private readonly dev: TagDevice;
  /** The path counters of the jobs run. */
  private readonly counters = newPathCounters();
  private ran = 0;

  constructor(s: MoverSetup) {
    const sb = s.dev.layout.sectionBlocks;
    this.dev = s.dev;
    this.jobs = new Uint32Array(jobWords(sb));
    this.run = makeJobRunner(s.l2p, s.dev.tags, sb, s.path, s.limits, this.counters, s.inject, false);
    this.verifier = makeVerifier(s.l2p, s.dev.tags);
  }

  slot(): number {
    return 0;
  }

  dispatch(at: number): MovePlan {
    this.ran++;
    return this.run(this.jobs, at);
  }

  resetSection(section: number): void {
    this.dev.reset(section);
  }

  drain(): void {}

  totals(into: PathCounters): void {
    addPathCounters(into, this.counters);
  }

  verify(from: number, to: number): { verified: number; bad: number } {
    return this.verifier(from, to);
  }

  stats(): MoverStats {
    return { here: this.ran, worker: 0, waits: 0, waitMs: 0, cancels: 0 };
  }

  async close(): Promise<void> {}
}
