/**
 * Closed-loop synthetic workloads on a timing model alone (no block layer), as a queue-depth
 * generator in a peer simulator runs them (MQSim's QUEUE_DEPTH flows): QD requests outstanding,
 * each completion issuing the next, random-uniform or streaming addresses over a working set.
 * Benchmarks and tests share it (bench/vs-mqsim.ts, test/timing/vs-mqsim.test.ts).
 */
import { Clock } from '../core/time/clock.js';
import { Prng } from '../core/util/prng.js';
import { TimingModel, type TimingStats } from '../../devices/timing/model.js';
import type { TimingParams } from '../../devices/timing/params.js';

export interface ClosedLoopWorkload {
  readonly name: string;
  readonly op: 'read' | 'write';
  readonly pattern: 'random' | 'sequential';
  readonly bs: number;
  readonly qd: number;
}

export interface ClosedLoopResult {
  readonly iops: number;
  /** Mean completion latency (µs). */
  readonly meanUs: number;
  readonly requests: number;
  /** The model's counters over the whole run (warm-up included). */
  readonly stats: TimingStats;
}

/** The seven workloads of the MQSim comparison (docs/timing.md, "Against MQSim"). */
export const PEER_WORKLOADS: readonly ClosedLoopWorkload[] = [
  { name: 'randread-4k-qd1', op: 'read', pattern: 'random', bs: 4096, qd: 1 },
  { name: 'randread-4k-qd8', op: 'read', pattern: 'random', bs: 4096, qd: 8 },
  { name: 'randread-4k-qd32', op: 'read', pattern: 'random', bs: 4096, qd: 32 },
  { name: 'randread-4k-qd128', op: 'read', pattern: 'random', bs: 4096, qd: 128 },
  { name: 'randwrite-4k-qd32', op: 'write', pattern: 'random', bs: 4096, qd: 32 },
  { name: 'seqread-128k-qd8', op: 'read', pattern: 'sequential', bs: 131072, qd: 8 },
  { name: 'seqwrite-128k-qd8', op: 'write', pattern: 'sequential', bs: 131072, qd: 8 },
];

/** Most requests one run issues (a limit on everything). */
export const CLOSED_LOOP_MAX_REQUESTS = 10_000_000;

/**
 * Runs `w` for `requests` completions on a fresh model; the first `warmup` of them (a fifth
 * unless told) warm it up and are not measured. Deterministic for a seed.
 */
export function runClosedLoop(
  params: TimingParams,
  w: ClosedLoopWorkload,
  o: { workingSetBytes: number; requests: number; seed?: number; /** Fraction of requests not measured (default 0.2; 0 measures from a fresh device, as MQSim does). */ warmup?: number },
): ClosedLoopResult {
  if (!(o.requests > 0 && o.requests <= CLOSED_LOOP_MAX_REQUESTS)) throw new RangeError(`requests must be 1..${CLOSED_LOOP_MAX_REQUESTS}`);
  if (!(w.qd >= 1 && w.qd <= 65536) || !(w.bs >= 512) || w.bs % 512 !== 0) throw new RangeError(`${w.name}: qd 1..65536 and a bs that is a multiple of 512`);
  const clock = new Clock();
  const m = new TimingModel(params, clock);
  const rng = new Prng(o.seed ?? 1);
  const slots = Math.floor(o.workingSetBytes / w.bs);
  if (slots < 1) throw new RangeError(`${w.name}: the working set holds no ${w.bs}-byte request`);
  const warmup = o.warmup ?? 0.2;
  if (!(warmup >= 0 && warmup < 1)) throw new RangeError('warmup must be in [0, 1)');
  const warm = Math.floor(o.requests * warmup);
  let next = 0;
  let issued = 0;
  let done = 0;
  let latency = 0;
  let t0 = 0;
  const issue = (): void => {
    if (issued >= o.requests) return;
    issued++;
    const off = (w.pattern === 'sequential' ? next++ % slots : rng.below(slots)) * w.bs;
    const start = clock.now();
    const complete = (): void => {
      done++;
      if (done > warm) latency += clock.now() - start;
      if (done === warm) t0 = clock.now();
      issue();
    };
    // A read's time may be known only once its chip gets to it (read_dispatch: event).
    if (w.op === 'read') m.readThen(off, w.bs, (end) => clock.at(end, complete));
    else clock.at(m.write(off, w.bs), complete);
  };
  for (let i = 0; i < w.qd; i++) issue();
  clock.runUntilIdle();
  const measured = done - warm;
  return { iops: measured / ((clock.now() - t0) / 1e9), meanUs: latency / measured / 1000, requests: measured, stats: m.stats };
}
