/**
 * `npm run bench:scsi-bg`: a background copy on a timed SCSI array, in modeled time
 * (docs/scsi.md "Timing and background copies").
 *
 * A 1 GiB EXTENDED COPY (LID4) with IMMED=1 between two LUs of a `sas-array` (16 segments of
 * 64 MiB) runs while a host keeps 4 KiB random reads going at QD 1 on the source LU. Every
 * tenth of the copy it prints RECEIVE COPY STATUS (status, segments, transfer count) and the
 * foreground reads' latency in that interval (p50, p99, max; hdr-histogram-js), next to the same
 * reads on the idle array; then the copy's modeled time against the closed form and the
 * simulator's speed (modeled time per wall second). Flags: --xcopy_mbps=N (default 2000).
 *
 * A benchmark, not a test: it prints figures, it asserts nothing.
 */
import * as hdr from 'hdr-histogram-js';
import { Lab } from '../src/app/lab.js';
import { addScsiArray } from '../devices/scsi/attach.js';
import type { ScsiArray } from '../devices/scsi/array.js';
import { b2bSegment, e4Descriptor, rw16Cdb, tpcInCdb, tpcOutCdb, xcopyLid4 } from '../devices/scsi/build.js';
import { CopyStatus, TpcInSa, TpcOutSa } from '../devices/scsi/constants.js';
import { be16, be64 } from '../src/core/util/bytes.js';
import { Prng } from '../src/core/util/prng.js';
import { table, flag } from './common.js';

const HOST = 'iqn.2024-01.org.copylab:host';
const LBS = 4096;
const GiB = 1 << 30;
const SEG = 64 << 20;
const STATUS_NAME: Record<number, string> = { 0x01: 'completed', 0x02: 'error', 0x11: 'in progress (fg)', 0x12: 'in progress (bg)', 0x60: 'aborted' };

const histogram = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3.6e12, numberOfSignificantValueDigits: 3 });
const us = (ns: number): string => (ns / 1000).toFixed(1);

/** 4 KiB random reads at QD 1 on LU 0 until `stop()` says so; latencies (ns) into `h()`. */
function reader(array: ScsiArray, lab: Lab, stop: () => boolean, h: () => hdr.Histogram): Promise<void> {
  const rng = new Prng(7);
  const blocks = GiB / LBS;
  return (async () => {
    while (!stop()) {
      const t0 = lab.clock.now();
      await array.executeAsync(HOST, 0, rw16Cdb(false, rng.below(blocks), 1), undefined, LBS);
      h().recordValue(Math.max(1, Math.round(lab.clock.now() - t0)));
    }
  })();
}

async function main(): Promise<void> {
  const xcopyMbps = flag('xcopy_mbps', 2000);
  const lab = new Lab();
  const { array } = addScsiArray(lab, { name: 'arr0', timing: { preset: 'sas-array', xcopy_mbps: xcopyMbps }, lus: [{ name: 'sda', size: GiB, lbs: LBS }, { name: 'sdb', size: GiB, lbs: LBS }] });
  const wall0 = performance.now();

  // Idle: the same reads with nothing else on the array.
  const idle = histogram();
  let n = 0;
  await reader(array, lab, () => ++n > 2000, () => idle);
  await lab.clock.sleep(1e9);

  const per = SEG / LBS;
  const segs = GiB / SEG;
  const segments = Array.from({ length: segs }, (_, i) => b2bSegment({ src: 0, dst: 1, blocks: per, srcLba: i * per, dstLba: i * per }));
  const list = xcopyLid4({ listId: 1, immed: true, cscds: [e4Descriptor(array.lus[0]!.naa, LBS), e4Descriptor(array.lus[1]!.naa, LBS)], segments });
  const m0 = lab.clock.now();
  await array.executeAsync(HOST, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), list);
  let current = histogram();
  let running = true;
  const reads = reader(array, lab, () => !running, () => current);

  const t = table(['modeled ms', 'status', 'segments', 'transferred', 'fg reads', 'fg p50 µs', 'fg p99 µs', 'fg max µs'], ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right']);
  const closed = segs * (20_000 + (SEG * 1000) / xcopyMbps);
  for (;;) {
    await lab.clock.sleep(closed / 10);
    const r = await array.executeAsync(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, 1, 64), undefined, 64);
    const status = r.dataIn[5]!;
    const count = be64(r.dataIn, 16);
    t.push([((lab.clock.now() - m0) / 1e6).toFixed(1), STATUS_NAME[status] ?? `0x${status.toString(16)}`, `${be16(r.dataIn, 24)}/${segs}`, `${(count / (1 << 20)).toFixed(0)} MiB`, current.totalCount, us(current.getValueAtPercentile(50)), us(current.getValueAtPercentile(99)), us(current.maxValue)]);
    current = histogram();
    if (status !== CopyStatus.LID4_IN_PROGRESS_BG) break;
  }
  running = false;
  await reads;
  const modeledNs = lab.clock.now() - m0;
  const wallMs = performance.now() - wall0;
  await lab.close();

  console.log(`1 GiB EXTENDED COPY (LID4, IMMED=1) on sas-array, copy manager ${xcopyMbps} MB/s, 16 × 64 MiB segments, 4 KiB QD 1 random reads on the source LU meanwhile:`);
  console.log(t.toString());
  console.log(`idle array, same reads: p50 ${us(idle.getValueAtPercentile(50))} µs, p99 ${us(idle.getValueAtPercentile(99))} µs, max ${us(idle.maxValue)} µs (${idle.totalCount} reads)`);
  console.log('The copy manager reserves each 1 MiB chunk\'s media work (source reads, destination programs) as its data mover reaches it: a read that lands on a die busy with a chunk waits for that die (p99, max).');
  console.log(`copy: closed form ${(closed / 1e6).toFixed(1)} ms (segments × (xcopy_segment_us + 64 MiB / xcopy_mbps)); modeled until the poll that saw it end ${(modeledNs / 1e6).toFixed(1)} ms`);
  console.log(`simulator: ${(modeledNs / 1e6).toFixed(0)} ms modeled in ${wallMs.toFixed(0)} ms wall (${(modeledNs / 1e6 / wallMs).toFixed(2)}× real time)`);
}

void main();
