/**
 * Admission control: what the target lets a peer hold before it has proven anything, and what
 * all sessions together may hold.
 *
 * - Connections that have not completed login are timed (LIO's login timeout is 15 s) and capped,
 *   per remote host and in total, well below the connection limit, so logged-in connections
 *   always have room. A new connection over a cap evicts the oldest unfinished login of the same
 *   host (or, over the total cap, the oldest of all): idle sockets cannot lock anyone out, and a
 *   flood only ever displaces its own oldest connections first.
 * - Data-Out buffered for writes waiting on R2T is capped across the whole target, besides the
 *   per-connection cap; a write over the budget is answered TASK SET FULL (SAM-5 5.3.1).
 * - A failed CHAP response is answered after a delay (the connection then ends), so secrets
 *   cannot be tried at wire speed.
 */

/** Admission limits (configurable per target; the defaults are what `copylab serve iscsi` uses). */
export interface AdmissionLimits {
  /** Time a connection may take to reach the full feature phase (LIO: 15 s). */
  readonly loginTimeoutMs: number;
  /** Connections of one remote host still logging in. */
  readonly maxPreLoginPerHost: number;
  /** Connections still logging in, all hosts together (below ISCSI_LIMITS.maxConnections). */
  readonly maxPreLogin: number;
  /** Bytes of Data-Out buffered for pending writes across the target. */
  readonly maxBufferedDataOutTotal: number;
  /** Delay before the answer to a failed CHAP response. */
  readonly chapFailureDelayMs: number;
}

export const DEFAULT_ADMISSION: AdmissionLimits = {
  loginTimeoutMs: 15_000,
  maxPreLoginPerHost: 16,
  maxPreLogin: 128,
  maxBufferedDataOutTotal: 256 * 1024 * 1024,
  chapFailureDelayMs: 500,
};

/** Bounds for configured values (a limit on the limits). */
export const ADMISSION_BOUNDS = {
  loginTimeoutMs: [10, 3_600_000],
  maxPreLoginPerHost: [1, 512],
  maxPreLogin: [1, 512],
  maxBufferedDataOutTotal: [64 * 1024 * 1024, 16 * 1024 * 1024 * 1024],
  chapFailureDelayMs: [0, 10_000],
} as const satisfies Record<keyof AdmissionLimits, readonly [number, number]>;

export function admissionLimits(o: Partial<AdmissionLimits> = {}): AdmissionLimits {
  const out = { ...DEFAULT_ADMISSION, ...o };
  for (const k of Object.keys(ADMISSION_BOUNDS) as (keyof AdmissionLimits)[]) {
    const [lo, hi] = ADMISSION_BOUNDS[k];
    const v = out[k];
    if (!Number.isSafeInteger(v) || v < lo || v > hi) throw new RangeError(`${k} must be an integer in ${lo}..${hi}`);
  }
  return out;
}

/** Connections still logging in, oldest first, by remote host. */
export class PreLoginTable<C> {
  private readonly all = new Map<C, string>();
  private readonly perHost = new Map<string, Set<C>>();

  constructor(private readonly limits: Pick<AdmissionLimits, 'maxPreLoginPerHost' | 'maxPreLogin'>) {}

  get size(): number {
    return this.all.size;
  }

  /** Adds a connection; returns those to evict to stay inside the caps (oldest first). */
  add(conn: C, host: string): C[] {
    const evict: C[] = [];
    const mine = this.perHost.get(host);
    if (mine && mine.size >= this.limits.maxPreLoginPerHost) evict.push(mine.values().next().value as C);
    else if (this.all.size >= this.limits.maxPreLogin) evict.push(this.all.keys().next().value as C);
    for (const e of evict) this.remove(e);
    this.all.set(conn, host);
    let set = this.perHost.get(host);
    if (!set) this.perHost.set(host, (set = new Set()));
    set.add(conn);
    return evict;
  }

  /** The connection finished login or closed. */
  remove(conn: C): void {
    const host = this.all.get(conn);
    if (host === undefined) return;
    this.all.delete(conn);
    const set = this.perHost.get(host)!;
    set.delete(conn);
    if (!set.size) this.perHost.delete(host);
  }
}

/** Bytes reserved for pending Data-Out across the target. */
export class DataOutBudget {
  private held = 0;
  constructor(readonly cap: number) {}

  get bytes(): number {
    return this.held;
  }

  reserve(n: number): boolean {
    if (this.held + n > this.cap) return false;
    this.held += n;
    return true;
  }

  release(n: number): void {
    this.held = Math.max(0, this.held - n);
  }
}
