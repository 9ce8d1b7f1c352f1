/**
 * Analytic write amplification (P. Desnoyers, "Analytic Models of SSD Write Performance",
 * SYSTOR 2012 / ACM TOS 2014) for uniform random overwrites.
 *   Sf = (T − U)/T, α = T/U = 1/(1 − Sf)
 *   LRU/FIFO:  A = α / (α + W0(−α·e^(−α)))          (Eq. 4)
 *   greedy:    k = 1 + 1/(2·Np), A = lru(k·α)/k     (Np blocks per erase unit)
 */

/**
 * The principal branch W0 of the Lambert W function (w·e^w = x) for x ≥ −1/e, by Halley's
 * iteration from a branch-point series near −1/e and log-based guesses elsewhere.
 */
export function lambertW0(x: number): number {
  const E_INV = Math.exp(-1);
  if (!(x >= -E_INV)) throw new RangeError(`lambertW0: x = ${x} is below −1/e`);
  if (x === 0) return 0;
  let w: number;
  if (x < -0.25) {
    // Series about the branch point: p = sqrt(2(e·x + 1)), W ≈ −1 + p − p²/3 + 11p³/72.
    const p = Math.sqrt(2 * (Math.E * x + 1));
    w = -1 + p - (p * p) / 3 + (11 * p * p * p) / 72;
  } else if (x < 3) {
    w = Math.log1p(x) * 0.9;
  } else {
    const l1 = Math.log(x);
    w = l1 - Math.log(l1);
  }
  for (let i = 0; i < 64; i++) {
    const ew = Math.exp(w);
    const f = w * ew - x;
    const wp1 = w + 1;
    if (wp1 === 0) break;
    const dw = f / (ew * wp1 - ((w + 2) * f) / (2 * wp1));
    w -= dw;
    if (Math.abs(dw) <= 1e-15 * (1 + Math.abs(w))) break;
  }
  return w;
}

/** Desnoyers Eq. 4: LRU (FIFO) cleaning, α = T/U. */
export function wafLruAlpha(alpha: number): number {
  return alpha / (alpha + lambertW0(-alpha * Math.exp(-alpha)));
}

/** LRU/FIFO write amplification at spare factor sf. */
export function wafLru(sf: number): number {
  return wafLruAlpha(1 / (1 - sf));
}

/** Greedy cleaning with np blocks per erase unit (segment/section) at spare factor sf. */
export function wafGreedy(sf: number, np: number): number {
  const k = 1 + 1 / (2 * np);
  return wafLruAlpha(k / (1 - sf)) / k;
}
