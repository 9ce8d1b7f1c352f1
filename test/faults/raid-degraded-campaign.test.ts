/**
 * Fault campaign 2 in the suite: 20 seeded rounds each of raid1 and raid5_ls, a leg failed (by
 * `dmsetup message … fail N` or by its device failing every I/O) while a copy runs with other
 * writes and copies in flight; degraded reads, a degraded copy and write; recovery with writes in
 * flight; every block verified through the array and on every leg. `npm run soak:faults` runs it
 * longer. The leg checks can fail: a damaged leg block and a damaged parity chunk are reported.
 */
import { describe, it, expect } from 'vitest';
import { raidDegradedCampaign } from '../../src/harness/faults/raid-degraded-campaign.js';
import { FAULTS_SEED } from './seed.js';

describe('fault campaign: raid legs failed mid-copy', () => {
  it('raid1 and raid5: 20 rounds each, never wrong data, every leg verifies after the resync', { timeout: 120_000 }, async () => {
    const r = await raidDegradedCampaign({ seed: FAULTS_SEED, rounds: 20 });
    expect(r.failures).toEqual([]);
    expect(r.rounds).toBe(40);
    const c = r.counts;
    // Both ways of failing a leg, on both kinds of array, and resyncs with writes in flight.
    for (const k of ['raid1 legs failed by message', 'raid1 legs failed by io-errors', 'raid5 legs failed by message', 'raid5 legs failed by io-errors', 'resyncs with writes in flight']) expect(c[k], k).toBeGreaterThan(0);
    const copies = (what: string): number => Object.entries(c).filter(([k]) => k.startsWith(`${what} copies (`)).reduce((n, [, v]) => n + v, 0);
    expect(copies('mid-fault')).toBeGreaterThan(20);
    expect(copies('degraded')).toBeGreaterThan(20);
    expect(r.blocksChecked).toBeGreaterThan(40 * 3 * 512);
  });

  it('a raid1 leg damaged after the resync is reported', async () => {
    const r = await raidDegradedCampaign({ seed: 3, rounds: 1, kinds: ['raid1'], beforeCheck: (lab, legs) => lab.write(legs[1]!, 4096 * 5, new Uint8Array(4096).fill(0xee)) });
    expect(r.failures.join('\n')).toMatch(/raid1: leg 1 \(\/dev\/nullb1\): 1 blocks differ from the model, first 5/);
  });

  it('a raid5 parity chunk damaged after the resync is reported', async () => {
    // Stripe 0's parity sits on the last device (left-symmetric).
    const r = await raidDegradedCampaign({ seed: 3, rounds: 1, kinds: ['raid5'], beforeCheck: (lab, legs) => lab.write(legs[legs.length - 1]!, 0, new Uint8Array(4096).fill(0xee)) });
    expect(r.failures.join('\n')).toMatch(/raid5: stripe 0: parity on leg \d is not the XOR of the stripe's data/);
  });
});
