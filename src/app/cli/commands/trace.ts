/** `copylab trace FILE [--dev D] [--action A] [--op OP] [--summary]`: a trace file, blkparse-style. */
import type { Command } from 'commander';
import { readTrace, TraceFileError } from '../../../core/trace/reader.js';
import { TraceSummary } from '../../../core/trace/summary.js';
import { formatTraceLine } from '../../../core/block/trace.js';
import { OP_RWBS } from '../../../core/block/ops.js';
import type { TraceRecord } from '../../../core/trace/record.js';
import { EXIT_OK, EXIT_USAGE, type SetExit } from '../common.js';

interface TraceCliOptions {
  dev?: string[];
  action?: string;
  op?: string[];
  summary?: boolean;
  modeled?: boolean;
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
  const summary = new TraceSummary();
  let first = true;
  let out: string[] = [];
  try {
    for await (const r of readTrace(file)) {
      if (first) {
        first = false;
        continue;
      }
      const rec = r as TraceRecord;
      if (!keep(rec)) continue;
      if (opts.summary) summary.add(rec);
      else {
        out.push(formatTraceLine(rec, opts.modeled && rec.mns !== undefined ? rec.mns : rec.wns, 8));
        if (out.length >= 1024) {
          process.stdout.write(out.join('\n') + '\n');
          out = [];
        }
      }
    }
  } catch (err) {
    if (err instanceof TraceFileError) {
      process.stderr.write(`copylab: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
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
    .option('--modeled', 'print modeled time instead of wall time where the trace has it')
    .option('--summary', 'counts per action and device, Q2C latency, splits, remaps, emulation reasons')
    .action(async (file: string, opts: TraceCliOptions) => setExit(await trace(file, opts)));
}
