/**
 * Random block choice for random_distribution (HOWTO): uniform, zipf (Gray et al.'s generator, as
 * fio's lib/zipf.c uses), pareto (fio's power form), normal, zoned and zoned_abs. Hot blocks of
 * zipf and pareto are scattered over the range by a hash, as fio does, so they are not all at
 * the start of the device. Every choice comes from the job's seeded PRNG.
 */
import { Prng } from '../../core/util/prng.js';
import type { Distribution } from './job.js';

/** Terms summed for zipf's zeta(n, θ) (fio caps its generation range the same way). */
export const ZIPF_MAX_TERMS = 1_000_000;

export type BlockPicker = () => number;

/** A picker of block indices in [0, blocks). */
export function makePicker(dist: Distribution, blocks: number, blockBytes: number, rng: Prng): BlockPicker {
  const uniform = (): number => rng.nextU32() / 2 ** 32;
  switch (dist.kind) {
    case 'random':
      return () => rng.below(blocks);
    case 'zipf': {
      const n = Math.min(blocks, ZIPF_MAX_TERMS);
      const theta = dist.theta;
      let zetan = 0;
      for (let i = 1; i <= n; i++) zetan += Math.pow(i, -theta);
      const zeta2 = 1 + Math.pow(2, -theta);
      const alpha = 1 / (1 - theta);
      const eta = (1 - Math.pow(2 / n, 1 - theta)) / (1 - zeta2 / zetan);
      return () => {
        const u = uniform();
        const uz = u * zetan;
        let rank: number;
        if (uz < 1) rank = 0;
        else if (uz < 1 + Math.pow(0.5, theta)) rank = 1;
        else rank = Math.min(n - 1, Math.floor(n * Math.pow(eta * u - eta + 1, alpha)));
        return scatter(rank, blocks);
      };
    }
    case 'pareto': {
      const pow = Math.log(dist.h) / Math.log(1 - dist.h);
      return () => scatter(Math.min(blocks - 1, Math.floor((blocks - 1) * Math.pow(uniform(), pow))), blocks);
    }
    case 'normal': {
      const sd = (dist.dev / 100) * blocks;
      return () => {
        // Box-Muller around the middle of the range, clamped into it.
        const z = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
        return Math.max(0, Math.min(blocks - 1, Math.floor(blocks / 2 + z * sd)));
      };
    }
    case 'zoned':
    case 'zoned_abs': {
      const zones: { pct: number; first: number; count: number }[] = [];
      let first = 0;
      for (const z of dist.zones) {
        const count = dist.kind === 'zoned'
          ? Math.floor((blocks * (z as { rangePct: number }).rangePct) / 100)
          : Math.floor((z as { bytes: number }).bytes / blockBytes);
        const c = Math.max(1, Math.min(count, blocks - first));
        if (first < blocks) zones.push({ pct: z.pct, first, count: c });
        first += c;
      }
      return () => {
        let p = uniform() * 100;
        for (const z of zones) {
          if (p < z.pct || z === zones[zones.length - 1]) return z.first + rng.below(z.count);
          p -= z.pct;
        }
        return rng.below(blocks);
      };
    }
  }
}

/** A fixed permutation-like scatter of ranks over [0, blocks): multiplicative hashing. */
function scatter(rank: number, blocks: number): number {
  // Knuth's golden-ratio multiplier; rank 0 (the hottest) lands somewhere fixed but not at 0.
  const h = Math.imul(rank + 1, 0x9e3779b1) >>> 0;
  return (h + rank * 0x10000) % blocks;
}
