/** The shadow model the fault campaigns check blocks against, and their bounded wait. */
import { describe, it, expect } from 'vitest';
import { ShadowDisk } from '../../src/harness/faults/shadow-disk.js';
import { within, roundSeed, TimeoutError } from '../../src/harness/faults/bounded.js';

describe('shadow disk', () => {
  it('writes and copies move bytes and tags; compare names the blocks that differ', () => {
    const d = new ShadowDisk(16, 512);
    expect(d.compare(0, new Uint8Array(16 * 512))).toEqual([]);
    d.write(2, 3, 9);
    const bytes = new Uint8Array(16 * 512);
    bytes.set(d.data(2, 3, 9), 2 * 512);
    expect(d.compare(0, bytes)).toEqual([]);
    d.copy(2, 10, 3);
    bytes.set(d.data(2, 3, 9), 10 * 512);
    expect(d.compare(0, bytes)).toEqual([]);
    expect(d.expected(11)).toEqual(d.data(3, 1, 9));
    // A block written where it was not (a misplaced block) differs: patterns depend on the position.
    bytes.set(d.data(11, 1, 9), 11 * 512);
    expect(d.compare(0, bytes)).toEqual([{ block: 11, want: 'seed 9 written at block 3' }]);
    expect(d.describe(0)).toBe('zeros');
  });

  it('settle takes, block by block, whichever of the choices a block holds, and names a block that holds none', () => {
    const d = new ShadowDisk(8, 512);
    d.write(0, 8, 1);
    const old = d.snapshot(4, 4);
    const neu = d.written(4, 4, 2);
    // A write that failed half way: the first two blocks new, the rest old.
    const got = new Uint8Array(4 * 512);
    got.set(neu.bytes.subarray(0, 1024), 0);
    got.set(old.bytes.subarray(1024), 1024);
    expect(d.settle(4, got, [old, neu])).toEqual([]);
    expect(d.describe(4)).toBe('seed 2 written at block 4');
    expect(d.describe(6)).toBe('seed 1 written at block 6');
    got.fill(0xee, 512 * 3);
    expect(d.settle(4, got, [old, neu])).toEqual([{ block: 7, want: 'seed 1 written at block 7 or seed 2 written at block 7' }]);
  });

  it('refuses seed 0 and ranges outside the model', () => {
    const d = new ShadowDisk(4, 512);
    expect(() => d.write(0, 1, 0)).toThrow(/seeds start at 1/);
    expect(() => d.write(3, 2, 1)).toThrow(/outside the model/);
    expect(() => d.copy(0, 3, 2)).toThrow(/outside the model/);
    expect(() => d.compare(4, new Uint8Array(512))).toThrow(/outside the model/);
  });

  it('within() passes a result through and names what did not finish', async () => {
    expect(await within(Promise.resolve(3), 100, 'x')).toBe(3);
    await expect(within(new Promise(() => undefined), 20, 'the thing')).rejects.toThrow(TimeoutError);
    await expect(within(new Promise(() => undefined), 20, 'the thing')).rejects.toThrow('the thing did not finish within 20 ms');
    expect(roundSeed(1, 0)).toBe(roundSeed(1, 0));
    expect(roundSeed(1, 0)).not.toBe(roundSeed(1, 1));
  });
});
