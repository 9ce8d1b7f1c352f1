import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

// Runs the built command as a user would (npm test builds dist/ before vitest runs).
function copylab(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('copylab dmsetup and compare-strategies', () => {
  it('dmsetup ls, table, status and create against a scenario lab', () => {
    expect(copylab('dmsetup', 'examples/dm-stack.yaml', 'ls').out).toMatch(/^l0\t\(253:0\)\nl1\t\(253:1\)\nm0\t\(253:2\)/);
    expect(copylab('dmsetup', 'examples/dm-raid1.yaml', 'table', 'mirror').out).toBe('0 32768 raid raid1 3 0 region_size 1024 2 - /dev/nullb0 - /dev/nullb1\n');
    expect(copylab('dmsetup', 'examples/dm-raid5.yaml', 'status').out).toBe('r5: 0 32768 raid raid5_ls 3 AAA 32768/32768 idle 0\n');
    const c = copylab('dmsetup', 'examples/dm-linear.yaml', 'create', 'x', '--table', '0 100 linear /dev/nullb0 0;100 100 linear /dev/nullb1 0');
    expect(c).toMatchObject({ code: 0, out: '0 100 linear /dev/nullb0 0\n100 100 linear /dev/nullb1 0\n' });
  });

  it('dmsetup refusals exit 1 with the errno: in use, bad table', () => {
    const busy = copylab('dmsetup', 'examples/dm-stack.yaml', 'remove', 'l0');
    expect(busy.code).toBe(1);
    expect(busy.err).toMatch(/l0: device is in use by m0 \(dm-2\) \(EBUSY\)/);
    const bad = copylab('dmsetup', 'examples/dm-linear.yaml', 'create', 'y', '--table', '0 100 zero');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/y: line 1: unknown target type "zero".*\(EINVAL\)/);
  });

  it('compare-strategies prints the three strategies per copy step; --json one object per row', () => {
    const t = copylab('compare-strategies', 'examples/dm-linear.yaml');
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/vectored/);
    expect(t.out).toMatch(/COPY_DST reached nullb1, COPY_SRC reached nullb0/);
    expect(t.out).toMatch(/vectored: data verified; paired: data verified; token: data verified/);
    const j = copylab('compare-strategies', 'examples/dm-linear.yaml', '--json');
    const rows = j.out.trim().split('\n').map((l) => JSON.parse(l) as { step: number; strategy: string; offloaded_bytes: number; host_bytes: number });
    expect(rows.filter((r) => r.step === 6).map((r) => [r.strategy, r.offloaded_bytes, r.host_bytes])).toEqual([
      ['vectored', 2097152, 0],
      ['paired', 0, 4194304],
      ['token', 2097152, 0],
    ]);
  });

  it('every dm example runs green', () => {
    for (const f of ['linear', 'striped', 'raid1', 'raid5', 'crypt', 'stack']) {
      const r = copylab('run', `examples/dm-${f}.yaml`);
      expect(r.code, `${f}: ${r.out}${r.err}`).toBe(0);
    }
  });
});
