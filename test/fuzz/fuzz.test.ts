/**
 * The fuzzers in CI: a bounded run of every target (fuzz/targets/) from a fixed seed
 * (FUZZ_SEED overrides it), every invariant checked; and the engine itself: a planted failure is
 * reported with its case number and replays from the same seed.
 */
import { describe, it, expect } from 'vitest';
import { runFuzz, invariant, type FuzzTarget } from '../../fuzz/engine.js';
import { FUZZ_TARGETS } from '../../fuzz/targets/index.js';
import { printReport } from '../../fuzz/report.js';

const CI_CASES = 22_000;
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);

describe('fuzzers', () => {
  it(`${CI_CASES} cases over every target: no crash, no hang, canaries unchanged, nothing written by a refused command, memory flat`, { timeout: 120_000 }, async () => {
    const r = await runFuzz(FUZZ_TARGETS, { seed: SEED, cases: CI_CASES });
    let text = '';
    printReport(r, (s) => (text += s));
    console.log(text);
    expect(r.cases).toBeGreaterThanOrEqual(20_000);
    expect(r.targets.map((t) => t.name)).toEqual(['scsi-cdb', 'iscsi-pdu', 'nvme-sqe', 'ring-sqe', 'scenario-yaml']);
    expect(r.targets.filter((t) => t.failure).map((t) => `${t.name}: ${t.failure}`)).toEqual([]);
  });

  it('reports a failing case with its number, and the same seed replays it', async () => {
    const planted: FuzzTarget<{ hits: number }> = {
      name: 'planted', what: 'a bug at a seeded value', weight: 1,
      setup: async () => ({ hits: 0 }),
      one: async (_s, rng) => invariant(rng.below(500) !== 7, 'planted bug'),
      check: async () => {},
      teardown: async () => {},
    };
    const a = await runFuzz([planted as FuzzTarget], { seed: 42, cases: 5000 });
    const b = await runFuzz([planted as FuzzTarget], { seed: 42, cases: 5000 });
    expect(a.ok).toBe(false);
    expect(a.targets[0]!.failure).toBe('planted bug');
    expect(a.targets[0]!.failedCase).not.toBeNull();
    expect(b.targets[0]!.failedCase).toBe(a.targets[0]!.failedCase);
  });
});
