import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { COPY_STRATEGIES } from '../../src/core/block/copy/types.js';
import { dmLab, create, XTS_KEY } from './helpers.js';
import { pattern } from '../helpers.js';

const S = 512;
const SIZE = 2048 * S; // 1 MiB dm devices

describe('random copies through stacks give the bytes of a plain reference copy, under every strategy', () => {
  it('linear + striped + raid1 + raid5 + crypt', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...COPY_STRATEGIES),
        fc.constantFrom('lin', 'st', 'm', 'r5', 'c'),
        fc.constantFrom('lin', 'st', 'm', 'r5', 'c'),
        fc.integer({ min: 0, max: 2047 }),
        fc.integer({ min: 0, max: 2047 }),
        fc.integer({ min: 1, max: 600 }),
        async (strategy, from, to, a, b, n) => {
          n = Math.min(n, 2048 - a, 2048 - b);
          if (from === to && a < b + n && b < a + n) return; // overlap on one device is refused
          const lab = dmLab(9, { size: 2 * SIZE, domain: 'd0' }, strategy);
          create(lab, 'lin', '0 1000 linear /dev/nullb0 0\n1000 1048 linear /dev/nullb1 0');
          create(lab, 'st', '0 2048 striped 2 16 /dev/nullb2 0 /dev/nullb3 0');
          create(lab, 'm', '0 2048 raid raid1 1 0 2 - /dev/nullb4 - /dev/nullb5');
          create(lab, 'r5', '0 2048 raid raid5_ls 1 16 3 - /dev/nullb6 - /dev/nullb7 - /dev/nullb8');
          create(lab, 'c', `0 2048 crypt aes-xts-plain64 ${XTS_KEY} 0 /dev/nullb1 2048`);
          const src = pattern(SIZE, 77);
          await lab.write(`/dev/mapper/${from}`, 0, src);
          const r = await lab.copy(`/dev/mapper/${to}`, [{ src: `/dev/mapper/${from}`, srcOffset: a * S, dstOffset: b * S, length: n * S }]);
          expect(r.res).toBe(n * S);
          expect(await lab.read(`/dev/mapper/${to}`, b * S, n * S)).toEqualBytes(src.subarray(a * S, (a + n) * S));
        },
      ),
      { numRuns: 80, seed: 7 },
    );
  });
});
