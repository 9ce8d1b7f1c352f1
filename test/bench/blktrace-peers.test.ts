/**
 * blktrace's own tools read copylab's traces: `copylab trace --to-blktrace` writes the binary
 * files, blkparse counts the same events per device and action as `copylab trace --summary` (its
 * lines and its own per-device totals), a request completes once, and btt pairs as many Q2C and
 * D2C as the summary does.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = process.cwd();
function run(cwd: string, cmd: string, ...args: string[]) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const copylab = (cwd: string, ...args: string[]) => run(cwd, process.execPath, join(root, 'bin/copylab.js'), ...args);
const ACTIONS = ['Q', 'X', 'A', 'D', 'C', 'E'] as const;

/** The summary's per-device table: device → action → count. */
function summaryCounts(text: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  const table = text.split('per device:\n')[1]!.split('\n\n')[0]!.split('\n').slice(1);
  for (const line of table) {
    const [dev, ...n] = line.trim().split(/\s+/);
    out.set(dev!, Object.fromEntries(ACTIONS.map((a, i) => [a, Number(n[i])])));
  }
  return out;
}

/** Converts a trace, runs blkparse on every file, and counts its lines per device and action (m for messages). */
function blkparseCounts(dir: string, trace: string): { counts: Map<string, Record<string, number>>; inputs: string[]; out: string } {
  const bt = join(dir, 'bt');
  mkdirSync(bt);
  const c = copylab(dir, 'trace', trace, '--to-blktrace', bt);
  expect(c.code, c.err).toBe(0);
  // "nullb0.blktrace.0  259,0  Q=96 D=96 C=128": device name ↔ the number blkparse prints.
  const files = c.out.trim().split('\n').map((l) => l.split(/\s+/) as [string, string]);
  const nameOf = new Map(files.map(([f, devno]) => [devno, f.replace(/\.blktrace\.0$/, '')]));
  const inputs = [...nameOf.values()].flatMap((n) => ['-i', n]);
  const p = run(bt, 'blkparse', ...inputs);
  expect(p.code, p.err).toBe(0);
  const counts = new Map<string, Record<string, number>>();
  for (const line of p.out.split('\n')) {
    const m = /^\s*(\d+,\d+)\s+\d+\s+\d+\s+\d+\.\d{9}\s+\d+\s+(\S+)\s/.exec(line);
    if (!m) continue;
    const dev = nameOf.get(m[1]!)!;
    const a = m[2] === 'm' ? 'E' : m[2]!;
    const row = counts.get(dev) ?? Object.fromEntries(ACTIONS.map((x) => [x, 0]));
    row[a] = (row[a] ?? 0) + 1;
    counts.set(dev, row);
  }
  return { counts, inputs, out: p.out };
}

/** blkparse's closing totals per device: queued, dispatched and completed, reads and writes, count and KiB. */
interface BlkparseTotals {
  readonly queued: readonly [number, number, number, number];
  readonly dispatched: readonly [number, number, number, number];
  readonly completed: readonly [number, number, number, number];
}

function blkparseTotals(out: string): Map<string, BlkparseTotals> {
  const totals = new Map<string, BlkparseTotals>();
  const row = (block: string, reads: string, writes: string): [number, number, number, number] => {
    const m = new RegExp(`${reads}:\\s+(\\d+),\\s+(\\d+)KiB\\s+${writes}:\\s+(\\d+),\\s+(\\d+)KiB`).exec(block);
    expect(m, `${reads} in ${block}`).not.toBeNull();
    return [Number(m![1]), Number(m![2]), Number(m![3]), Number(m![4])];
  };
  for (const m of out.matchAll(/^CPU0 \((\S+)\):\n((?: .*\n)+)/gm)) {
    const block = m[2]!;
    totals.set(m[1]!, { queued: row(block, 'Reads Queued', 'Writes Queued'), dispatched: row(block, 'Read Dispatches', 'Write Dispatches'), completed: row(block, 'Reads Completed', 'Writes Completed') });
  }
  return totals;
}

/** btt's "All Devices" count of an interval (0 when btt prints no such row). */
function bttCount(out: string, name: 'Q2C' | 'Q2Cdm' | 'D2C'): number {
  const m = new RegExp(`\\n${name}\\s+\\d+\\.\\d+\\s+\\d+\\.\\d+\\s+\\d+\\.\\d+\\s+(\\d+)\\n`).exec(out);
  return m ? Number(m[1]) : 0;
}

/** The summary's per-device Q2D, D2C and Q2C counts (wall time), summed over devices. */
function summaryIntervals(text: string): Record<'Q2D' | 'D2C' | 'Q2C', number> {
  const wall = text.split('per device, wall time')[1]!.split('per device, modeled time')[0]!;
  const sum = (name: string): number => [...wall.matchAll(new RegExp(`\\s${name}\\s+(\\d+)\\s`, 'g'))].reduce((a, m) => a + Number(m[1]), 0);
  return { Q2D: sum('Q2D'), D2C: sum('D2C'), Q2C: sum('Q2C') };
}

/** blkparse's totals agree with the summary's counts per device: Q queued, D dispatched, C completed. */
function expectTotalsMatch(totals: Map<string, BlkparseTotals>, ours: Map<string, Record<string, number>>): void {
  expect([...totals.keys()].sort()).toEqual([...ours.keys()].sort());
  for (const [dev, t] of totals) {
    const o = ours.get(dev)!;
    expect({ dev, Q: t.queued[0] + t.queued[2], D: t.dispatched[0] + t.dispatched[2], C: t.completed[0] + t.completed[2] }).toEqual({ dev, Q: o.Q, D: o.D, C: o.C });
  }
}

describe('blktrace files of copylab traces', () => {
  it('a bench run with offloaded and emulated copies: blkparse counts what --summary counts, each copy completes once, btt pairs as the summary does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copylab-blktrace-'));
    // emulated-split: one 4 MiB copy the engine emulates in max_hw_sectors pieces (a request without an issue of its own extent).
    writeFileSync(join(dir, 'c.fio'), '[global]\nrw=copy\nsize=8m\nio_size=2m\nbs=64k\niodepth=4\n[offload]\nfilename=/dev/nullb0\n[emulated]\nfilename=/dev/nullb1\nstonewall\n[emulated-split]\nfilename=/dev/nullb1\nbs=4m\nio_size=4m\niodepth=1\nstonewall\n[reads]\nfilename=/dev/nullb0\nrw=randread\nbs=4k\nio_size=256k\nstonewall\n');
    const b = copylab(dir, 'bench', 'c.fio', '--scenario', join(root, 'bench/jobs/lab.yaml'), '--trace-out', 't.trace', '--output-format=json');
    expect(b.code, b.err).toBe(0);
    const jobs = JSON.parse(b.out).jobs as { jobname: string; copy: { requests: number; pieces: number; reasons: Record<string, number> }; read: { total_ios: number } }[];
    const emulated = jobs.find((j) => j.jobname === 'emulated')!.copy;
    expect(emulated.requests).toBe(32);
    const split = jobs.find((j) => j.jobname === 'emulated-split')!.copy;
    expect(split.requests).toBe(1);
    expect(split.pieces).toBeGreaterThan(1);

    const s = copylab(dir, 'trace', 't.trace', '--summary');
    expect(s.code).toBe(0);
    expect(s.out).not.toMatch(/Infinity|NaN/);
    // Every emulated copy of the ring engine is in the trace with its reason (was 0 of 512).
    expect(s.out).toMatch(new RegExp(`emulations \\(E\\): ${emulated.reasons.no_offload! + split.reasons.no_offload!}\\b`));
    const ours = summaryCounts(s.out);
    // Each request carries its Q, D and C, and completes once: 32 offloaded copies and 64 reads on nullb0.
    expect(ours.get('nullb0')).toMatchObject({ Q: 96, D: 96, C: 96 });
    // nullb1: each 64 KiB copy is one read and one write, the write its completion; the split copy's pieces, then its own C.
    expect(ours.get('nullb1')).toMatchObject({ Q: 33, D: 64 + 2 * split.pieces, C: 64 + 2 * split.pieces + 1, E: 32 + split.pieces });

    const { counts, inputs, out } = blkparseCounts(dir, 't.trace');
    expect(counts).toEqual(ours);
    const totals = blkparseTotals(out);
    expectTotalsMatch(totals, ours);
    // A copy is one write completion in blkparse's totals (it was two: the device's and the copy engine's).
    expect(totals.get('nullb0')!.completed).toEqual(totals.get('nullb0')!.queued);

    // btt: blkparse's merged binary, then the Q2C and D2C of every request that has them.
    const bt = join(dir, 'bt');
    expect(run(bt, 'blkparse', '-q', ...inputs, '-d', 'all.bin', '-O').code).toBe(0);
    const t = run(bt, 'btt', '-i', 'all.bin');
    expect(t.code, t.err).toBe(0);
    const requests = 32 + 32 + 1 + 64;
    const intervals = summaryIntervals(s.out);
    expect(intervals.Q2C).toBe(requests);
    // The split copy has no issue of its own extent: no D2C in btt, none in the summary (it had one, btt one fewer).
    expect(intervals.D2C).toBe(requests - 1);
    expect(intervals.Q2D).toBe(intervals.D2C);
    expect({ Q2C: bttCount(t.out, 'Q2C'), D2C: bttCount(t.out, 'D2C') }).toEqual({ Q2C: intervals.Q2C, D2C: intervals.D2C });
  });

  it('a copy through dm-linear: splits and remaps read back too, remaps naming the device they came from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copylab-blktrace-dm-'));
    expect(copylab(dir, 'run', join(root, 'examples/trace-emulated-copy.yaml'), '--trace-out', 'dm.trace').code).toBe(0);
    const s = copylab(dir, 'trace', 'dm.trace', '--summary');
    const ours = summaryCounts(s.out);
    expect(ours.get('dm-0')!.X).toBeGreaterThan(0);
    expect(ours.get('dm-0')!.A).toBeGreaterThan(0);
    const { counts, out, inputs } = blkparseCounts(dir, 'dm.trace');
    expect(counts).toEqual(ours);
    expectTotalsMatch(blkparseTotals(out), ours);
    // btt and the summary agree: one Q2C (btt's Q2Cdm, a dm device's), no D2C (the copy ran as pieces).
    const bt = join(dir, 'bt');
    expect(run(bt, 'blkparse', '-q', ...inputs, '-d', 'all.bin', '-O').code).toBe(0);
    const t = run(bt, 'btt', '-i', 'all.bin');
    expect(t.code, t.err).toBe(0);
    const intervals = summaryIntervals(s.out);
    expect(intervals).toEqual({ Q2D: 0, D2C: 0, Q2C: 1 });
    expect({ Q2C: bttCount(t.out, 'Q2Cdm'), D2C: bttCount(t.out, 'D2C') }).toEqual({ Q2C: 1, D2C: 0 });
    // A copy's remap onto a leg: blkparse prints the device and sector it came from (dm-0 is 253,0).
    expect(out).toMatch(/^\s*259,\d+\s.*\sA\s+W\s+\d+ \+ \d+ <- \(253,0\) \d+$/m);
  });
});
