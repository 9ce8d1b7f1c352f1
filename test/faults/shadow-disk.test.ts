/** The shadow model the fault campaigns check blocks against, and their bounded wait. */
import { describe, it, expect } from 'vitest';
import { ShadowDisk } from '../../src/harness/faults/shadow-disk.js';
import { within, roundSeed, TimeoutError } from '../../src/harness/faults/bounded.js';

describe('shadow disk', () => {
  it('writes and copies move tags; compare names the blocks that differ', () => {
    const d = new ShadowDisk(16, 512);
    expect(d.compare(0, new Uint8Array(16 * 512))).toEqual([]);
    d.write(2, 3, 9);
    const bytes = new Uint8Array(16 * 512);
    bytes.set(d.data(2, 3, 9), 2 * 512);
    expect(d.compare(0, bytes)).toEqual([]);
    d.copy(2, 10, 3);
    bytes.set(d.data(2, 3, 9), 10 * 512);
    expect(d.compare(0, bytes)).toEqual([]);
    // A block written where it was not (a misplaced block) differs: patterns depend on the position.
    bytes.set(d.data(11, 1, 9), 11 * 512);
    expect(d.compare(0, bytes)).toEqual([{ block: 11, want: 'seed 9 written at block 3' }]);
    const t = d.tags(10, 3);
    d.write(10, 3, 4);
    d.setTags(10, t);
    expect(d.describe(12)).toBe('seed 9 written at block 4');
    expect(d.describe(0)).toBe('zeros');
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
