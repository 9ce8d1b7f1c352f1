/** One trace event as trace files store it, and the sink that receives events as they happen. */
import type { TraceAction } from '../block/trace.js';
import type { ReqOp } from '../block/ops.js';

export interface TraceRecord {
  /** Wall nanoseconds since the trace started. */
  readonly wns: number;
  /** Modeled nanoseconds on the lab's clock, when the lab has one. */
  readonly mns?: number;
  readonly dev: string;
  readonly action: TraceAction;
  readonly op: ReqOp;
  readonly sector: number;
  readonly sectors: number;
  /** Completion result (bytes or negative errno). */
  readonly res?: number;
  /** Split piece, remap origin, emulation reason. */
  readonly info?: string;
  /** A remap (A): the device and sector it came from. */
  readonly from?: string;
  readonly fromSector?: number;
  /** Which request the event belongs to (a run's step, a bench job's I/O), for Q→C pairing. */
  readonly req?: number;
}

export interface TraceSink {
  /** Records one event; the sink stamps `wns`, and `mns` when the caller gives none. */
  event(e: Omit<TraceRecord, 'wns'>): void;
  /** A new request id for grouping events. */
  nextRequest(): number;
}
