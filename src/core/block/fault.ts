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

  add(op: ReqOp, errno: number, count = 1, skip = 0): void {
    if (this.rules.length >= MAX_FAULT_RULES) throw new RangeError(`at most ${MAX_FAULT_RULES} fault rules per device`);
    this.rules.push({ op, res: -Math.abs(errno), count, skip });
  }

  clear(): void {
    this.rules = [];
  }

  get active(): number {
    return this.rules.length;
  }

  /** Returns the errno to fail this bio with, or 0. */
  check(op: ReqOp): number {
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
