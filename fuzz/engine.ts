/**
 * The fuzz engine: runs fuzz targets for a number of cases from one seed, checks their
 * invariants, and reports. Everything a case does comes from a seeded PRNG (src/core/util/prng.ts),
 * so a failure replays exactly with the same seed and case count (`npm run fuzz -- --seed S
 * --cases N --only TARGET`). Invariants every target shares: no exception escapes the code
 * under test, no case hangs (each has a deadline), the target's own checks (canary LUs and
 * namespaces unchanged, nothing written by a rejected command, bounded state) hold, and the
 * heap does not grow with the number of cases.
 */
import { Prng } from '../src/core/util/prng.js';

/** One fuzz target: a system under test and a way to throw one case at it. */
export interface FuzzTarget<S = unknown> {
  readonly name: string;
  /** What the target throws at the system (for the report). */
  readonly what: string;
  /** Share of the cases this target gets (weights are normalized). */
  readonly weight: number;
  setup(rng: Prng): Promise<S>;
  /** Runs one case; throws FuzzFailure (or anything) when an invariant breaks. */
  one(s: S, rng: Prng, index: number): Promise<void>;
  /** Checks invariants over the whole state (canaries, bounded tables); run every `checkEvery` cases and at the end. */
  check(s: S): Promise<void>;
  teardown(s: S): Promise<void>;
}

export class FuzzFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzFailure';
  }
}

export function invariant(ok: unknown, message: string): asserts ok {
  if (!ok) throw new FuzzFailure(message);
}

export interface FuzzOptions {
  readonly seed: number;
  readonly cases: number;
  /** Target names to run (default all). */
  readonly only?: readonly string[];
  /** Deadline of one case (a hang is a failure). */
  readonly caseTimeoutMs?: number;
  readonly checkEvery?: number;
  /** Heap growth (bytes) tolerated between warm-up and the end of a target's run. */
  readonly maxHeapGrowth?: number;
  readonly progress?: (line: string) => void;
}

export interface TargetReport {
  readonly name: string;
  readonly what: string;
  readonly cases: number;
  readonly ms: number;
  readonly heapGrowthMiB: number;
  readonly failure: string | null;
  /** The case that failed, replayable with the run's seed. */
  readonly failedCase: number | null;
}

export interface FuzzReport {
  readonly seed: number;
  readonly cases: number;
  readonly targets: readonly TargetReport[];
  readonly ok: boolean;
}

/** A per-target seed derived from the run's seed and the target's name (adding a target changes no other). */
export function targetSeed(seed: number, name: string): number {
  let h = seed >>> 0;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 0x9e3779b1) >>> 0;
  return h;
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new FuzzFailure(`hang: ${what} did not finish in ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const heap = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
};

export async function runFuzz(targets: readonly FuzzTarget[], o: FuzzOptions): Promise<FuzzReport> {
  const chosen = targets.filter((t) => !o.only || o.only.includes(t.name));
  const totalWeight = chosen.reduce((n, t) => n + t.weight, 0);
  const caseTimeout = o.caseTimeoutMs ?? 5000;
  const checkEvery = o.checkEvery ?? 500;
  const maxGrowth = o.maxHeapGrowth ?? 96 * 1024 * 1024;
  const reports: TargetReport[] = [];
  for (const t of chosen) {
    const n = Math.max(1, Math.round((o.cases * t.weight) / totalWeight));
    const rng = new Prng(targetSeed(o.seed, t.name));
    const t0 = performance.now();
    let failure: string | null = null;
    let failedCase: number | null = null;
    let heapStart = 0;
    let heapEnd = 0;
    const s = await t.setup(rng);
    try {
      for (let i = 0; i < n; i++) {
        if (i === Math.floor(n / 10)) heapStart = heap();
        failedCase = i;
        await withDeadline(t.one(s, rng, i), caseTimeout, `${t.name} case ${i}`);
        if ((i + 1) % checkEvery === 0) {
          await withDeadline(t.check(s), caseTimeout, `${t.name} check after case ${i}`);
          o.progress?.(`${t.name}: ${i + 1}/${n}`);
        }
      }
      await withDeadline(t.check(s), caseTimeout, `${t.name} final check`);
      failedCase = null;
      heapEnd = heap();
      const growth = heapEnd - heapStart;
      invariant(growth <= maxGrowth, `memory: heap grew ${(growth / 2 ** 20).toFixed(1)} MiB over the run (limit ${maxGrowth / 2 ** 20} MiB)`);
    } catch (err) {
      failure = err instanceof FuzzFailure ? err.message : `exception: ${(err as Error)?.stack ?? String(err)}`;
    } finally {
      await withDeadline(t.teardown(s), 10_000, `${t.name} teardown`).catch((e: unknown) => {
        failure ??= `teardown: ${String(e)}`;
      });
    }
    reports.push({
      name: t.name, what: t.what, cases: failedCase === null ? n : failedCase + 1, ms: performance.now() - t0,
      heapGrowthMiB: (heapEnd - heapStart) / 2 ** 20, failure, failedCase,
    });
  }
  return { seed: o.seed, cases: reports.reduce((m, r) => m + r.cases, 0), targets: reports, ok: reports.every((r) => !r.failure) };
}
