/**
 * `copylab gc` and the commands that read its files (plot, trace). Command lines run in this
 * process (runCommand, as bin/copylab.js calls it; an escaping exception counts as the binary's
 * internal error, exit 70 with its stack), with standard output and error captured as through a
 * pipe; `gc sweep`'s pool threads run the built code (dist/), as the binary's do.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import { runInProcess, type Ran } from '../in-process.js';

/** Runs the command line in this process (test/in-process.ts), its standard output and error captured. */
const copylab = (...args: string[]): Promise<Ran> => runInProcess(args);
const tmp = (): string => mkdtempSync(join(tmpdir(), 'copylab-gc-'));

describe('copylab gc', () => {
  it('--json prints one object with the documented fields', async () => {
    const r = await copylab('gc', '--size', '128MiB', '--overwrites', '1', '--json');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    for (const k of ['waf', 'user_bytes', 'gc_moved_bytes', 'host_bytes', 'modeled_s', 'wall_s', 'policy', 'path', 'spare_factor', 'waf_desnoyers_greedy', 'p99_us', 'victim_valid_histogram']) expect(o).toHaveProperty(k);
    expect(o).toMatchObject({ policy: 'greedy', path: 'copy', spare_factor: 0.1, host_bytes: 0 });
    expect(o.waf).toBeGreaterThan(1);
  });

  it('prints WAF next to Desnoyers’ formula, and modeled time with a timing preset; --series-out writes MessagePack', async () => {
    const f = join(tmp(), 'series.mpk');
    const r = await copylab('gc', '--size', '256MiB', '--zone-size', '4MiB', '--overwrites', '1', '--path', 'host', '--timing', 'nvmevirt-zns', '--series-points', '5', '--series-out', f);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Desnoyers greedy/);
    expect(r.out).toMatch(/zoned, 64 sections of 4MiB/);
    expect(r.out).toMatch(/p99 [\d.]+ µs/);
    const saved = unpack(readFileSync(f)) as { series: { modeled_s: number; p999_us: number; max_us: number }[]; modeled_s: number; max_us: number };
    expect(saved.series).toHaveLength(5);
    expect(saved.modeled_s).toBeGreaterThan(0);
    // Each interval's longest write: at least its p99.9 (within the histogram's 3 significant
    // digits), and the run's max is the longest of them.
    for (const p of saved.series) expect(p.max_us).toBeGreaterThanOrEqual(p.p999_us * (1 - 1e-3));
    expect(Math.max(...saved.series.map((p) => p.max_us))).toBe(saved.max_us);
    // copylab plot draws the saved run: its spare factor's panel, the per-path summary and the series.
    const svg = join(tmp(), 'one.svg');
    const p = await copylab('plot', f, '-o', svg);
    expect(p.code, p.err).toBe(0);
    const text = readFileSync(svg, 'utf8');
    for (const t of ['spare factor 0.1', 'GC seconds', 'max write latency per interval (µs)']) expect(text).toContain(`>${t}<`);
  });

  it.each([
    [['--policy', 'lru'], /--policy/],
    [['--path', 'teleport'], /--path/],
    [['--spare-factor', '2'], /--spare-factor/],
    [['--size', 'big'], /--size/],
    [['--workload', 'zipf:-1'], /zipf/],
    [['--workload', 'zoned:50/10:10/90'], /zoned/],
    [['--path', 'izc'], /--path: izc needs a zoned layout/],
    [['--timing', 'warp-drive'], /--timing/],
    [['--timing', 'mqsim,read_dispatch=sideways'], /--timing: timing\.read_dispatch must be one of reserve, event, not "sideways"/],
    [['--timing', 'mqsim,issue=3'], /--timing: timing\.issue must be one of/],
    [['--dev', '/dev/nvme0n1'], /--scenario/],
    [['--workload', 'trace:/nonexistent'], /nonexistent/],
  ])('%j is a usage error (exit 2) naming the option', async (args, msg) => {
    const r = await copylab('gc', '--size', '128MiB', ...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg as RegExp);
  });

  it('--timing takes the string keys as words (issue, read_dispatch, mapping_writeback), the rest as numbers', async () => {
    const r = await copylab('gc', '--size', '1GiB', '--zone-size', '8MiB', '--overwrites', '0.2', '--timing', 'mqsim,read_dispatch=event,mapping_writeback=program,issue=die,dram_mbps=0', '--json');
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as { modeled_s: number }).modeled_s).toBeGreaterThan(0);
  });

  it('runs on a scenario device (--scenario, --dev) with its bytes verified', async () => {
    const r = await copylab('gc', '--scenario', 'examples/gc-izc.yaml', '--dev', '/dev/nvme0n1', '--path', 'izc', '--spare-factor', '0.25', '--overwrites', '0.5', '--json');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    expect(o).toMatchObject({ device: '/dev/nvme0n1', path: 'izc', zoned: true, host_bytes: 0, timing: 'nvmevirt-zns' });
    expect(o.verified_blocks).toBe(o.user_blocks);
    expect(o.modeled_s).toBeGreaterThan(0);
  });

  it('--allocation: a bad name, an untimed tag-only run, and a lab device whose model places otherwise each exit 2 naming the fix', async () => {
    let r = await copylab('gc', '--size', '128MiB', '--allocation', 'bogus');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--allocation: expected frontier\|copyback-aware/);
    r = await copylab('gc', '--size', '128MiB', '--allocation', 'copyback-aware');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/needs a timing model \(--timing\)/);
    for (const path of ['izc', 'copy']) {
      r = await copylab('gc', '--scenario', 'examples/gc-izc.yaml', '--dev', '/dev/nvme0n1', '--path', path, '--allocation', 'copyback-aware');
      expect(r.code, path).toBe(2);
      expect(r.err, path).toMatch(/set timing: \{ allocation: copyback-aware \}/);
    }
  });

  it('import-blkparse builds a trace that --workload trace:FILE replays', async () => {
    const d = tmp();
    const lines = ['  8,0    0        1     0.000000000   100  Q   W 0 + 64 [fio]', '  8,0    0        2     0.000001000   100  C   W 0 + 64 [fio]', '  8,0    0        3     0.000002000   100  Q   R 8 + 8 [fio]', '  8,0    0        4     0.000003000   100  Q   D 64 + 8 [fio]', 'CPU0 (8,0):', ' Reads Queued: 1'];
    const text: string[] = [];
    for (let i = 0; i < 2000; i++) text.push(`  8,0    0   ${i + 10}     0.0001   100  Q  WS ${(i * 7919 * 8) % 200000} + 8 [fio]`);
    writeFileSync(join(d, 'blk.txt'), [...lines, ...text].join('\n'));
    const imp = await copylab('gc', 'import-blkparse', join(d, 'blk.txt'), join(d, 't.mpk'));
    expect(imp.code).toBe(0);
    expect(imp.out).toMatch(/2003 requests \(2001 writes\)/);
    const r = await copylab('gc', '--size', '64MiB', '--spare-factor', '0.2', '--workload', `trace:${join(d, 't.mpk')}`, '--overwrites', '1', '--json');
    expect(r.code).toBe(0);
    // 8 blocks, then 2000 one-block writes; the read and the discard write nothing.
    expect(JSON.parse(r.out).user_bytes).toBe((8 + 2000) * 4096);
  });

  it('import-blkparse counts the lines it skips and refuses a file with nothing usable (exit 2, naming the first unusable line)', async () => {
    const d = tmp();
    const out = join(d, 't.mpk');
    const q = (n: number, rwbs: string, sector: number, sectors: number) => `  8,0    0   ${n}     0.0001   100  Q  ${rwbs} ${sector} + ${sectors} [fio]`;
    writeFileSync(join(d, 'mixed.txt'), [q(1, 'W', 0, 8), q(2, 'FN', 0, 0), '', 'CPU0 (8,0):', q(3, 'W', 8, 0)].join('\n'));
    const ok = await copylab('gc', 'import-blkparse', join(d, 'mixed.txt'), out);
    expect(ok.code).toBe(0);
    expect(ok.out).toBe(`1 request (1 write) → ${out}; 3 lines skipped (the first, line 2: FN is neither a read, a write nor a discard: "8,0    0   2     0.0001   100  Q"…)\n`);
    const refused = async (name: string, text: string, message: RegExp) => {
      writeFileSync(join(d, name), text);
      const r = await copylab('gc', 'import-blkparse', join(d, name), join(d, `${name}.mpk`));
      expect(r.code, name).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      // Nothing is written for a refused import.
      expect(() => readFileSync(join(d, `${name}.mpk`))).toThrow(/ENOENT/);
    };
    await refused('text.txt', 'hello\nworld\n', /text\.txt: no usable Q events; the first unusable line is line 1: not a blkparse event: "hello" \(2 unusable lines\)/);
    await refused('c-only.txt', '  8,0    0        1     0.000000000   100  C   W 0 + 64 [fio]\n', /c-only\.txt: no Q events \(1 event of other actions: --action picks which to take\)/);
    await refused('empty.txt', '\n\n', /empty\.txt: no blkparse events \(the file is empty\)/);
  });

  it('gc sweep runs a grid on the worker pool and prints a table; copylab plot draws its results file', async () => {
    const dir = tmp();
    const r = await copylab('gc', 'sweep', '--size', '64MiB', '--overwrites', '1', '--policies', 'greedy,cost-benefit', '--spare-factors', '0.2', '--results-out', join(dir, 'r.mpk'));
    expect(r.code).toBe(0);
    expect(r.out.match(/(greedy|cost-benefit)\s+│ copy/g)).toHaveLength(2);
    expect(r.out).toMatch(/Desnoyers greedy/);
    // Untimed runs at one spare factor: the per-path summary of bytes and commands.
    const p = await copylab('plot', join(dir, 'r.mpk'), '-o', join(dir, 'r.svg'));
    expect(p.code, p.err).toBe(0);
    const svg = readFileSync(join(dir, 'r.svg'), 'utf8');
    for (const t of ['spare factor 0.2', 'GC commands', 'host MiB']) expect(svg).toContain(`>${t}<`);
    expect(svg).not.toContain('>GC seconds<');
    // A MessagePack file of another shape names the first wrong field, exit 2.
    writeFileSync(join(dir, 'bad.mpk'), pack({ results: [{ ...(unpack(readFileSync(join(dir, 'r.mpk'))) as { results: object[] }).results[0], path: 'teleport' }] }));
    const bad = await copylab('plot', join(dir, 'bad.mpk'), '-o', join(dir, 'bad.svg'));
    expect(bad.code).toBe(2);
    expect(bad.err).toBe(`copylab: ${join(dir, 'bad.mpk')}: results[0].path: not one of host, copy, append, izc\n`);
  });

  it('--trace-out on a lab device streams the run\'s block-layer events; copylab trace reads them back', async () => {
    const dir = tmp();
    const scenario = join(dir, 'lab.yaml');
    writeFileSync(scenario, 'devices:\n  - { kind: nullblk, name: nullb0, size: 64MiB, lbs: 4096, backing: memory, copy_max_hw_bytes: 1MiB }\n');
    const file = join(dir, 'gc.trace');
    const r = await copylab('gc', '--scenario', scenario, '--dev', '/dev/nullb0', '--path', 'copy', '--spare-factor', '0.25', '--overwrites', '0.5', '--trace-out', file, '--json');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out) as { gc_commands?: number; victims: number };
    expect(o.victims).toBeGreaterThan(0);
    const s = await copylab('trace', file, '--summary');
    expect(s.code).toBe(0);
    // Every GC copy is queued (Q) as a copy (CP) and its pieces issued (D) and completed (C) on nullb0.
    expect(s.out).toMatch(/queued by op: CP=\d+/);
    expect(s.out).toMatch(/nullb0\s+\d+/);
    const lines = await copylab('trace', file, '--op', 'CP', '--action', 'Q');
    expect(lines.code).toBe(0);
    expect(lines.out.trim().split('\n').length).toBeGreaterThan(0);
    // The tag-only device has no block layer: refused with exit 2, naming the option.
    const t = await copylab('gc', '--size', '64MiB', '--trace-out', join(dir, 'x.trace'));
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/--trace-out/);
  });

  it('trace and blkparse inputs are read with a limit: a character device is refused with exit 2, nothing read', async () => {
    const dir = tmp();
    let r = await copylab('gc', 'import-blkparse', '/dev/zero', join(dir, 'o.trace'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/character device/);
    r = await copylab('gc', '--size', '64MiB', '--workload', 'trace:/dev/zero');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/character device/);
  });
});
