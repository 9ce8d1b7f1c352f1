/**
 * Zipf-distributed ranks 1..n with exponent θ > 0 (θ = 1 included) in O(1) per sample, by
 * rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-inversion to generate variates
 * from monotone discrete distributions", ACM TOMACS 1996): invert the integral of the hat
 * x^−θ and accept k unless it falls in the small region where the hat exceeds the mass.
 */
import type { Prng } from '../../core/util/prng.js';

/** log1p(x)/x, with its series near 0. */
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x / 2 + (x * x) / 3;
}
/** expm1(x)/x, with its series near 0. */
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x / 2 + (x * x) / 6;
}

export class ZipfSampler {
  private readonly hX1: number;
  private readonly hN: number;
  private readonly s: number;
  constructor(
    readonly n: number,
    readonly theta: number,
  ) {
    this.hX1 = this.hIntegral(1.5) - 1;
    this.hN = this.hIntegral(n + 0.5);
    this.s = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }
  /** ∫ x^−θ, shifted so that it is continuous in θ at 1. */
  private hIntegral(x: number): number {
    const lx = Math.log(x);
    return helper2((1 - this.theta) * lx) * lx;
  }
  private h(x: number): number {
    return Math.exp(-this.theta * Math.log(x));
  }
  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.theta);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  }
  sample(rng: Prng): number {
    for (;;) {
      const u = this.hN + (rng.nextU32() / 2 ** 32) * (this.hX1 - this.hN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.s || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }
}
