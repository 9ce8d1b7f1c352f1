/**
 * The iSCSI soak, short: sessions × queue depth writing and verifying distinct regions against
 * the real target lose and corrupt nothing; data damaged under the target after the load is
 * counted as lost by the final check (the check can fail).
 */
import { describe, it, expect } from 'vitest';
import { soakIscsi } from '../../src/harness/iscsi-soak.js';

describe('iSCSI soak', () => {
  it('4 sessions × 16 in flight for 2 s: every block written is read back intact, none lost', { timeout: 60_000 }, async () => {
    const r = await soakIscsi({ sessions: 4, depth: 16, seconds: 2, ioBytes: 8192, seed: 3 });
    expect(r.firstError).toBeNull();
    expect(r.writes).toBeGreaterThan(64);
    expect(r.blocksVerified).toBe(r.reads * 16);
    expect([r.lostBlocks, r.corruptedBlocks, r.failedCommands]).toEqual([0, 0, 0]);
  });

  it('blocks changed under the target after the load are reported lost', { timeout: 60_000 }, async () => {
    const r = await soakIscsi({
      sessions: 2, depth: 4, seconds: 1, ioBytes: 4096, seed: 4,
      beforeFinalCheck: async (lab) => lab.write('/dev/nullb0', 0, new Uint8Array(4096).fill(0xee)),
    });
    expect(r.corruptedBlocks).toBe(0);
    expect(r.lostBlocks).toBe(2 * 8); // slot 0's position 0 of session 0: 8 blocks, seen over iSCSI and on the device
  });
});
