/**
 * blktrace's own tools read copylab's traces: `copylab trace --to-blktrace` writes the binary
 * files, blkparse counts the same events per device and action as `copylab trace --summary`, and
 * btt pairs each request's Q, D and C.
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

describe('blktrace files of copylab traces', () => {
  it('a bench run with offloaded and emulated copies: blkparse counts what --summary counts, btt pairs every request', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copylab-blktrace-'));
    writeFileSync(join(dir, 'c.fio'), '[global]\nrw=copy\nsize=8m\nio_size=2m\nbs=64k\niodepth=4\n[offload]\nfilename=/dev/nullb0\n[emulated]\nfilename=/dev/nullb1\nstonewall\n[reads]\nfilename=/dev/nullb0\nrw=randread\nbs=4k\nio_size=256k\nstonewall\n');
    const b = copylab(dir, 'bench', 'c.fio', '--scenario', join(root, 'bench/jobs/lab.yaml'), '--trace-out', 't.trace', '--output-format=json');
    expect(b.code, b.err).toBe(0);
    const jobs = JSON.parse(b.out).jobs as { jobname: string; copy: { requests: number; reasons: Record<string, number> }; read: { total_ios: number } }[];
    const emulated = jobs.find((j) => j.jobname === 'emulated')!.copy;
    expect(emulated.requests).toBe(32);

    const s = copylab(dir, 'trace', 't.trace', '--summary');
    expect(s.code).toBe(0);
    expect(s.out).not.toMatch(/Infinity|NaN/);
    // Every emulated copy of the ring engine is in the trace with its reason (was 0 of 512).
    expect(s.out).toMatch(new RegExp(`emulations \\(E\\): ${emulated.reasons.no_offload}\\b`));
    const ours = summaryCounts(s.out);
    expect(ours.get('nullb1')).toMatchObject({ Q: 32, E: 32 });
    // Each request carries its Q, D and C: 32 offloaded copies and 64 reads on nullb0.
    expect(ours.get('nullb0')).toMatchObject({ Q: 96, D: 96 });

    const { counts, inputs } = blkparseCounts(dir, 't.trace');
    expect(counts).toEqual(ours);

    // btt: blkparse's merged binary, then the Q2C and D2C of every request.
    const bt = join(dir, 'bt');
    expect(run(bt, 'blkparse', '-q', ...inputs, '-d', 'all.bin', '-O').code).toBe(0);
    const t = run(bt, 'btt', '-i', 'all.bin');
    expect(t.code, t.err).toBe(0);
    const requests = 32 + 32 + 64;
    expect(t.out).toMatch(new RegExp(`\\nQ2C\\s+\\d+\\.\\d+\\s+\\d+\\.\\d+\\s+\\d+\\.\\d+\\s+${requests}\\n`));
    expect(t.out).toMatch(new RegExp(`\\nD2C\\s+\\d+\\.\\d+\\s+\\d+\\.\\d+\\s+\\d+\\.\\d+\\s+${requests}\\n`));
    // The summary's own per-device Q2C counts the same requests.
    const q2c = [...s.out.matchAll(/^\s+Q2C\s+(\d+)\s/gm)].map((m) => Number(m[1]));
    expect(q2c.reduce((a, x) => a + x, 0)).toBe(requests);
  });

  it('a copy through dm-linear: splits and remaps read back too, remaps naming the device they came from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copylab-blktrace-dm-'));
    expect(copylab(dir, 'run', join(root, 'examples/trace-emulated-copy.yaml'), '--trace-out', 'dm.trace').code).toBe(0);
    const s = copylab(dir, 'trace', 'dm.trace', '--summary');
    const ours = summaryCounts(s.out);
    expect(ours.get('dm-0')!.X).toBeGreaterThan(0);
    expect(ours.get('dm-0')!.A).toBeGreaterThan(0);
    const { counts, out } = blkparseCounts(dir, 'dm.trace');
    expect(counts).toEqual(ours);
    // A copy's remap onto a leg: blkparse prints the device and sector it came from (dm-0 is 253,0).
    expect(out).toMatch(/^\s*259,\d+\s.*\sA\s+W\s+\d+ \+ \d+ <- \(253,0\) \d+$/m);
  });
});
