/**
 * The lab's one clock: modeled time and a discrete-event scheduler (docs/timing.md).
 *
 * Devices with a timing model compute when a command completes and ask the clock to run its
 * completion then (`at`). Two modes:
 * - `virtual`: modeled time advances by itself whenever the JavaScript host has nothing left to
 *   do at the current instant (every promise continuation has run), jumping straight to the next
 *   event. Host code takes zero modeled time, so a run is as fast as the host computes and the
 *   same inputs give the same modeled times.
 * - `realtime`: an event fires when wall time reaches it, as FEMU and NVMeVirt pace completions,
 *   so a real initiator (iSCSI) sees device latency.
 *
 * Events at the same instant run in the order they were scheduled. Work that leaves the thread
 * and will come back with a result (a device worker, an IOSQE_ASYNC punt) takes a `hold()`, so
 * the clock does not move past it in virtual mode; `release()` lets it go on.
 *
 * The virtual pump waits for the microtask queue to drain by scheduling a microtask that
 * schedules a process.nextTick: Node runs nextTicks only after V8 has emptied the microtask
 * queue (lib/internal/process/task_queues.js, processTicksAndRejections), so a promise chain
 * started by a completion runs to its end, submitting whatever it submits at the same modeled
 * time, before the clock moves. Every PUMP_YIELD_EVENTS events (or PUMP_YIELD_MS of wall time)
 * it yields one macrotask turn so timers, sockets and signals are served.
 */

export type ClockMode = 'virtual' | 'realtime';
export const CLOCK_MODES: readonly ClockMode[] = ['virtual', 'realtime'];

export interface ClockOptions {
  readonly mode?: ClockMode;
}

/** Events pending at once (a limit on everything): about 1 M outstanding commands. */
export const CLOCK_MAX_EVENTS = 1 << 22;
/** Virtual pump: events fired between two yields to the event loop. */
const PUMP_YIELD_EVENTS = 4096;
/** Virtual pump: wall milliseconds between two yields to the event loop. */
const PUMP_YIELD_MS = 20;
/** Virtual pump: the wall clock is read every this many arms (a read costs as much as an arm). */
const PUMP_CLOCK_EVERY = 64;
/** A settled promise: `.then` on it queues a microtask without queueMicrotask's per-call async resource. */
const SETTLED = Promise.resolve();
/** Realtime: events closer than this are waited for by polling turns instead of a timer. */
const REALTIME_SPIN_NS = 1_000_000;

/** Nanoseconds as the clock counts them; doubles hold integers exactly up to 2^53 ns (104 days). */
export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;

export class Clock {
  readonly mode: ClockMode;
  private modeled = 0;
  // A binary min-heap on (time, id) in parallel arrays: no object per event on the hot path. An
  // event's id is its scheduling sequence number, so ties fire in the order they were scheduled.
  private times: number[] = [];
  private ids: number[] = [];
  private fns: (() => void)[] = [];
  /** Ids cancelled but still in the heap (dropped when they reach its top). */
  private readonly cancelled = new Set<number>();
  private nextSeq = 0;
  private holds = 0;
  private armed = false;
  /** Whether an event's callback is running, and that event's time. (Two fields rather than a
   *  number-or-null: a field that may hold null boxes every time stored in it.) */
  private firing = false;
  private firingAt = 0;
  /** Realtime: the modeled time the pending timer was set for (an earlier event re-arms it). */
  private timerFor = Infinity;
  private firedSinceYield = 0;
  private lastYield = 0;
  private arms = 0;
  private readonly wallStart = process.hrtime.bigint();
  private timer: NodeJS.Timeout | null = null;
  /** Events fired since the clock started. */
  fired = 0;

  constructor(options: ClockOptions = {}) {
    const mode = options.mode ?? 'virtual';
    if (!CLOCK_MODES.includes(mode)) throw new RangeError(`clock mode must be virtual or realtime, not ${String(mode)}`);
    this.mode = mode;
  }

  /** Modeled nanoseconds since the clock started. In realtime mode, wall time (never behind an event that fired). */
  now(): number {
    // Inside an event's callback it is that event's time, in both modes: work an event starts
    // (the next step of a copy, a completion it schedules) is timed from when the event was due,
    // so in realtime the host's lateness (timer jitter, CPU) does not add up from step to step.
    if (this.firing) return this.firingAt;
    if (this.mode === 'realtime') {
      const wall = this.wallNs();
      if (wall > this.modeled) this.modeled = wall;
    }
    return this.modeled;
  }

  /** Wall nanoseconds since the clock started. */
  wallNs(): number {
    return Number(process.hrtime.bigint() - this.wallStart);
  }

  /** Events scheduled and not yet fired or cancelled. */
  get pending(): number {
    return this.times.length - this.cancelled.size;
  }

  /** Outstanding holds (work off the thread that the virtual clock waits for). */
  get held(): number {
    return this.holds;
  }

  /** Runs fn at modeled time t (a time in the past runs at now). Returns an id for cancel(). */
  at(t: number, fn: () => void): number {
    if (!Number.isFinite(t)) throw new RangeError(`event time must be finite, not ${t}`);
    if (this.times.length >= CLOCK_MAX_EVENTS) throw new RangeError(`at most ${CLOCK_MAX_EVENTS} events may be pending`);
    // Not before now: inside an event's callback that is the event's time (see now()).
    const floor = this.firing ? this.firingAt : this.modeled;
    const when = t < floor ? floor : t;
    const id = ++this.nextSeq;
    this.push(when, id, fn);
    if (this.timer && when < this.timerFor) {
      // Realtime: the timer waits for a later event; this one must not wait for it.
      clearTimeout(this.timer);
      this.timer = null;
      this.armed = false;
    }
    this.arm();
    return id;
  }

  after(dt: number, fn: () => void): number {
    return this.at(this.now() + Math.max(0, dt), fn);
  }

  /** Cancels a pending event; false when it already fired or was cancelled. (A scan: cancels are rare.) */
  cancel(id: number): boolean {
    if (this.cancelled.has(id) || !this.ids.includes(id)) return false;
    this.cancelled.add(id); // dropped when it reaches the top of the heap
    return true;
  }

  /** Resolves at modeled time now + dt. */
  sleep(dt: number): Promise<void> {
    return new Promise((resolve) => this.after(dt, resolve));
  }

  /** Work that left the thread and will come back: the virtual clock does not advance meanwhile. */
  hold(): void {
    this.holds++;
  }

  release(): void {
    if (this.holds <= 0) throw new Error('clock released more often than held');
    this.holds--;
    if (this.holds === 0) this.arm();
  }

  /**
   * Fires due events synchronously in time order until none is left or maxEvents have fired;
   * for callback-driven loops that do not await (and tests). Returns how many fired. Ignores
   * holds; in realtime mode it fires only events that are due.
   */
  runUntilIdle(maxEvents = Number.MAX_SAFE_INTEGER): number {
    let n = 0;
    while (this.times.length > 0 && n < maxEvents) {
      if (this.mode === 'realtime' && this.times[0]! > this.now()) break;
      if (this.fireOne()) n++;
    }
    return n;
  }

  /** Modeled time of the next event, or null. */
  nextEventTime(): number | null {
    this.dropCancelledTop();
    return this.times.length > 0 ? this.times[0]! : null;
  }

  // ── scheduling ──

  private arm(): void {
    if (this.armed || this.holds > 0 || this.times.length === 0) return;
    this.armed = true;
    if (this.mode === 'virtual') {
      if (this.firedSinceYield >= PUMP_YIELD_EVENTS || this.yieldDue()) {
        this.firedSinceYield = 0;
        this.lastYield = performance.now();
        setImmediate(this.pump);
      } else {
        void SETTLED.then(this.deferToTick);
      }
      return;
    }
    const wait = this.times[0]! - this.now();
    if (wait > REALTIME_SPIN_NS) {
      this.timerFor = this.times[0]!;
      this.timer = setTimeout(this.pump, Math.max(0, Math.floor((wait - REALTIME_SPIN_NS) / NS_PER_MS)));
    } else {
      setImmediate(this.pump);
    }
  }

  /** PUMP_YIELD_MS of wall time have passed since the last yield (looked at every PUMP_CLOCK_EVERY arms). */
  private yieldDue(): boolean {
    if (++this.arms % PUMP_CLOCK_EVERY !== 0) return false;
    return performance.now() - this.lastYield > PUMP_YIELD_MS;
  }

  private readonly deferToTick = (): void => {
    process.nextTick(this.pump);
  };

  private readonly pump = (): void => {
    this.armed = false;
    this.timer = null;
    if (this.holds > 0) return;
    if (this.mode === 'virtual') {
      // All events of the earliest instant, then let the host react before time moves on.
      this.dropCancelledTop();
      if (this.times.length === 0) return;
      const t = this.times[0]!;
      while (this.times.length > 0 && this.times[0]! === t && this.holds === 0) {
        if (this.fireOne()) this.firedSinceYield++;
      }
    } else {
      const now = this.now();
      while (this.times.length > 0 && this.times[0]! <= now) this.fireOne();
    }
    this.arm();
  };

  /** Pops the earliest event, advances modeled time to it, runs it; false for a cancelled one. */
  private fireOne(): boolean {
    const t = this.times[0]!;
    const id = this.ids[0]!;
    const fn = this.fns[0]!;
    this.pop();
    if (this.cancelled.size > 0 && this.cancelled.delete(id)) return false;
    if (t > this.modeled) this.modeled = t;
    this.fired++;
    const outer = this.firing;
    const outerAt = this.firingAt;
    this.firing = true;
    this.firingAt = t;
    try {
      fn();
    } finally {
      this.firing = outer;
      this.firingAt = outerAt;
    }
    return true;
  }

  private dropCancelledTop(): void {
    while (this.cancelled.size > 0 && this.ids.length > 0 && this.cancelled.delete(this.ids[0]!)) this.pop();
  }

  // ── the heap ── (sifts move a hole rather than swapping three arrays at every level)

  private push(t: number, id: number, fn: () => void): void {
    const times = this.times;
    const ids = this.ids;
    const fns = this.fns;
    let i = times.length;
    times.push(t);
    ids.push(id);
    fns.push(fn);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p]!;
      if (pt < t || (pt === t && ids[p]! < id)) break;
      times[i] = pt;
      ids[i] = ids[p]!;
      fns[i] = fns[p]!;
      i = p;
    }
    times[i] = t;
    ids[i] = id;
    fns[i] = fn;
  }

  private pop(): void {
    const times = this.times;
    const ids = this.ids;
    const fns = this.fns;
    const t = times.pop()!;
    const id = ids.pop()!;
    const fn = fns.pop()!;
    const n = times.length;
    if (n === 0) return;
    // The last element sinks from the root.
    let i = 0;
    for (;;) {
      let m = 2 * i + 1;
      if (m >= n) break;
      const r = m + 1;
      if (r < n && (times[r]! < times[m]! || (times[r] === times[m] && ids[r]! < ids[m]!))) m = r;
      const mt = times[m]!;
      if (t < mt || (t === mt && id < ids[m]!)) break;
      times[i] = mt;
      ids[i] = ids[m]!;
      fns[i] = fns[m]!;
      i = m;
    }
    times[i] = t;
    ids[i] = id;
    fns[i] = fn;
  }

  /** Stops a pending realtime timer (the lab is closing). Pending events are dropped. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.times = [];
    this.fns = [];
    this.ids = [];
    this.cancelled.clear();
  }
}
