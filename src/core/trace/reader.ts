/** Reads a trace file record by record (streamed: memory does not grow with the file). */
import { createReadStream } from 'node:fs';
import { UnpackrStream } from 'msgpackr';
import { TRACE_FORMAT, type TraceHeader } from './writer.js';
import type { TraceRecord } from './record.js';
import type { TraceAction } from '../block/trace.js';
import type { ReqOp } from '../block/ops.js';

export class TraceFileError extends Error {}

const ACTIONS = new Set(['Q', 'X', 'A', 'D', 'C', 'E']);

function toRecord(o: Record<string, unknown>, n: number): TraceRecord {
  const num = (k: string): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TraceFileError(`record ${n}: field '${k}' is not a number`);
    return v;
  };
  const a = o.a;
  if (typeof a !== 'string' || !ACTIONS.has(a)) throw new TraceFileError(`record ${n}: bad action ${String(a)}`);
  if (typeof o.d !== 'string') throw new TraceFileError(`record ${n}: bad device`);
  return {
    wns: num('w'),
    ...(o.m !== undefined ? { mns: num('m') } : {}),
    dev: o.d,
    action: a as TraceAction,
    op: num('o') as ReqOp,
    sector: num('s'),
    sectors: num('n'),
    ...(o.r !== undefined ? { res: num('r') } : {}),
    ...(typeof o.i === 'string' ? { info: o.i } : {}),
    ...(o.q !== undefined ? { req: num('q') } : {}),
  };
}

/** Yields the header first (checked), then every record. */
export async function* readTrace(path: string): AsyncGenerator<TraceHeader | TraceRecord> {
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 }).pipe(new UnpackrStream({ sequential: true }));
  let n = 0;
  try {
    for await (const o of stream as AsyncIterable<unknown>) {
      if (typeof o !== 'object' || o === null) throw new TraceFileError(`record ${n}: not a record`);
      if (n === 0) {
        const h = o as Partial<TraceHeader>;
        if (h.format !== TRACE_FORMAT) throw new TraceFileError(`${path}: not a copylab trace file`);
        yield h as TraceHeader;
      } else yield toRecord(o as Record<string, unknown>, n);
      n++;
    }
  } catch (err) {
    if (err instanceof TraceFileError) throw err;
    throw new TraceFileError(`${path}: ${(err as Error).message}`);
  }
  if (n === 0) throw new TraceFileError(`${path}: empty trace file`);
}
