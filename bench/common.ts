/** Shared bench plumbing: run tinybench tasks and report medians, bytes/s and ratios. */
import { Bench } from 'tinybench';
import Table from 'cli-table3';
import { Lab } from '../src/app/lab.js';
import { formatRate, formatSize } from '../src/core/util/size.js';

export const MiB = 1024 * 1024;
export const KiB = 1024;

export interface Measured {
  readonly name: string;
  /** Median time per operation, ms. */
  readonly ms: number;
  /** Relative margin of error of the mean, %. */
  readonly rme: number;
  readonly samples: number;
}

/** Runs each task for about `timeMs` and returns the median latency per task. */
export async function measure(tasks: [string, () => unknown][], timeMs: number): Promise<Map<string, Measured>> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(100, timeMs / 2) });
  for (const [name, fn] of tasks) bench.add(name, fn);
  await bench.run();
  const out = new Map<string, Measured>();
  for (const t of bench.tasks) {
    const r = t.result;
    if (r.state !== 'completed') throw new Error(`${t.name}: ${r.state === 'errored' ? r.error.message : r.state}`);
    out.set(t.name, { name: t.name, ms: r.latency.p50 ?? r.latency.mean, rme: r.latency.rme, samples: r.latency.samples?.length ?? 0 });
  }
  return out;
}

export function rate(bytes: number, ms: number): string {
  return formatRate(bytes / (ms / 1000));
}

export { formatSize };

/** A table that is compact, and plain (no colour codes) when stdout is not a terminal. */
export function table(head: string[], colAligns: ('left' | 'right')[]): Table.Table {
  const plain = !process.stdout.isTTY;
  return new Table({
    head,
    colAligns,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: plain ? { head: [], border: [] } : { head: ['cyan'], border: ['grey'] },
  });
}

/** A lab with one offload-capable and one offload-less nullblk, memory-backed, same geometry. */
export function benchLab(size: number): Lab {
  const lab = new Lab();
  lab.addNullBlk({ name: 'nullb0', size, lbs: 4096, backing: 'memory', copy_max_hw_bytes: 128 * MiB, domain: 'bench' });
  lab.addNullBlk({ name: 'nullb1', size, lbs: 4096, backing: 'memory', copy_max_hw_bytes: 0 });
  return lab;
}

/** Parses --time=MS style flags. */
export function flag(name: string, fallback: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  const v = a ? Number(a.split('=')[1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}
