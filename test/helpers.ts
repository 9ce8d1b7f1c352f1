import { afterEach } from 'vitest';
import { Lab } from '../src/app/lab.js';
import { fillPattern } from '../src/core/util/pattern.js';
import type { NullBlkOptions } from '../devices/nullblk/nullblk.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;

export function pattern(length: number, seed: number, offset = 0): Uint8Array {
  const b = new Uint8Array(length);
  fillPattern(b, seed, offset);
  return b;
}

/** A lab with the given nullblk devices (defaults: 16 MiB, 4 KiB blocks, memory backing). */
export function labWith(devs: Partial<NullBlkOptions>[], opts: ConstructorParameters<typeof Lab>[0] = {}): Lab {
  const lab = new Lab(opts);
  devs.forEach((d, i) => lab.addNullBlk({ name: `nullb${i}`, size: 16 * MiB, lbs: 4096, backing: 'memory', ...d }));
  return lab;
}

export function eq(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/**
 * For a test file whose labs run worker threads: returns a function that makes a new lab, and
 * closes every lab it made after each test (so no thread outlives its test).
 */
export function labsClosedAfterEach(): () => Lab {
  const labs: Lab[] = [];
  afterEach(async () => {
    for (const l of labs.splice(0)) await l.close();
  });
  return () => {
    const l = new Lab();
    labs.push(l);
    return l;
  };
}
