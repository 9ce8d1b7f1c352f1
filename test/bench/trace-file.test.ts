import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function copylab(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A trace line without its time column (wall times differ between the two printings). */
const untimed = (line: string) => line.trim().split(/\s+/).filter((_, i) => i !== 1).join(' ');

describe('trace files (msgpack)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'copylab-trace-'));

  it('an emulated copy through a dm stack round-trips: copylab trace prints the events --trace prints, and the summary matches the run', () => {
    const file = join(dir, 'copy.trace');
    const run = copylab('run', 'examples/trace-emulated-copy.yaml', '--trace', '--trace-out', file);
    expect(run.code).toBe(0);
    const printed = run.out.split('\n').filter((l) => /^\S+\s+\d+\.\d{9}\s+[QXADCE]\s/.test(l)).map(untimed);
    expect(printed.length).toBeGreaterThan(500);
    const t = copylab('trace', file);
    expect(t.code).toBe(0);
    expect(t.out.trim().split('\n').map(untimed)).toEqual(printed);

    const json = copylab('run', 'examples/trace-emulated-copy.yaml', '--json');
    const copy = json.out.trim().split('\n').map((l) => JSON.parse(l)).find((s) => s.kind === 'copy');
    const s = copylab('trace', file, '--summary');
    expect(s.code).toBe(0);
    // Every emulated piece of the run is one E event with its reason.
    const emulated = copy.pieces - copy.offloaded_pieces;
    expect(emulated).toBeGreaterThan(0);
    expect(s.out).toMatch(new RegExp(`emulations \\(E\\): ${emulated}\\b`));
    expect(s.out).toMatch(new RegExp(`emulation reasons: no_offload=${emulated}\\b`));
    expect(s.out).toMatch(/queued by op: CP=1\b/);
    expect(s.out).toMatch(/Q2C latency per request/);
    // Records are compact: well under 64 bytes an event.
    expect(statSync(file).size / printed.length).toBeLessThan(64);
  });

  it('filters by device, action and op', () => {
    const file = join(dir, 'f.trace');
    expect(copylab('run', 'examples/dm-linear.yaml', '--trace-out', file).code).toBe(0);
    const e = copylab('trace', file, '--dev', '/dev/nullb1', '--action', 'DC', '--op', 'CP');
    expect(e.code).toBe(0);
    const lines = e.out.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^nullb1\s+\S+\s+[DC]\s+CP\s/);
  });

  it('refuses a file that is not a trace and a bad filter', () => {
    const bad = join(dir, 'bad.trace');
    writeFileSync(bad, 'not msgpack at all');
    expect(copylab('trace', bad).code).toBe(2);
    expect(copylab('trace', bad, '--action', 'Z').err).toMatch(/--action/);
  });

  it('--summary of a trace without Q events prints - for the latencies, never Infinity or NaN', () => {
    const file = join(dir, 'quiet.trace');
    // A scenario whose only step reads sysfs: the trace file holds its header and no events.
    const scenario = join(dir, 'quiet.yaml');
    writeFileSync(scenario, 'devices: [ { kind: nullblk, name: nullb0, size: 1MiB } ]\nsteps: [ { sysfs: { read: /sys/block/nullb0/queue/copy_max_hw_bytes } } ]\n');
    expect(copylab('run', scenario, '--trace-out', file).code).toBe(0);
    const s = copylab('trace', file, '--summary');
    expect(s.code).toBe(0);
    expect(s.out).not.toMatch(/Infinity|NaN/);
    expect(s.out).toMatch(/^events: 0$/m);
    expect(s.out).toMatch(/^actions: -$/m);
    expect(s.out).toMatch(/^  wall +0 +- +- +- +- +-$/m);
  });

  it('bench --trace-out records each request\'s Q, D and C', () => {
    const file = join(dir, 'bench.trace');
    const job = join(dir, 'r.fio');
    writeFileSync(job, '[r]\nfilename=/dev/nullb0\nrw=randread\nsize=4m\nio_size=256k\niodepth=4\n');
    expect(copylab('bench', job, '--trace-out', file).code).toBe(0);
    const s = copylab('trace', file, '--summary');
    expect(s.out).toMatch(/actions: Q=64 D=64 C=64$/m);
    expect(s.out).toMatch(/wall\s+64\s/);
    // btt's intervals per device: every request has its Q2D, D2C and Q2C.
    for (const m of ['Q2D', 'D2C', 'Q2C']) expect(s.out).toMatch(new RegExp(`${m}\\s+64\\s`));
    expect(s.out).not.toMatch(/Infinity|NaN/);
  });
});
