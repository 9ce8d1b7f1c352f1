import { describe, expect, it } from 'vitest';
import { pattern, MiB } from '../helpers.js';

function failure(run: () => void): string {
  try {
    run();
  } catch (err) {
    return String((err as Error).message);
  }
  throw new Error('the matcher passed where it should have failed');
}

describe('toEqualBytes', () => {
  it('passes on equal bytes, including views at an offset into a larger buffer', () => {
    const a = pattern(4096, 5);
    const big = new Uint8Array(8192);
    big.set(a, 1000);
    expect(big.subarray(1000, 1000 + 4096)).toEqualBytes(a);
    expect(a).not.toEqualBytes(pattern(4096, 6));
  });

  it('names the first differing offset, the count, and shows a hex diff around it', () => {
    const a = pattern(4096, 5);
    const b = a.slice();
    b[0x123] = b[0x123]! ^ 0xff;
    b[0x125] = b[0x125]! ^ 0x01;
    const msg = failure(() => expect(b).toEqualBytes(a));
    expect(msg).toContain('first difference at offset 291 (0x123), 2 byte(s) differ');
    const minus = a[0x123]!.toString(16).padStart(2, '0');
    const plus = b[0x123]!.toString(16).padStart(2, '0');
    expect(msg).toMatch(new RegExp(`00000120  - (?:[0-9a-f]{2} ){3}${minus}`));
    expect(msg).toMatch(new RegExp(`00000120  \\+ (?:[0-9a-f]{2} ){3}${plus}`));
    expect(msg).toMatch(/\n {12}(?: {3}){3}\^\^ {4}\^\^\n/);
  });

  it('reports a length mismatch', () => {
    const msg = failure(() => expect(pattern(100, 1)).toEqualBytes(pattern(96, 1)));
    expect(msg).toContain('expected 96 bytes, received 100; first difference at offset 96');
  });

  it('refuses what is not a Uint8Array', () => {
    expect(failure(() => expect([1, 2]).toEqualBytes(new Uint8Array([1, 2])))).toContain('expected two Uint8Arrays');
  });

  it('finds a single differing byte near the end of 64 MiB buffers', () => {
    const a = new Uint8Array(64 * MiB);
    const b = new Uint8Array(64 * MiB);
    b[64 * MiB - 3] = 1;
    expect(failure(() => expect(b).toEqualBytes(a))).toContain(`first difference at offset ${64 * MiB - 3}`);
    b[64 * MiB - 3] = 0;
    expect(b).toEqualBytes(a);
  });
});
