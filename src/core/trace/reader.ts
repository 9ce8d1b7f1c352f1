/**
 * Reads a trace file record by record (streamed: memory does not grow with the file). A file that
 * cannot be read (missing, a directory, a device, no permission) or is not a trace is a
 * TraceFileError naming it.
 */
import { createReadStream } from 'node:fs';
import { BoundedReadError, isStdin, openInput } from '../util/read-bounded.js';
import { shownValue } from '../util/escaped-prefix.js';
import { UnpackrStream } from 'msgpackr';
import { TRACE_FORMAT, type TraceHeader } from './writer.js';
import type { TraceRecord } from './record.js';
import type { TraceAction } from '../block/trace.js';
import type { ReqOp } from '../block/ops.js';

export class TraceFileError extends Error {}

const ACTIONS = new Set(['Q', 'X', 'A', 'D', 'C', 'E', 'M']);

function toRecord(o: Record<string, unknown>, where: string): TraceRecord {
  const num = (k: string): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TraceFileError(`${where}: field '${k}' is not a number`);
    return v;
  };
  const a = o.a;
  if (typeof a !== 'string' || !ACTIONS.has(a)) throw new TraceFileError(`${where}: bad action ${shownValue(a)}`);
  if (typeof o.d !== 'string') throw new TraceFileError(`${where}: bad device`);
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
    ...(typeof o.f === 'string' ? { from: o.f } : {}),
    ...(o.g !== undefined ? { fromSector: num('g') } : {}),
  };
}

/** Yields the header first (checked), then every record. */
export async function* readTrace(path: string): AsyncGenerator<TraceHeader | TraceRecord> {
  let fd: number;
  try {
    fd = openInput(path).fd;
  } catch (err) {
    if (err instanceof BoundedReadError) throw new TraceFileError(`${path}: ${err.message}`);
    throw err;
  }
  const source = createReadStream('', { fd, autoClose: !isStdin(path), highWaterMark: 64 * 1024 });
  const stream = new UnpackrStream({ sequential: true });
  // pipe() does not pass a read error on: end the decoder with it, so the loop below sees it.
  source.on('error', (err) => stream.destroy(err));
  source.pipe(stream);
  let n = 0;
  try {
    for await (const o of stream as AsyncIterable<unknown>) {
      if (typeof o !== 'object' || o === null) throw new TraceFileError(`${path}: ${n === 0 ? 'not a copylab trace file' : `record ${n}: not a record`}`);
      if (n === 0) {
        const h = o as Partial<TraceHeader>;
        if (h.format !== TRACE_FORMAT) throw new TraceFileError(`${path}: not a copylab trace file`);
        yield h as TraceHeader;
      } else yield toRecord(o as Record<string, unknown>, `${path}: record ${n}`);
      n++;
    }
  } catch (err) {
    if (err instanceof TraceFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    // The decoder's own message is not repeated: it may quote the file's bytes.
    throw new TraceFileError(`${path}: ${code?.startsWith('E') ? `cannot read: ${code}` : n === 0 ? 'not a copylab trace file' : `record ${n}: not MessagePack`}`);
  } finally {
    source.destroy();
  }
  if (n === 0) throw new TraceFileError(`${path}: empty trace file`);
}
