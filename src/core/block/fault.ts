/**
 * Fault injection at the block layer, in one place for every driver (the kernel's
 * fail_make_request / should_fail_bio idea): a rule fails matching bios with an errno.
 * Deterministic: rules count bios, they do not roll dice unless given a seeded probability.
 */
import type { ReqOp } from './ops.js';

export interface FaultRule {
  readonly op: ReqOp;
  /** Negative errno the bio completes with. */
  readonly res: number;
  /** Matching bios to let through before failing. */
  skip: number;
  /** Matching bios to fail; Infinity for all. */
  count: number;
}

/** Rules per device; a limit on everything. */
export const MAX_FAULT_RULES = 64;

export class FaultInjector {
  private rules: FaultRule[] = [];
  /** Bios of any op still let through before the device stops (a power cut); null: not armed. */
  private stopIn: number | null = null;
  private stopRes = 0;

  add(op: ReqOp, errno: number, count = 1, skip = 0): void {
    if (this.rules.length >= MAX_FAULT_RULES) throw new RangeError(`at most ${MAX_FAULT_RULES} fault rules per device`);
    this.rules.push({ op, res: -Math.abs(errno), count, skip });
  }

  /**
   * A power cut: `n` more bios of any op reach the device, then every bio fails with `errno`
   * until clear() (a crash test then reads what the medium holds).
   */
  stopAfter(n: number, errno: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`stopAfter: ${n} is not a bio count`);
    this.stopIn = n;
    this.stopRes = -Math.abs(errno);
  }

  /** Bios still let through before the power cut (null when none is armed). */
  get stopCountdown(): number | null {
    return this.stopIn;
  }

  /** Whether a power cut has stopped the device. */
  get stopped(): boolean {
    return this.stopIn === 0;
  }

  clear(): void {
    this.rules = [];
    this.stopIn = null;
  }

  get active(): number {
    return this.rules.length + (this.stopIn !== null ? 1 : 0);
  }

  /** Returns the errno to fail this bio with, or 0. */
  check(op: ReqOp): number {
    if (this.stopIn !== null) {
      if (this.stopIn === 0) return this.stopRes;
      this.stopIn--;
    }
    if (this.rules.length === 0) return 0;
    for (const r of this.rules) {
      if (r.op !== op) continue;
      if (r.skip > 0) {
        r.skip--;
        continue;
      }
      r.count--;
      if (r.count <= 0) this.rules = this.rules.filter((x) => x !== r);
      return r.res;
    }
    return 0;
  }
}
