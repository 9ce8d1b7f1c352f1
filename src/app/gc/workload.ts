/**
 * Workloads: which logical block each user write goes to, from a seed. Names follow fio:
 * `uniform` (random_distribution=random), `zipf:θ` (random_distribution=zipf:θ; ranks spread over
 * the space by a multiplicative hash as fio's zipf does), `zoned:a/r:a/r…` (random_distribution=
 * zoned: a% of accesses to the next r% of the space, in order), `seq` (sequential overwrites),
 * and `trace:FILE` (replay of a trace file, trace-file.ts). Each write says its log temperature:
 * the first range of a `zoned:` workload whose access share exceeds its size share is hot.
 */
import { Prng } from '../../core/util/prng.js';
import { Temp } from './lfs.js';
import { ZipfSampler } from './zipf.js';
import type { GcTrace } from './trace-file.js';

export const TraceOp = { WRITE: 0, READ: 1, DISCARD: 2 } as const;

export interface Workload {
  readonly name: string;
  /** The next operation's logical block; `op` and `temp` describe it. Returns −1 at the end of a trace. */
  next(): number;
  op: number;
  temp: number;
}

export class WorkloadError extends Error {}

/** fio's zoned: syntax: pairs access%/range%, each sum 100. */
export function parseZoned(spec: string): { access: number; range: number }[] {
  const body = spec.slice('zoned:'.length);
  const parts = body.split(':').filter((s) => s.length > 0);
  if (parts.length === 0 || parts.length > 64) throw new WorkloadError(`zoned: expects 1..64 access/range pairs, as in zoned:90/10:10/90`);
  const out = parts.map((p) => {
    const m = /^(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(p);
    if (!m) throw new WorkloadError(`zoned: pair "${p}" is not access%/range%`);
    return { access: Number(m[1]), range: Number(m[2]) };
  });
  const a = out.reduce((s, x) => s + x.access, 0);
  const r = out.reduce((s, x) => s + x.range, 0);
  if (Math.abs(a - 100) > 1e-9 || Math.abs(r - 100) > 1e-9) throw new WorkloadError(`zoned: access shares sum to ${a} and range shares to ${r}; both must be 100`);
  return out;
}

class Uniform implements Workload {
  readonly name = 'uniform';
  op: number = TraceOp.WRITE;
  temp: number = Temp.WARM;
  constructor(
    private readonly rng: Prng,
    private readonly n: number,
  ) {}
  next(): number {
    return this.rng.below(this.n);
  }
}

class Sequential implements Workload {
  readonly name = 'seq';
  op: number = TraceOp.WRITE;
  temp: number = Temp.WARM;
  private cur = 0;
  constructor(private readonly n: number) {}
  next(): number {
    const l = this.cur;
    this.cur = l + 1 === this.n ? 0 : l + 1;
    return l;
  }
}

class Zoned implements Workload {
  op: number = TraceOp.WRITE;
  temp: number = Temp.WARM;
  private readonly cumAccess: Float64Array;
  private readonly starts: Float64Array;
  private readonly sizes: Float64Array;
  private readonly hot: number;
  constructor(
    readonly name: string,
    private readonly rng: Prng,
    n: number,
  ) {
    const pairs = parseZoned(name);
    this.cumAccess = new Float64Array(pairs.length);
    this.starts = new Float64Array(pairs.length);
    this.sizes = new Float64Array(pairs.length);
    let a = 0;
    let start = 0;
    pairs.forEach((p, i) => {
      a += p.access / 100;
      this.cumAccess[i] = a;
      this.starts[i] = start;
      const size = i === pairs.length - 1 ? n - start : Math.max(1, Math.floor((p.range / 100) * n));
      this.sizes[i] = size;
      start += size;
    });
    this.cumAccess[pairs.length - 1] = 1;
    this.hot = pairs.length > 1 && pairs[0]!.access > pairs[0]!.range ? 0 : -1;
  }
  next(): number {
    const u = this.rng.nextU32() / 2 ** 32;
    let i = 0;
    while (u >= this.cumAccess[i]!) i++;
    this.temp = i === this.hot ? Temp.HOT : Temp.WARM;
    return this.starts[i]! + this.rng.below(this.sizes[i]!);
  }
}

/** Small primes near 10^6 for the rank scramble (one of them does not divide n). */
const SCRAMBLE_PRIMES = [1_000_003, 1_000_033, 1_000_037, 1_000_039];

class Zipf implements Workload {
  op: number = TraceOp.WRITE;
  temp: number = Temp.WARM;
  private readonly z: ZipfSampler;
  private readonly mul: number;
  constructor(
    readonly name: string,
    theta: number,
    private readonly rng: Prng,
    private readonly n: number,
  ) {
    this.z = new ZipfSampler(n, theta);
    this.mul = SCRAMBLE_PRIMES.find((p) => n % p !== 0)!;
  }
  next(): number {
    const rank = this.z.sample(this.rng) - 1;
    return (rank * this.mul) % this.n;
  }
}

class TraceReplay implements Workload {
  op: number = TraceOp.WRITE;
  temp: number = Temp.WARM;
  private i = 0;
  private left = 0;
  private cur = 0;
  constructor(
    readonly name: string,
    private readonly t: GcTrace,
    private readonly n: number,
  ) {}
  next(): number {
    if (this.left === 0) {
      if (this.i >= this.t.op.length) return -1;
      this.op = this.t.op[this.i]!;
      this.cur = this.t.lba[this.i]! % this.n;
      this.left = Math.max(1, this.t.blocks[this.i]!);
      this.i++;
    }
    this.left--;
    const l = this.cur;
    this.cur = l + 1 === this.n ? 0 : l + 1;
    return l;
  }
}

/** Builds a workload from its name; `trace` is the loaded trace for trace:FILE. */
export function makeWorkload(spec: string, userBlocks: number, seed: number, trace?: GcTrace): Workload {
  const rng = new Prng(seed);
  if (spec === 'uniform') return new Uniform(rng, userBlocks);
  if (spec === 'seq') return new Sequential(userBlocks);
  if (spec.startsWith('zoned:')) return new Zoned(spec, rng, userBlocks);
  if (spec.startsWith('zipf:')) {
    const theta = Number(spec.slice(5));
    if (!(theta > 0 && theta <= 10)) throw new WorkloadError(`zipf:θ needs 0 < θ ≤ 10, got "${spec.slice(5)}"`);
    return new Zipf(spec, theta, rng, userBlocks);
  }
  if (spec.startsWith('trace:')) {
    if (!trace) throw new WorkloadError('trace: workload without a loaded trace');
    return new TraceReplay(spec, trace, userBlocks);
  }
  throw new WorkloadError(`unknown workload "${spec}" (uniform, zipf:θ, zoned:a/r:…, seq, trace:FILE)`);
}
