/**
 * Trace files: every trace event as a compact msgpack record (msgpackr with `sequential`
 * structures: each record shape is written once, then records are arrays of values), streamed
 * to disk in batches. Memory stays bounded by the batch size however long the run; the file
 * starts with a header record naming the format.
 *
 * Reusable by any command that traces (run, bench, gc): `openTraceFile(path)` gives a sink to pass
 * where a Trace or the bench engine takes one, and `close()` when done. The file is opened and its
 * header written when the sink is made (an unwritable path or a full device throws an OutputError
 * then); a write that fails during the run stops the trace and is kept in `error` for the command
 * to report when the run is done.
 */
import { Packr } from 'msgpackr';
import type { TraceRecord, TraceSink } from './record.js';
import { OutputStream, type OutputError } from '../util/output-file.js';

/** The header's format name and version. */
export const TRACE_FORMAT = 'copylab-trace';
export const TRACE_VERSION = 1;
/** Bytes buffered before a write (the writer's memory bound). */
export const TRACE_BATCH_BYTES = 64 * 1024;

/** Short keys on disk (records are small; msgpackr stores each shape's keys once anyway). */
export const KEYS = { wns: 'w', mns: 'm', dev: 'd', action: 'a', op: 'o', sector: 's', sectors: 'n', res: 'r', info: 'i', req: 'q', from: 'f', fromSector: 'g' } as const;

export interface TraceHeader {
  readonly format: typeof TRACE_FORMAT;
  readonly version: number;
  readonly started: string;
  readonly command: string;
}

export class TraceWriter implements TraceSink {
  private readonly out: OutputStream;
  private readonly packr = new Packr({ sequential: true });
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private readonly t0 = process.hrtime.bigint();
  private req = 0;
  /** Events written so far. */
  count = 0;
  private closed = false;

  /** `modeledNow` reads the lab's modeled clock (ns), when it has one. */
  constructor(readonly path: string, command: string, private modeledNow?: () => number) {
    const header: TraceHeader = { format: TRACE_FORMAT, version: TRACE_VERSION, started: new Date().toISOString(), command };
    this.out = OutputStream.open(path, this.packr.pack(header));
  }

  /** The write error that stopped the trace, if one did (the events after it are dropped). */
  get error(): OutputError | undefined {
    return this.out.error;
  }

  /** Sets (or replaces) the modeled clock once the lab exists. */
  setModeledClock(now: (() => number) | undefined): void {
    this.modeledNow = now;
  }

  nextRequest(): number {
    return ++this.req;
  }

  event(e: Omit<TraceRecord, 'wns'>): void {
    if (this.closed || this.out.error) return;
    const rec: Record<string, number | string> = { w: Number(process.hrtime.bigint() - this.t0) };
    const m = e.mns ?? this.modeledNow?.();
    if (m !== undefined) rec.m = m;
    rec.d = e.dev;
    rec.a = e.action;
    rec.o = e.op;
    rec.s = e.sector;
    rec.n = e.sectors;
    if (e.res !== undefined) rec.r = e.res;
    if (e.info !== undefined) rec.i = e.info;
    if (e.req !== undefined) rec.q = e.req;
    if (e.from !== undefined) rec.f = e.from;
    if (e.fromSector !== undefined) rec.g = e.fromSector;
    this.push(this.packr.pack(rec));
    this.count++;
  }

  private push(b: Uint8Array): void {
    this.batch.push(b);
    this.batchBytes += b.length;
    if (this.batchBytes >= TRACE_BATCH_BYTES) this.flush();
  }

  flush(): void {
    if (!this.batchBytes) return;
    this.out.write(Buffer.concat(this.batch, this.batchBytes));
    this.batch = [];
    this.batchBytes = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.out.close();
  }
}

/** Opens a trace file for a command; the caller closes it. */
export function openTraceFile(path: string, command: string, modeledNow?: () => number): TraceWriter {
  return new TraceWriter(path, command, modeledNow);
}
