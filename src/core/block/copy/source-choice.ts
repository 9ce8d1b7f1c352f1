/**
 * Choosing among the copies of a source. A target with several readable copies of its data (a
 * raid1 leg per in-sync device) lets a copy read any of them; the copy engine picks, per piece
 * and per destination device, the copy that device can offload from: the one whose remap ends on
 * devices that reach the destination in hardware (one copy domain, the driver's consent: NVMe
 * descriptor formats 2/3 and CDFE, a SCSI copy manager's reach). Among equals it prefers the
 * destination's own device (a leg copies from itself, nothing crosses devices), then table order.
 * Emulation is left only where no copy can be offloaded, with the reason of each.
 */
import type { BlockDevice } from '../device.js';
import type { EmulationReason } from './types.js';
import type { LowerLocation } from '../remap.js';
import { offloadRefusal } from './plan.js';
import type { Trace } from '../trace.js';
import { formatSize } from '../../util/size.js';

/** What the remap walk needs of a trace: a place to add events. */
export type TraceLike = Pick<Trace, 'add'>;

/** Trace events of a trial remap, kept until the trial is chosen (then replayed) or dropped. */
export class TraceRecorder implements TraceLike {
  private readonly calls: Parameters<Trace['add']>[] = [];
  add(...args: Parameters<Trace['add']>): void {
    this.calls.push(args);
  }
  replay(into: TraceLike): void {
    for (const c of this.calls) into.add(...c);
  }
}

/** A part of a planned copy as the choice sees it: raw (device to device) or already emulated. */
export interface ChoicePart {
  readonly kind: 'raw' | 'emulate';
  readonly src: LowerLocation;
  readonly dst: LowerLocation;
  readonly length: number;
  readonly reason?: EmulationReason;
}

/** One candidate source copy, remapped to the bottom on trial. */
export interface Trial<P extends ChoicePart> {
  readonly copy: LowerLocation;
  readonly parts: P[];
  readonly recorder: TraceRecorder;
  /** Bytes of raw parts whose bottom destination can offload from their bottom source. */
  readonly offloadable: number;
  /** Why the first part that cannot be offloaded is not, or null when every part can. */
  readonly refusal: EmulationReason | null;
}

export function trial<P extends ChoicePart>(copy: LowerLocation, run: (recorder: TraceRecorder, parts: P[]) => void): Trial<P> {
  const recorder = new TraceRecorder();
  const parts: P[] = [];
  run(recorder, parts);
  let offloadable = 0;
  let refusal: EmulationReason | null = null;
  for (const p of parts) {
    const why = p.kind === 'emulate' ? p.reason ?? null : offloadRefusal(p.dst.dev, p.src.dev);
    if (why === null) offloadable += p.length;
    else refusal ??= why;
  }
  return { copy, parts, recorder, offloadable, refusal };
}

/**
 * The candidates in the order they are preferred when they offload as much: the destination's
 * own device first, then as the target listed them.
 */
export function preferenceOrder(copies: readonly LowerLocation[], dst: BlockDevice): LowerLocation[] {
  return [...copies.filter((c) => c.dev === dst), ...copies.filter((c) => c.dev !== dst)];
}

/** The trial that offloads the most bytes; the first of equals (trials are in preference order). */
export function best<P extends ChoicePart>(trials: readonly Trial<P>[]): Trial<P> {
  let pick = trials[0]!;
  for (const t of trials) if (t.offloadable > pick.offloadable) pick = t;
  return pick;
}

/** The trace note of a choice: which copy, and why not the others. */
export function choiceInfo<P extends ChoicePart>(target: string, chosen: Trial<P>, trials: readonly Trial<P>[], dst: BlockDevice, length: number): string {
  const n = trials.length;
  const what = `${target ? `${target} ` : ''}source ${chosen.copy.dev.name} (one of ${n} copies)`;
  const how = chosen.offloadable === length ? `offloads to ${dst.name}${chosen.copy.dev === dst ? ' (its own device)' : ''}` : `offloads ${formatSize(chosen.offloadable)} of ${formatSize(length)} to ${dst.name}`;
  const others = trials.filter((t) => t !== chosen && t.refusal).map((t) => `not ${t.copy.dev.name}: ${t.refusal!.detail}`);
  return `${what}: ${how}${others.length ? `; ${others.join('; ')}` : ''}`;
}

/** The reason when no copy of the source can be offloaded to `dst`: each candidate's own. */
export function noCopyReason<P extends ChoicePart>(target: string, trials: readonly Trial<P>[], dst: BlockDevice): EmulationReason {
  const first = trials.find((t) => t.refusal)?.refusal;
  const each = trials.map((t) => `${t.copy.dev.name}: ${t.refusal?.detail ?? 'no offload'}`).join('; ');
  return { code: first?.code ?? 'cross_domain', detail: `no ${target || 'source'} copy can be offloaded to ${dst.name} (${each})` };
}
