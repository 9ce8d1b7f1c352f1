/** `npm run soak:faults` (bench/soak-faults.ts, built): a short run prints its table and exits 0; bad options exit 2 with one line. */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';

function soak(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['dist/bench/soak-faults.js', ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('soak:faults', () => {
  it('one round of one campaign: the table, its counts, exit 0', () => {
    const r = soak('--rounds', '1', '--only', 'dm-suspend', '--seed', '3');
    expect(r.stderr).toContain('dm-suspend: 1 rounds');
    expect(r.stdout).toMatch(/dm-suspend\s+│\s+3 │/);
    expect(r.stdout).toContain('every check held');
    expect(r.status).toBe(0);
  });

  it('bad options: one line on stderr, exit 2', () => {
    for (const [args, msg] of [
      [['--rounds', '0'], '--rounds: expected 1-100000, got 0'],
      [['--seed', '-1'], '--seed: expected 0-4294967295, got -1'],
      [['--only', 'dm-suspend,nope'], '--only: unknown campaign nope'],
      [['--fast'], 'unknown option --fast'],
      [['--rounds'], '--rounds: expected a value'],
    ] as const) {
      const r = soak(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(msg);
    }
  });
});
