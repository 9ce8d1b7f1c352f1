/**
 * A timed SCSI array behind the iSCSI target with the lab clock in realtime mode: a 1 GiB
 * EXTENDED COPY (LID4) with IMMED=1 takes its modeled time in wall time (within 10%), and
 * RECEIVE COPY STATUS polled over the wire meanwhile shows a growing transfer count, then
 * success; the copied data is read back over iSCSI. Sparse media keep memory low.
 */
import { describe, it, expect, afterEach } from 'vitest';
import * as b from '../../devices/scsi/build.js';
import { CopyStatus, TpcInSa, TpcOutSa } from '../../devices/scsi/constants.js';
import { be16, be64 } from '../../src/core/util/bytes.js';
import { pattern } from '../helpers.js';
import type { TestInitiator } from './initiator.js';
import { login, naaOf, serve, unserve, type Served } from './fixture.js';

const GiB = 1 << 30;
const SEG = 64 << 20;
const LBS = 4096;
const XCOPY_MBPS = 400; // 16 × 64 MiB at 400 MB/s: about 2.7 s

const YAML = `
lab: { clock: realtime }
devices:
  - kind: scsi
    array: arr
    timing: { preset: sas-array, xcopy_mbps: ${XCOPY_MBPS} }
    lus: [ { name: sda, size: 1GiB, lbs: 4096 }, { name: sdb, size: 1GiB, lbs: 4096 } ]
iscsi:
  targets:
    - iqn: iqn.2024-01.org.copylab:timed
      luns: [ /dev/sda, /dev/sdb ]
`;

let served: Served | null = null;
const open: TestInitiator[] = [];
afterEach(async () => {
  if (served) await unserve(served, open);
  served = null;
});

describe('iSCSI: a background copy in realtime', () => {
  it('a 1 GiB LID4 copy with IMMED=1 takes its modeled time in wall time; RECEIVE COPY STATUS grows, then succeeds', async () => {
    served = await serve(YAML);
    const i = await login(served.port, open, { target: 'iqn.2024-01.org.copylab:timed' });
    const per = SEG / LBS;
    const n = GiB / SEG;
    const marks = new Map<number, Uint8Array>();
    for (let s = 0; s < n; s++) {
      for (const lba of [s * per, (s + 1) * per - 1]) {
        const data = pattern(LBS, 500 + lba, 0);
        expect((await i.command(0, b.rw16Cdb(true, lba, 1), { dataOut: data })).status).toBe(0);
        marks.set(lba, data);
      }
    }
    const [naa0, naa1] = [await naaOf(i, 0), await naaOf(i, 1)];
    const segments = [];
    for (let s = 0; s < n; s++) segments.push(b.b2bSegment({ src: 0, dst: 1, blocks: per, srcLba: s * per, dstLba: s * per }));
    const list = b.xcopyLid4({ listId: 77, immed: true, cscds: [b.e4Descriptor(naa0, LBS), b.e4Descriptor(naa1, LBS)], segments });

    const t0 = performance.now();
    expect((await i.command(0, b.tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), { dataOut: list })).status).toBe(0);
    const counts: number[] = [];
    let status = -1;
    for (;;) {
      const r = await i.command(0, b.tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, 77, 64), { readLength: 64 });
      expect(r.status).toBe(0);
      status = r.dataIn[5]!;
      counts.push(be64(r.dataIn, 16));
      // The command was answered while the copy had just begun: the first poll finds it running.
      if (counts.length === 1) expect([status, counts[0]! < GiB]).toEqual([CopyStatus.LID4_IN_PROGRESS_BG, true]);
      if (status !== CopyStatus.LID4_IN_PROGRESS_BG) break;
      await new Promise((res) => setTimeout(res, 40));
    }
    const wallMs = performance.now() - t0;
    expect(status).toBe(CopyStatus.COMPLETED_GOOD);
    expect(counts.at(-1)).toBe(GiB);
    for (let k = 1; k < counts.length; k++) expect(counts[k]!).toBeGreaterThanOrEqual(counts[k - 1]!);
    expect(new Set(counts.filter((c) => c > 0 && c < GiB)).size).toBeGreaterThan(5);
    // The copy manager binds: n segments of 20 µs + 64 MiB at XCOPY_MBPS MB/s.
    const modeledMs = (n * (20_000 + (SEG * 1000) / XCOPY_MBPS)) / 1e6;
    expect(Math.abs(wallMs - modeledMs) / modeledMs, `wall ${wallMs.toFixed(0)} ms vs modeled ${modeledMs.toFixed(0)} ms`).toBeLessThan(0.1);
    const last = await i.command(0, b.tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, 77, 64), { readLength: 64 });
    expect(be16(last.dataIn, 24)).toBe(n);
    for (const [lba, data] of marks) {
      const r = await i.command(1, b.rw16Cdb(false, lba, 1), { readLength: LBS });
      expect(r.dataIn, `LBA ${lba}`).toEqualBytes(data);
    }
  }, 30_000);
});
