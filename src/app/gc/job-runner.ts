/**
 * The job runner: executes one victim job (victim-job.ts) on the tag-only device, the same steps
 * on either thread (inline-mover.ts, worker-mover.ts, workers/gc-mover.ts). A job's moves are
 * read from the snapshot and the device's tags, checked against the map (each owner's entry must
 * name the source and the generation the source's tag carries, or the run fails naming the
 * block), the map entries pointed at the destinations, the tags copied, and the path's commands
 * counted (paths.ts). Those are the GC's only random memory accesses per moved block (the map
 * entry), about two billion of them in the terabyte bench.
 */
import { GcIntegrityError, MAP_PHYS_MASK, TAG_LBA_BITS, describeTag } from './tag.js';
import { JOB, bitmapWords, expandJob, movedBefore } from './victim-job.js';
import { specialize } from '../../core/util/specialize.js';
import { newMovePlan, type MovePlan } from './lfs.js';
import { moveTags } from './tag-device.js';
import { accountPlan, type GcPathName, type PathCounters, type PathLimits } from './paths.js';
import { injectFault } from './fault-inject.js';
import type { GcOptions } from './options.js';

export function moveFailure(lba: number, src: number, found: number | undefined, expectedGen: number): GcIntegrityError {
  const where = found === undefined || found === 0 ? 'nowhere' : `${found & MAP_PHYS_MASK} (generation ${found >>> TAG_LBA_BITS})`;
  return new GcIntegrityError(`GC read of physical block ${src} returned ${describeTag(((expectedGen << TAG_LBA_BITS) | lba) >>> 0)}, but the map puts lba ${lba} at ${where}`, lba, src);
}

/** A job runner: runs the job at `jobs[at…]` and returns its plan (valid until the next job). */
export type JobRunner = (jobs: Uint32Array, at: number) => MovePlan;

/**
 * A job runner over one run's map and tags, the same steps on either thread: the moves from the
 * snapshot and the owners' tags (expandJob), each owner's map entry checked against the source
 * and the generation its tag carries and pointed at the destination (one tight loop: each
 * iteration's map access is independent of the others, so the CPU keeps several in flight), a
 * fault injected if the run asks for one, the tags copied, the commands counted. `shared`: the
 * worker's runner, which marks a job started and reads its cancellations first (WorkerMover.forward).
 * A closure of its own (src/core/util/specialize.ts).
 */
export function makeJobRunner(l2p: Uint32Array, tags: Uint32Array, sectionBlocks: number, path: GcPathName, limits: PathLimits, counters: PathCounters, inject: GcOptions['inject'], shared: boolean): JobRunner {
  const steps = { expandJob, movedBefore, injectFault, moveTags, accountPlan, moveFailure, nothingRead };
  const K = { physMask: MAP_PHYS_MASK, lbaBits: TAG_LBA_BITS, started: JOB.STARTED, cancel: JOB.BITS + bitmapWords(sectionBlocks), words: bitmapWords(sectionBlocks) };
  return specialize(runnerFactory)(l2p, tags, newMovePlan(sectionBlocks), path, limits, counters, inject, shared, steps, K);
}

function nothingRead(src: number): GcIntegrityError {
  return new GcIntegrityError(`GC read of physical block ${src} returned nothing (never written or reset), though it is marked valid`, -1, src);
}

// Self-contained (specialize evaluates its source again): every function it calls comes in `steps`.
function runnerFactory(
  l2p: Uint32Array,
  tags: Uint32Array,
  plan: MovePlan,
  path: GcPathName,
  limits: PathLimits,
  counters: PathCounters,
  inject: GcOptions['inject'],
  shared: boolean,
  steps: {
    expandJob: typeof expandJob;
    movedBefore: typeof movedBefore;
    injectFault: typeof injectFault;
    moveTags: typeof moveTags;
    accountPlan: typeof accountPlan;
    moveFailure: typeof moveFailure;
    nothingRead: (src: number) => Error;
  },
  K: { physMask: number; lbaBits: number; started: number; cancel: number; words: number },
): JobRunner {
  const PHYS = K.physMask;
  const BITS = K.lbaBits;
  const cancel = new Uint32Array(K.words);
  const sb = plan.sectionBlocks;
  return (jobs: Uint32Array, at: number): MovePlan => {
    let cancelled = false;
    if (shared) {
      // Started, then the cancellations: this thread's store and the main thread's (which
      // cancels, then looks whether the job started) cannot both miss the other's.
      Atomics.store(jobs, at + K.started, 1);
      for (let w = 0; w < K.words; w++) {
        const c = Atomics.load(jobs, at + K.cancel + w);
        cancel[w] = c;
        if (c !== 0) cancelled = true;
      }
    }
    steps.expandJob(jobs, at, tags, plan);
    const { src, dst, tag, count } = plan;
    const first = plan.victim * sb;
    // The owners' map entries first, loads only: more of them in flight than the checked rewrite
    // below keeps (each iteration of which is longer).
    let warm = 0;
    for (let i = 0; i < count; i++) warm ^= l2p[tag[i]! & PHYS]!;
    plan.warm = warm;
    for (let i = 0; i < count; i++) {
      const t = tag[i]!;
      const p = src[i]!;
      if (t === 0) throw steps.nothingRead(p);
      if (cancelled && ((cancel[(p - first) >>> 5]! >>> ((p - first) & 31)) & 1) !== 0) continue;
      const l = t & PHYS;
      const g = (t >>> BITS) << BITS;
      const e = l2p[l];
      if (e !== ((g | p) >>> 0)) throw steps.moveFailure(l, p, e, t >>> BITS);
      l2p[l] = (g | dst[i]!) >>> 0;
    }
    if (inject) steps.injectFault(plan, steps.movedBefore(jobs, at), inject);
    steps.moveTags(tags, plan);
    steps.accountPlan(path, plan, limits, counters);
    // The worker resets the victim's zone once it has read it (WorkerMover.resetSection): off the main thread.
    if (shared) tags.fill(0, first, first + sb);
    return plan;
  };
}
