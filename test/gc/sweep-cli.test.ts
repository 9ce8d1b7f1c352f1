import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { GC_DEFAULTS } from '../../src/app/gc/options.js';
import { runSweepPoint, failedPoint } from '../../src/app/gc/sweep-point.js';

function copylab(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const lines = (out: string): Record<string, unknown>[] => out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('copylab gc sweep', () => {
  it('a point that cannot run is a row with its one-line error, the others run, and the sweep exits 2 (not an internal error)', () => {
    const grid = ['gc', 'sweep', '--size', '64MiB', '--overwrites', '1', '--policies', 'greedy', '--spare-factors', '0.15,0.3'];
    const t = copylab(...grid);
    expect(t.code).toBe(2);
    expect(t.out).toMatch(/│ Sf +│ WAF .*│ GC s +│ p99\.9 µs │ max µs │ wall s │ error/);
    expect(t.out).toMatch(/│ uniform +│ greedy +│ copy +│ 0\.15 +│ - +│ .*│ refused: --spare-factor: 0\.15 leaves no room for GC: the/);
    // An untimed run has no modeled figures: '-' where they would be.
    expect(t.out).toMatch(/│ uniform +│ greedy +│ copy +│ 0\.3 +│ \d\.\d{3} +│.*│ - +│ - +│ - +│ - +│ \d+\.\d +│ +│/);
    expect(t.err).toMatch(/^copylab gc sweep: uniform greedy copy Sf 0\.15: --spare-factor: 0\.15 leaves no room for GC: the user space needs more than 27 of 32 sections\n$/);
    const j = copylab(...grid, '--json');
    expect(j.code).toBe(2);
    const [bad, good] = lines(j.out);
    expect(bad).toEqual({ workload: 'uniform', policy: 'greedy', path: 'copy', spare_factor: 0.15, error: '--spare-factor: 0.15 leaves no room for GC: the user space needs more than 27 of 32 sections', error_kind: 'usage' });
    expect(good).toMatchObject({ spare_factor: 0.3, policy: 'greedy' });
    expect(good!.waf).toBeGreaterThan(1);
  });

  it('a point whose run fails is a failed point (exit 1 class); an error no check names is reported, not thrown', async () => {
    const o = { ...GC_DEFAULTS, size: 64 * 1024 ** 2, spareFactor: 0.3, overwrites: 0.5, inject: { kind: 'drop' as const, at: 10 } };
    const p = await runSweepPoint({ options: o });
    expect(p).toMatchObject({ error_kind: 'failed', spare_factor: 0.3, error: expect.stringMatching(/^verify: lba \d+ at physical \d+ holds nothing/) });
    expect(failedPoint(o, new TypeError('x is undefined'))).toMatchObject({ error_kind: 'failed', error: 'internal error: x is undefined' });
  });

  it('--scenario F --dev D runs every point on the device with real bytes, in a lab of its own, with the same table and JSON', () => {
    const args = ['gc', 'sweep', '--scenario', 'examples/gc-izc.yaml', '--dev', '/dev/nvme0n1', '--paths', 'host,izc', '--overwrites', '0.3'];
    const j = copylab(...args, '--json');
    expect(j.code).toBe(0);
    expect(j.err).toMatch(/note: from the scenario's gc step on \/dev\/nvme0n1: --policies greedy, --spare-factors 0\.25/);
    const [host, izc] = lines(j.out);
    for (const r of [host!, izc!]) {
      expect(r).toMatchObject({ device: '/dev/nvme0n1', timing: 'nvmevirt-zns', spare_factor: 0.25, policy: 'greedy' });
      expect(r.verified_blocks).toBe(r.user_blocks);
      expect(r.gc_modeled_s).toBeGreaterThan(0);
    }
    expect(host).toMatchObject({ path: 'host' });
    expect(host!.host_bytes).toBeGreaterThan(0);
    expect(izc).toMatchObject({ path: 'izc', host_bytes: 0 });
    // The same runs, one at a time, give the same figures.
    const one = JSON.parse(copylab('gc', '--scenario', 'examples/gc-izc.yaml', '--dev', '/dev/nvme0n1', '--path', 'izc', '--overwrites', '0.3', '--json').out) as Record<string, unknown>;
    for (const k of ['waf', 'commands', 'modeled_s', 'gc_modeled_s', 'p999_us', 'max_us']) expect(izc![k], k).toBe(one[k]);
  });

  it('--scenario F --dev D: a device that cannot take a point stops the sweep before any runs (exit 2); no queue', () => {
    let r = copylab('gc', 'sweep', '--scenario', 'examples/gc-izc.yaml', '--dev', '/dev/nope');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--dev: no device \/dev\/nope in the scenario/);
    r = copylab('gc', 'sweep', '--scenario', 'examples/quickstart.yaml', '--dev', '/dev/nullb0', '--paths', 'izc', '--spare-factors', '0.25');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--path: izc needs a zoned NVMe namespace/);
    r = copylab('gc', 'sweep', '--scenario', 'examples/gc-izc.yaml', '--dev', '/dev/nvme0n1', '--queue', 'redis://127.0.0.1:1');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--queue: a sweep on a scenario device runs on this machine/);
  });
});
