/**
 * Fault campaign 3 in the suite: 20 seeded rounds, taking turns among a nullblk queue, an NVMe
 * subsystem and a SCSI fabric on worker threads, the thread killed while copies, writes and reads run on it (some
 * through dm linear, some to and from an inline device beside it). Every operation ends (done or
 * EIO), nothing hangs, the dead device answers EIO, the lab reports it and closes. `npm run
 * soak:faults` runs it longer. Its checks can fail: a damaged bystander block and a step that
 * never ends are reported.
 */
import { describe, it, expect } from 'vitest';
import { workerKillCampaign } from '../../src/harness/faults/worker-kill-campaign.js';
import { FAULTS_SEED } from './seed.js';

describe('fault campaign: device worker threads killed mid-copy', () => {
  it('nullblk, NVMe and SCSI workers: 20 rounds, every operation ends with its bytes or EIO, the lab closes', { timeout: 120_000 }, async () => {
    const r = await workerKillCampaign({ seed: FAULTS_SEED, rounds: 20 });
    expect(r.failures).toEqual([]);
    expect(r.rounds).toBe(20);
    for (const k of ['nullblk', 'nvme', 'scsi']) expect(r.counts[`${k} workers killed`]).toBeGreaterThanOrEqual(6);
    // Some copies were cut by the kill, others completed.
    expect(r.counts['copies ended (EIO)']).toBeGreaterThan(5);
    expect(Object.entries(r.counts).filter(([k]) => k.startsWith('copies completed')).reduce((n, [, v]) => n + v, 0)).toBeGreaterThan(10);
  });

  it('a bystander block that differs from the model is reported', async () => {
    const r = await workerKillCampaign({ seed: 8, rounds: 1, kinds: ['nullblk'], afterKill: (lab, byst) => lab.write(byst, 4096 * 200, new Uint8Array(4096).fill(0xee)) });
    expect(r.failures.join('\n')).toMatch(/nullblk: bystander: 1 blocks differ from the model, first 200/);
  });

  it('a step that never ends is a failure, not a hang', async () => {
    const r = await workerKillCampaign({ seed: 8, rounds: 1, kinds: ['nvme'], opTimeoutMs: 2000, afterKill: () => new Promise(() => undefined) });
    expect(r.failures.join('\n')).toMatch(/nvme: the step after the kill did not finish within 2000 ms/);
  });
});
