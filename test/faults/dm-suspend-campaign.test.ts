/**
 * Fault campaign 1 in the suite: 20 seeded rounds per stack (linear, raid1, crypt) of concurrent
 * writes, copies and reads on ranges of their own while the stack is suspended, reloaded and
 * resumed; every block checked against the shadow model. `npm run soak:faults` runs it longer.
 * The campaign's checks can fail: a change planted below a suspended device and a block damaged
 * before the final check are both reported.
 */
import { describe, it, expect } from 'vitest';
import { dmSuspendCampaign } from '../../src/harness/faults/dm-suspend-campaign.js';
import { FAULTS_SEED } from './seed.js';

describe('fault campaign: dm suspend/resume under concurrent writes and copies', () => {
  it('linear, raid1 and crypt: 20 rounds each, every block verifies, nothing changes below a suspended device', { timeout: 120_000 }, async () => {
    const r = await dmSuspendCampaign({ seed: FAULTS_SEED, rounds: 20 });
    expect(r.failures).toEqual([]);
    expect(r.rounds).toBe(60);
    expect(r.counts.suspends).toBeGreaterThanOrEqual(100);
    expect(r.counts.reloads).toBeGreaterThan(10);
    // Copies were held by a suspend and planned again after a reload, offloaded and emulated.
    expect(r.counts['copies planned again']).toBeGreaterThan(0);
    expect(r.counts['copies (offload)']).toBeGreaterThan(0);
    expect(r.counts['copies (emulated)']).toBeGreaterThan(0);
    expect(r.blocksChecked).toBeGreaterThan(60 * 1024);
  });

  it('a change below a suspended device is reported', async () => {
    const r = await dmSuspendCampaign({
      seed: 5, rounds: 2, stacks: ['linear'],
      whileSuspended: (lab, bottoms) => lab.write(bottoms[0]!, 8192, new Uint8Array(4096).fill(0xee)),
    });
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatch(/linear: \/dev\/nullb0 changed at byte 8192 while a device above it was suspended/);
  });

  it('a block that differs from the model at the end of a round is reported', async () => {
    const r = await dmSuspendCampaign({
      seed: 6, rounds: 2, stacks: ['raid1'],
      beforeCheck: (lab, bottoms) => lab.write(bottoms[1]!, 4096 * 7, new Uint8Array(4096).fill(0xee)),
    });
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatch(/raid1: \/dev\/nullb1: 1 of 1024 blocks differ from the model, first 7/);
  });

  it('a round that does not end is a failure, not a hang', async () => {
    const r = await dmSuspendCampaign({
      seed: 7, rounds: 1, stacks: ['linear'], roundTimeoutMs: 1000,
      // The device stays suspended until the bounded wait gives up on the round.
      whileSuspended: () => new Promise((resolve) => setTimeout(resolve, 1500)),
    });
    expect(r.failures.join('\n')).toMatch(/linear round 0's operations did not finish within 1000 ms/);
  });
});
