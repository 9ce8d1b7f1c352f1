import { describe, expect, it } from 'vitest';
import { B2B_MAX_BLOCKS, b2bSegmentCount, b2bSegmentsSplit, e4Descriptor, tpcOutCdb, xcopyLid1 } from '../../../devices/scsi/build.js';
import { TpcOutSa } from '../../../devices/scsi/constants.js';
import { be16 } from '../../../src/core/util/bytes.js';
import { HOST, fill, ok, readBack, twoArrays } from './helpers.js';

describe('EXTENDED COPY segments longer than the 16-bit block count', () => {
  it('split into whole-destination-block descriptors that copy every block (512 → 4096)', () => {
    const { a0 } = twoArrays();
    const [sda, sdc] = [a0.lus[0]!, a0.lus[2]!];
    // 70,000 source blocks (34 MiB would not fit; 8 MiB LUs): use 16,384 blocks = the whole of sda,
    // with a maximum of 6,000 blocks per descriptor to force a split that is not a multiple of 8.
    const blocks = 16384;
    const src = fill(a0, 0, 0, blocks, 5);
    const lengths = { src: 512, dst: 4096 };
    const segs = b2bSegmentsSplit({ src: 0, dst: 1, srcLba: 0, dstLba: 0, blocks }, lengths, 6000);
    expect(segs.length).toBe(b2bSegmentCount(blocks, lengths, 6000));
    for (const s of segs) expect(be16(s, 10) % 8).toBe(0); // 5,992 = 749 destination blocks each
    const list = xcopyLid1({ cscds: [e4Descriptor(sda.naa, 512), e4Descriptor(sdc.naa, 4096)], segments: segs });
    ok(a0.execute(HOST, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID1, list.length), list));
    expect(readBack(a0, 2, 0, blocks / 8)).toEqualBytes(src);
  });

  it('never writes a count above 65535: 65536 blocks are two descriptors', () => {
    const segs = b2bSegmentsSplit({ src: 0, dst: 1, srcLba: 10, dstLba: 20, blocks: 65536 }, { src: 512, dst: 512 });
    expect(segs.map((s) => be16(s, 10))).toEqual([B2B_MAX_BLOCKS, 1]);
    expect(b2bSegmentCount(99_999_999_999, { src: 512, dst: 512 })).toBe(Math.ceil(99_999_999_999 / 65535));
  });
});
