/**
 * Fault campaign 4 in the suite: 20 seeded rounds of an iSCSI connection dropped while a WRITE
 * waits for the rest of its Data-Out (on a timed array's LU or a gateway's nullblk LU) and while
 * an EXTENDED COPY (LID4) with IMMED=1 runs in the background; the task ends, nothing stays
 * buffered, the copy's record ends (or goes with the nexus), its destination holds old or copied
 * blocks and stops changing, and a new session works. `npm run soak:faults` runs it longer. Its
 * checks can fail: a block changed under the copy's destination is reported.
 */
import { describe, it, expect } from 'vitest';
import { iscsiDropCampaign } from '../../src/harness/faults/iscsi-drop-campaign.js';
import { FAULTS_SEED } from './seed.js';

describe('fault campaign: iSCSI connections dropped mid-Data-Out and mid-background-copy', () => {
  it('20 rounds: tasks and copy records end, blocks hold old or new, a new session works', { timeout: 120_000 }, async () => {
    const r = await iscsiDropCampaign({ seed: FAULTS_SEED, rounds: 20 });
    expect(r.failures).toEqual([]);
    expect(r.rounds).toBe(20);
    expect(r.counts['connections dropped']).toBeGreaterThanOrEqual(20);
    expect(r.counts['copy records gone with the nexus']).toBeGreaterThan(0);
    expect(r.counts['parameter lists cut']).toBeGreaterThan(0);
  });

  it('a block of the copy\'s destination that holds neither its old nor its copied content is reported', async () => {
    const r = await iscsiDropCampaign({ seed: 9, rounds: 1, afterDrop: (write, dst) => write(dst.lun, dst.lba, new Uint8Array(4096).fill(0xee)) });
    expect(r.failures.join('\n')).toMatch(/copy destination block \d+ holds neither/);
  });
});
