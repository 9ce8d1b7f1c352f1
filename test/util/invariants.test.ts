/**
 * The suite runs with the hot structures' invariant checks on (vitest.config.ts), and a broken
 * invariant stops at the operation that broke it.
 */
import { describe, expect, it } from 'vitest';
import { ASSERTS, InvariantError } from '../../src/core/util/invariants.js';
import { Sit } from '../../src/app/gc/sit.js';
import { Lab } from '../../src/app/lab.js';
import { HDR } from '../../src/core/ring/layout.js';
import { prepNop } from '../../src/core/ring/prep.js';

describe('invariant checks (COPYLAB_ASSERT)', () => {
  it('are on under the test suite', () => {
    expect(ASSERTS).toBe(true);
  });

  it('a section whose valid count disagrees with its bitmap is caught when it fills or is freed', () => {
    const sit = new Sit(4, 64);
    for (let p = 64; p < 128; p++) sit.validate(p, 1, 0);
    sit.insertFull(1);
    sit.valid[1] = 63; // a lost invalidation
    expect(() => sit.clearSection(1)).toThrow(InvariantError);
    expect(() => sit.clearSection(1)).toThrow(/section 1 counts 63 valid blocks, its bitmap 64/);
  });

  it('ring indices out of step are caught at the next submit', async () => {
    const lab = new Lab();
    lab.addNullBlk({ name: 'nullb0', size: 1 << 20 });
    const ring = lab.createRing({ entries: 8 });
    prepNop(ring.getSqe()!);
    expect(ring.submit()).toBe(1);
    ring.cqeSeen();
    Atomics.add(ring.hdr, HDR.CQ_HEAD, 5); // a consumer that advanced past the tail
    prepNop(ring.getSqe()!);
    expect(() => ring.submit()).toThrow(/ring: -\d+ CQEs between head and tail of 16/);
    await lab.close();
  });
});
