/**
 * `copylab trace FILE [--dev D] [--action A] [--op OP] [--summary] [--to-blktrace DIR]`: a trace
 * file, blkparse-style, summarised like btt, or written as blktrace's binary files.
 */
import type { Command } from 'commander';
import { readTrace, TraceFileError } from '../../../core/trace/reader.js';
import { TraceSummary } from '../../../core/trace/summary.js';
import { formatTraceLine } from '../../../core/block/trace.js';
import { OP_RWBS } from '../../../core/block/ops.js';
import type { TraceRecord } from '../../../core/trace/record.js';
import { EXIT_OK, EXIT_USAGE, type SetExit } from '../common.js';
import { BlktraceError, BlktraceWriter } from '../../../core/trace/blktrace.js';
import { OutputError } from '../../../core/util/output-file.js';
import { accessSync, constants, statSync } from 'node:fs';

interface TraceCliOptions {
  dev?: string[];
  action?: string;
  op?: string[];
  summary?: boolean;
  modeled?: boolean;
  toBlktrace?: string;
}

/** --to-blktrace DIR must be a folder we may write in (checked before reading the trace). */
function checkFolder(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw new OutputError(dir, 'ENOTDIR', false);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    if (err instanceof OutputError) throw err;
    throw new OutputError(dir, (err as NodeJS.ErrnoException).code ?? 'EIO', false);
  }
}

const ACTIONS = 'QXADCE';

async function trace(file: string, opts: TraceCliOptions): Promise<number> {
  const actions = opts.action?.toUpperCase();
  if (actions !== undefined && (actions === '' || [...actions].some((a) => !ACTIONS.includes(a)))) {
    process.stderr.write(`copylab: --action: '${opts.action}' must be letters of ${ACTIONS}\n`);
    return EXIT_USAGE;
  }
  const ops = opts.op?.map((o) => o.toUpperCase());
  const known = new Set(Object.values(OP_RWBS));
  const badOp = ops?.find((o) => !known.has(o));
  if (badOp) {
    process.stderr.write(`copylab: --op: '${badOp}' is not one of ${[...known].join(', ')}\n`);
    return EXIT_USAGE;
  }
  const devs = opts.dev?.map((d) => d.replace(/^\/dev\/(mapper\/)?/, ''));
  const keep = (r: TraceRecord): boolean =>
    (!devs || devs.includes(r.dev)) && (!actions || actions.includes(r.action)) && (!ops || ops.includes(OP_RWBS[r.op]));
  if (opts.toBlktrace !== undefined) checkFolder(opts.toBlktrace);
  const summary = new TraceSummary();
  const blk = opts.toBlktrace !== undefined ? new BlktraceWriter(opts.toBlktrace, (r) => (opts.modeled ? (r.mns ?? NaN) : r.wns)) : undefined;
  let first = true;
  let out: string[] = [];
  let n = 0;
  try {
    for await (const r of readTrace(file)) {
      if (first) {
        first = false;
        continue;
      }
      n++;
      const rec = r as TraceRecord;
      if (!keep(rec)) continue;
      if (blk) {
        try {
          blk.add(rec);
        } catch (err) {
          if (err instanceof BlktraceError) throw new TraceFileError(`${file}: record ${n}: ${err.message}${opts.modeled ? ' (--modeled needs modeled time in every record)' : ''}`);
          throw err;
        }
      }
      if (opts.summary) summary.add(rec);
      else if (!blk) {
        out.push(formatTraceLine(rec, opts.modeled && rec.mns !== undefined ? rec.mns : rec.wns, 8));
        if (out.length >= 1024) {
          process.stdout.write(out.join('\n') + '\n');
          out = [];
        }
      }
    }
  } catch (err) {
    blk?.close();
    if (err instanceof TraceFileError) {
      process.stderr.write(`copylab: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
  if (blk) {
    blk.close();
    if (blk.error) throw blk.error;
    // The files, the device numbers blkparse will print, and the events each holds.
    for (const d of blk.devices()) {
      const counts = [...(blk.counts.get(d.name) ?? [])].map(([k, v]) => `${k}=${v}`).join(' ');
      process.stdout.write(`${d.file}  ${d.devno}  ${counts}\n`);
    }
  }
  if (opts.summary) {
    summary.finish();
    process.stdout.write(summary.format() + '\n');
  }
  return EXIT_OK;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerTrace(program: Command, setExit: SetExit): void {
  program
    .command('trace <file>')
    .description('print a trace file (--trace-out of run or bench) blkparse-style, or summarise it like btt')
    .option('--dev <device>', 'only this device (repeatable)', collect)
    .option('--action <letters>', `only these actions (letters of ${ACTIONS})`)
    .option('--op <rwbs>', 'only this operation, as blktrace spells it: R, W, D, F, WZ, CP (repeatable)', collect)
    .option('--modeled', 'print (or with --to-blktrace write) modeled time instead of wall time')
    .option('--summary', 'counts per action and device, Q2C latency, btt\'s Q2D, D2C, Q2C per device, splits, remaps, emulation reasons')
    .option('--to-blktrace <dir>', 'write blktrace\'s binary files into DIR (DEV.blktrace.0 per device) for blkparse -i and btt; --modeled writes modeled time')
    .action(async (file: string, opts: TraceCliOptions) => setExit(await trace(file, opts)));
}
