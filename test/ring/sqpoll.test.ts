import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { Lab } from '../../src/app/lab.js';
import { allocBuffer } from '../../src/core/ring/ring.js';
import { IORING_SQ } from '../../src/core/ring/opcodes.js';
import { prepRead, prepWrite, sqeSetData } from '../../src/core/ring/prep.js';
import { workerScript } from '../../src/core/thread/entries.js';
import type { RingAppJob, RingAppResult } from '../../src/harness/ring-app.js';
import { pattern, MiB } from '../helpers.js';

describe('SQPOLL rings', () => {
  it('the poller consumes SQEs without submit() entering, then sleeps with NEED_WAKEUP and is woken', async () => {
    const lab = new Lab();
    lab.addNullBlk({ name: 'nullb0', size: MiB, lbs: 4096, backing: 'memory' });
    const ring = lab.createRing({ entries: 8, sqpoll: true, sqThreadIdle: 1 });
    const buf = allocBuffer(8192);
    const [base] = ring.registerBuffers([buf]);
    const fd = lab.open('/dev/nullb0');
    buf.set(pattern(4096, 2));
    const w = ring.getSqe()!;
    prepWrite(w, fd, base!, 4096, 0);
    sqeSetData(w, 1);
    expect(ring.submit()).toBe(1);
    expect((await ring.waitCqe()).res).toBe(4096);
    ring.cqeSeen();
    // Let the poller go idle: it announces NEED_WAKEUP and sleeps.
    for (let i = 0; i < 50 && !(ring.sqFlags & IORING_SQ.NEED_WAKEUP); i++) await new Promise((r) => setTimeout(r, 5));
    expect(ring.sqFlags & IORING_SQ.NEED_WAKEUP).toBe(IORING_SQ.NEED_WAKEUP);
    const r = ring.getSqe()!;
    prepRead(r, fd, base! + 4096, 4096, 0);
    sqeSetData(r, 2);
    ring.submit(); // wakes the poller
    const c = await ring.waitCqe();
    expect([c.user_data, c.res]).toEqual([2, 4096]);
    expect(buf.subarray(4096)).toEqualBytes(pattern(4096, 2));
    await lab.close();
  });

  it('an application on another thread submits 20 000 NOPs; every CQE arrives once, in order', async () => {
    const lab = new Lab();
    const ring = lab.createRing({ entries: 64, cqEntries: 128, sqpoll: true });
    const job: RingAppJob = { ring: ring.shareable(), count: 20_000, batch: 64, ms: 0 };
    const worker = new Worker(workerScript('ring-app'), { workerData: job });
    const result = await new Promise<RingAppResult>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(result).toMatchObject({ ops: 20_000, inOrder: true });
    await worker.terminate();
    await lab.close();
  });
});
