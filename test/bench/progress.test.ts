import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/app/bench/progress.js';

describe('progress line', () => {
  it('reads like fio\'s status line: jobs, directions, percent, bandwidth, IOPS, ETA', () => {
    const line = progressLine({
      elapsed_ns: 2e9,
      done: 0.5,
      jobs: 2,
      bytes: { read: 2 * 1024 ** 3, write: 0, trim: 0, copy: 512 * 1024 ** 2 },
      ios: { read: 524288, write: 0, trim: 0, copy: 512 },
    });
    expect(line).toBe('Jobs: 2 (f=2): [RC(2)][50.0%][r=1024MiB/s,c=256MiB/s][r=262k IOPS,c=256 IOPS][eta 00m:02s]');
  });

  it('has no percent or ETA when the end is unknown', () => {
    const line = progressLine({ elapsed_ns: 1e9, done: null, jobs: 1, bytes: { read: 0, write: 4096, trim: 0, copy: 0 }, ios: { read: 0, write: 1, trim: 0, copy: 0 } });
    expect(line).toBe('Jobs: 1 (f=1): [W(1)][w=4096B/s][w=1 IOPS][eta 00m:00s]');
  });
});
