import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { runGc } from '../../app/gc/run.js';
import { GC_DEFAULTS, type GcOptions } from '../../app/gc/options.js';
import { GcIntegrityError, TAG_LBA_BITS } from '../../app/gc/tag.js';
import { MapPipe } from '../../app/gc/map-pipe.js';
import { workerScript } from '../../core/util/worker-path.js';

const MiB = 1024 ** 2;
const opts = (o: Partial<GcOptions>): GcOptions => ({ ...GC_DEFAULTS, seriesPoints: 10, zoneBytes: 2 * MiB, zoneCapacityBytes: 2 * MiB, ...o });
const gen = (g: number, x: number): number => ((g << TAG_LBA_BITS) | x) >>> 0;

describe('GC map updates on a worker thread (map pipe)', () => {
  it('give the same run as the inline map: victims, moves, commands, WAF, every block read back', () => {
    const o = opts({ size: 256 * MiB, overwrites: 2, seed: 11 });
    const inline = runGc(o, { mapWorker: 'off' });
    const piped = runGc(o, { mapWorker: 'moves' });
    const helped = runGc(o, { mapWorker: 'helper' });
    expect(helped.victims).toBe(inline.victims);
    expect(helped.gc_moved_bytes).toBe(inline.gc_moved_bytes);
    expect(helped.verified_blocks).toBe(inline.verified_blocks);
    expect(piped.victims).toBe(inline.victims);
    expect(piped.gc_moved_bytes).toBe(inline.gc_moved_bytes);
    expect(piped.commands).toBe(inline.commands);
    expect(piped.waf).toBe(inline.waf);
    expect(piped.victim_valid_histogram).toEqual(inline.victim_valid_histogram);
    expect(piped.series.map((p) => p.waf)).toEqual(inline.series.map((p) => p.waf));
    expect(piped.verified_blocks).toBe(piped.user_blocks);
    expect(inline.gc_moved_bytes).toBeGreaterThan(0);
  });

  it('a dropped block is caught', () => {
    expect(() => runGc(opts({ size: 128 * MiB, overwrites: 1, inject: { kind: 'drop', at: 1000 } }), { mapWorker: 'moves' })).toThrow(GcIntegrityError);
  });

  it('a misplaced block is caught', () => {
    expect(() => runGc(opts({ size: 128 * MiB, overwrites: 1, inject: { kind: 'misplace', at: 1000 } }), { mapWorker: 'moves' })).toThrow(GcIntegrityError);
  });

  it('the worker applies each move only where the map agrees with the source, and a move it does not agree with fails the run naming the block', async () => {
    const l2p = new Uint32Array(new SharedArrayBuffer(64 * 4));
    const tags = new Uint32Array(new SharedArrayBuffer(128 * 4));
    l2p[5] = gen(3, 100);
    l2p[6] = gen(2, 101);
    const pipe = new MapPipe(l2p, tags);
    const worker = new Worker(workerScript('app/gc/map-worker'), { workerData: pipe.data() });
    try {
      // lba 5 moves from 100 to 40 (the map agrees), then lba 6 claims to move from 102 (the map says 101).
      pipe.push(gen(3, 5), 100, 40);
      pipe.drain();
      expect(l2p[5]).toBe(gen(3, 40));
      pipe.push(gen(2, 6), 102, 41);
      let err: unknown;
      try {
        pipe.drain();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GcIntegrityError);
      expect((err as GcIntegrityError).lba).toBe(6);
      expect((err as GcIntegrityError).physical).toBe(102);
      expect((err as Error).message).toMatch(/map puts lba 6 at 101/);
      expect(l2p[6]).toBe(gen(2, 101));
    } finally {
      pipe.stop();
      await worker.terminate();
    }
  });

  it('the read-back on both threads finds a block whose tag is not its latest write, in either half', async () => {
    const l2p = new Uint32Array(new SharedArrayBuffer(64 * 4));
    const tags = new Uint32Array(new SharedArrayBuffer(128 * 4));
    for (let l = 0; l < 64; l++) {
      l2p[l] = gen(1, l + 10);
      tags[l + 10] = gen(1, l);
    }
    const pipe = new MapPipe(l2p, tags);
    const worker = new Worker(workerScript('app/gc/map-worker'), { workerData: pipe.data() });
    try {
      expect(pipe.verify(0, 64)).toEqual({ verified: 64, bad: -1 });
      tags[50] = gen(2, 40); // lba 40 (the worker's half) holds a newer generation than the map's
      pipe.drain();
      expect(pipe.verify(0, 64).bad).toBe(40);
    } finally {
      pipe.stop();
      await worker.terminate();
    }
  });
});
