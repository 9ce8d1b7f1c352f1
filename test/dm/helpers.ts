import { expect } from 'vitest';
import { Lab, type CopyOperation } from '../../src/app/lab.js';
import type { CopyStrategy } from '../../src/core/block/copy/types.js';
import type { NullBlkOptions } from '../../devices/nullblk/nullblk.js';
import { pattern, MiB } from '../helpers.js';

export const XTS_KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f';
export const XTS_KEY2 = 'ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f';
export const CBC_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

/** A lab with nullblk devices nullb0..N-1 (default 8 MiB, 512-byte blocks, memory, domain d0). */
export function dmLab(n: number, dev: Partial<NullBlkOptions> = {}, strategy: CopyStrategy = 'vectored'): Lab {
  const lab = new Lab({ copyStrategy: strategy });
  for (let i = 0; i < n; i++) lab.addNullBlk({ name: `nullb${i}`, size: 8 * MiB, lbs: 512, backing: 'memory', domain: 'd0', ...dev });
  return lab;
}

export function create(lab: Lab, name: string, table: string): void {
  const r = lab.dm.create(name, table);
  expect(r.message).toBeUndefined();
  expect(r.res).toBe(0);
}

/** Writes a seeded pattern (pattern offset = device offset). */
export async function fill(lab: Lab, dev: string, offset: number, length: number, seed: number): Promise<void> {
  await lab.write(dev, offset, pattern(length, seed, offset));
}

/** Reads [dst, +length) and compares it with the pattern the source had at `srcOffset`. */
export async function expectCopied(lab: Lab, dev: string, dst: number, length: number, seed: number, srcOffset: number): Promise<void> {
  const got = await lab.read(dev, dst, length);
  expect(got).toEqualBytes(pattern(length, seed, srcOffset));
}

/**
 * Timed nullblk devices nullb0..N-1 (8 MiB, 4 KiB blocks, domain d0 unless `domains` says,
 * 64 KiB per copy command, femu timing): a copy of many pieces takes modeled time, so a test can
 * act while it runs.
 */
export function timedLab(n: number, strategy: CopyStrategy = 'vectored', domains?: readonly string[]): Lab {
  const lab = new Lab({ copyStrategy: strategy });
  for (let i = 0; i < n; i++) lab.addNullBlk({ name: `nullb${i}`, size: 8 * MiB, lbs: 4096, backing: 'memory', domain: domains?.[i] ?? 'd0', copy_max_hw_bytes: 64 * 1024, timing: 'femu' });
  return lab;
}

/** Waits (modeled time) until the copy has done some pieces and not all; fails after `limit` steps. */
export async function midway(lab: Lab, op: CopyOperation, limit = 10_000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (op.bytesDone > 0) {
      if (op.state !== 'running' || op.bytesDone >= op.totalBytes) throw new Error('the copy finished before the test could act on it');
      return;
    }
    await lab.clock.sleep(10_000);
  }
  throw new Error(`the copy made no progress in ${limit} steps`);
}

export { MiB };
