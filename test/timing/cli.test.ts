import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

// Runs the built command as a user would (npm test builds dist/ before vitest runs).
function copylab(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/copylab.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('modeled time on the command line', () => {
  it('run --json gives modeled_us per step; the offloaded copy takes less modeled time than the emulated one', () => {
    const r = copylab('run', 'examples/timing.yaml', '--json');
    expect(r.code).toBe(0);
    const steps = r.out.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; path?: string; modeled_us: number; wall_ms: number });
    const copies = steps.filter((s) => s.kind === 'copy');
    expect(copies.map((c) => c.path)).toEqual(['offload', 'emulated']);
    for (const s of steps) expect(s.modeled_us).toBeGreaterThan(0);
    expect(copies[0]!.modeled_us).toBeLessThan(copies[1]!.modeled_us);
  });

  it('heuristic --timing femu --json reports the measured crossover; --apply writes it', () => {
    const r = copylab('heuristic', '--timing', 'femu', '--json', '--apply');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out) as { crossover: number; rows: { size: number; speedup: number }[]; applied: boolean };
    // A device copy does a subset of the emulation's work: offload wins at every size (docs/heuristics.md).
    expect(o.crossover).toBe(0);
    expect(o.applied).toBe(true);
    expect(o.rows.length).toBe(8);
    for (const row of o.rows) expect(row.speedup).toBeGreaterThan(1);
  });

  it('heuristic refuses what it cannot measure with exit 2 and says why', () => {
    let r = copylab('heuristic', '--timing', 'warp-drive');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown preset "warp-drive"/);
    r = copylab('heuristic');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/name a device/);
    r = copylab('heuristic', '/dev/nullb0');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no timing model/);
  });
});
