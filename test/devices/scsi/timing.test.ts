import { describe, expect, it } from 'vitest';
import { Lab } from '../../../src/app/lab.js';
import { addScsiArray } from '../../../devices/scsi/attach.js';
import type { ScsiArray } from '../../../devices/scsi/array.js';
import { b2bSegment, e4Descriptor, rw16Cdb, tpcInCdb, tpcOutCdb, xcopyLid4, populateTokenList, writeUsingTokenList, tokenFromRrti } from '../../../devices/scsi/build.js';
import { CopyStatus, Status, TpcInSa, TpcOutSa } from '../../../devices/scsi/constants.js';
import { be16, be32, be64 } from '../../../src/core/util/bytes.js';
import { decodeSense, type ScsiResult } from '../../../devices/scsi/sense.js';
import { resolveTiming } from '../../../devices/timing/params.js';
import { TPC_LIMITS } from '../../../devices/scsi/tpc-limits.js';
import { pattern } from '../../helpers.js';
import { parseScenarioText } from '../../../src/app/scenario/parse.js';
import { runScenario } from '../../../src/app/scenario/run.js';

const HOST = 'iqn.2024-01.org.copylab:host';
const MS = 1e6;
const GiB = 1 << 30;
const SEG = 64 << 20; // 64 MiB segments: 16384 blocks of 4 KiB
const LBS = 4096;
// A SAS array whose copy manager moves 500 MB/s: a 1 GiB copy takes about 2.15 s of modeled time.
const TIMING = { preset: 'sas-array', xcopy_mbps: 500 } as const;

function timedLab(timing: unknown = TIMING, size = GiB): { lab: Lab; array: ScsiArray } {
  const lab = new Lab();
  const { array } = addScsiArray(lab, { name: 'arr0', timing: timing as never, lus: [{ name: 'sda', size, lbs: LBS }, { name: 'sdb', size, lbs: LBS }] });
  return { lab, array };
}

const run = (a: ScsiArray, lun: number, cdb: Uint8Array, data?: Uint8Array, alloc = 0): Promise<ScsiResult> => a.executeAsync(HOST, lun, cdb, data, alloc);

async function ok(p: Promise<ScsiResult>): Promise<ScsiResult> {
  const r = await p;
  if (r.status !== Status.GOOD) throw new Error(`status ${r.status} sense ${JSON.stringify(decodeSense(r.senseData))}`);
  return r;
}

/** A LID4 list copying `segments` × SEG from sda to sdb, segment i at the same LBA. */
function lid4List(a: ScsiArray, listId: number, segments: number, immed: boolean, blocksPerSeg = SEG / LBS): Uint8Array {
  const segs = [];
  for (let i = 0; i < segments; i++) segs.push(b2bSegment({ src: 0, dst: 1, blocks: blocksPerSeg, srcLba: i * blocksPerSeg, dstLba: i * blocksPerSeg }));
  return xcopyLid4({ listId, immed, cscds: [e4Descriptor(a.lus[0]!.naa, LBS), e4Descriptor(a.lus[1]!.naa, LBS)], segments: segs });
}

interface Lid4Status {
  status: number;
  count: number;
  segments: number;
  delayMs: number;
  units: number;
}
async function copyStatus(a: ScsiArray, listId: number, sa: number = TpcInSa.RECEIVE_COPY_STATUS_LID4, lun = 0): Promise<Lid4Status> {
  const r = await ok(run(a, lun, tpcInCdb(sa, listId, 1024), undefined, 1024));
  const d = r.dataIn;
  return { status: d[5]!, count: be64(d, 16), segments: be16(d, 24), delayMs: be32(d, 8), units: d[15]! };
}

/** Marks the first, a middle and the last block of every segment of sda with its own pattern. */
async function markSource(a: ScsiArray, segments: number): Promise<Map<number, Uint8Array>> {
  const marks = new Map<number, Uint8Array>();
  const per = SEG / LBS;
  for (let i = 0; i < segments; i++) {
    for (const lba of [i * per, i * per + 777, (i + 1) * per - 1]) {
      const data = pattern(LBS, 1000 + lba, 0);
      await ok(run(a, 0, rw16Cdb(true, lba, 1), data));
      marks.set(lba, data);
    }
  }
  return marks;
}

async function readBlock(a: ScsiArray, lun: number, lba: number): Promise<Uint8Array> {
  return (await ok(run(a, lun, rw16Cdb(false, lba, 1), undefined, LBS))).dataIn;
}

describe('a timed SCSI array', () => {
  it('answers a 4 KiB READ at the modeled time, never in the same turn; an untimed array still does', async () => {
    const { lab, array } = timedLab();
    const p = resolveTiming(TIMING)!;
    expect(array.executeNow(HOST, 0, rw16Cdb(false, 0, 1), undefined, LBS)).toBeNull();
    await ok(run(array, 0, rw16Cdb(true, 8, 1), pattern(LBS, 5, 0)));
    await lab.clock.sleep(1e9); // the write-back buffer drains; every die is idle again
    const t0 = lab.clock.now();
    const back = await readBlock(array, 0, 8);
    expect(back).toEqualBytes(pattern(LBS, 5, 0));
    // Link latency + controller + tR + channel transfer + link transfer (the model's closed form).
    const expected = (p.link_latency_us + p.ctrl_overhead_us + p.tr_us) * 1000 + (LBS * 1000) / p.channel_mbps + (LBS * 1000) / p.link_mbps;
    expect(lab.clock.now() - t0).toBeCloseTo(expected, 3);
    // The sd disk shows its array's model; an untimed array answers at once, as before.
    expect(lab.readSysfs('/sys/block/sda/timing/preset').value).toBe('sas-array');
    expect(lab.readSysfs('/sys/block/sda/timing/xcopy_mbps').value).toBe('500');
    const plain = addScsiArray(lab, { name: 'arr1', lus: [{ name: 'sdc', size: 1 << 20 }] }).array;
    expect(plain.executeNow(HOST, 0, rw16Cdb(false, 0, 1), undefined, 512)?.status).toBe(Status.GOOD);
    expect(lab.readSysfs('/sys/block/sdc/timing/preset').value).toBe('none');
    // An LU with a model of its own in an otherwise untimed array: only it goes on the clock.
    const mixed = addScsiArray(lab, { name: 'arr2', lus: [{ name: 'sdx', size: 1 << 20 }, { name: 'sdy', size: 1 << 20, timing: 'femu' }] }).array;
    expect(mixed.executeNow(HOST, 0, rw16Cdb(false, 0, 1), undefined, 512)?.status).toBe(Status.GOOD);
    expect(mixed.executeNow(HOST, 1, rw16Cdb(false, 0, 1), undefined, 512)).toBeNull();
    expect(lab.readSysfs('/sys/block/sdy/timing/preset').value).toBe('femu');
    expect(() => addScsiArray(lab, { name: 'arr3', timing: 'warp' as never, lus: [] })).toThrow(/unknown preset "warp"/);
    await lab.close();
  });

  it('a bio through sd takes modeled time; an offloaded copy costs the copy manager, not the host link', async () => {
    const { lab } = timedLab(TIMING, 256 << 20);
    const len = 8 << 20;
    const src = pattern(len, 3, 0);
    await lab.write('/dev/sda', 0, src);
    let t0 = lab.clock.now();
    const r = await lab.copy('/dev/sdb', [{ src: '/dev/sda', srcOffset: 0, dstOffset: 4 << 20, length: len }]);
    const copyNs = lab.clock.now() - t0;
    expect(r.path).toBe('offload');
    expect(r.host_bytes).toBe(0);
    t0 = lab.clock.now();
    expect(await lab.read('/dev/sdb', 4 << 20, len)).toEqualBytes(src);
    expect(lab.clock.now() - t0).toBeGreaterThan(0);
    // One segment at 500 MB/s plus its 20 µs; at least that, and not the link's 2 × 8 MiB.
    expect(copyNs).toBeGreaterThanOrEqual((len * 1000) / 500);
    expect(copyNs).toBeLessThan((len * 1000) / 500 + 5 * MS);
    await lab.close();
  });

  it('scenario: timing on a scsi device and per LU; a bad key is named', async () => {
    const r = await runScenario(parseScenarioText(`
devices:
  - kind: scsi
    array: arr0
    timing: { preset: sas-array, xcopy_mbps: 1000 }
    lus:
      - { name: sda, size: 64MiB }
      - { name: sdb, size: 64MiB, timing: femu }
steps:
  - fill: { dev: /dev/sda, offset: 0, length: 4MiB, seed: 1 }
  - copy: { dev: /dev/sdb, ranges: [ { src_dev: /dev/sda, src: 0, dst: 0, length: 4MiB } ] }
  - verify: { dev: /dev/sdb, offset: 0, length: 4MiB, seed: 1, pattern_offset: 0 }
`));
    expect(r.ok).toBe(true);
    for (const s of r.steps) expect(s.modeled_us).toBeGreaterThan(0);
    expect(() => parseScenarioText(`
devices:
  - kind: scsi
    array: arr0
    timing: { preset: sas-array, xcopy_mbps: 0 }
    lus: [ { name: sda, size: 64MiB } ]
`)).toThrow(/devices\[0\]\.timing: xcopy_mbps must be a number in 1..1000000/);
  });
});

describe('copies that take time (LID4 background copies, SPC-4 5.17.4)', () => {
  it('a 1 GiB LID4 copy with IMMED=1: RECEIVE COPY STATUS shows a growing count, then success; the data is there', async () => {
    const { lab, array } = timedLab();
    const n = GiB / SEG;
    const marks = await markSource(array, n);
    await lab.clock.sleep(1e9);
    const list = lid4List(array, 42, n, true);
    const t0 = lab.clock.now();
    await ok(run(array, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), list));
    const answered = lab.clock.now() - t0;
    expect(answered).toBeLessThan(1 * MS); // the command completes at once; the copy goes on
    const seen: Lid4Status[] = [];
    for (;;) {
      const s = await copyStatus(array, 42);
      seen.push(s);
      if (s.status !== CopyStatus.LID4_IN_PROGRESS_BG) break;
      // ESTIMATED STATUS UPDATE DELAY: until the segment in flight ends (at most one segment's time).
      expect(s.delayMs).toBeGreaterThan(0);
      expect(s.delayMs).toBeLessThanOrEqual(Math.ceil((20_000 + (SEG * 1000) / 500) / MS));
      await lab.clock.sleep(100 * MS);
    }
    const elapsed = lab.clock.now() - t0;
    const last = seen.at(-1)!;
    expect(last.status).toBe(CopyStatus.COMPLETED_GOOD);
    expect(last.count).toBe(GiB);
    expect(last.segments).toBe(n);
    expect(last.units).toBe(0); // bytes
    const counts = seen.map((s) => s.count);
    for (let i = 1; i < counts.length; i++) expect(counts[i]!).toBeGreaterThanOrEqual(counts[i - 1]!);
    const between = new Set(counts.filter((c) => c > 0 && c < GiB));
    expect(between.size).toBeGreaterThan(5);
    // Modeled time: 16 segments of 64 MiB at 500 MB/s and 20 µs each (the copy manager binds).
    const expected = n * (20_000 + (SEG * 1000) / 500);
    expect(Math.abs(elapsed - expected) / expected).toBeLessThan(0.06); // polls land every 100 ms
    for (const [lba, data] of marks) expect(await readBlock(array, 1, lba), `LBA ${lba}`).toEqualBytes(data);
    await lab.close();
  });

  it('COPY OPERATION ABORT halfway: earlier segments copied, later ones untouched, the count reported', async () => {
    const { lab, array } = timedLab();
    const n = GiB / SEG;
    const marks = await markSource(array, n);
    await lab.clock.sleep(1e9);
    const list = lid4List(array, 7, n, true);
    await ok(run(array, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), list));
    const perSeg = 20_000 + (SEG * 1000) / 500;
    await lab.clock.sleep(8.5 * perSeg); // segment 8 is being moved
    await ok(run(array, 0, tpcOutCdb(TpcOutSa.COPY_OPERATION_ABORT, 0, 7)));
    const s = await copyStatus(array, 7);
    expect(s.status).toBe(CopyStatus.LID4_ABORTED);
    expect(s.segments).toBe(8);
    expect(s.count).toBe(8 * SEG);
    await lab.clock.sleep(2e9); // nothing moves later either
    expect((await copyStatus(array, 7)).count).toBe(8 * SEG);
    const per = SEG / LBS;
    for (const [lba, data] of marks) {
      const back = await readBlock(array, 1, lba);
      if (lba < 8 * per) expect(back, `copied LBA ${lba}`).toEqualBytes(data);
      else expect(back.every((b) => b === 0), `untouched LBA ${lba}`).toBe(true);
    }
    // The list identifier is free again once the operation ended.
    await ok(run(array, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), list));
    await lab.close();
  });

  it('foreground I/O interleaves with a background copy and contends for the same dies', async () => {
    const { lab, array } = timedLab();
    await ok(run(array, 0, rw16Cdb(true, 0, 1), pattern(LBS, 9, 0)));
    await lab.clock.sleep(1e9);
    let t0 = lab.clock.now();
    await readBlock(array, 0, 0);
    const idle = lab.clock.now() - t0;
    await lab.clock.sleep(1e9);
    const list = lid4List(array, 3, 4, true);
    const start = lab.clock.now();
    await ok(run(array, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), list));
    t0 = lab.clock.now();
    expect(await readBlock(array, 0, 0)).toEqualBytes(pattern(LBS, 9, 0));
    const busy = lab.clock.now() - t0;
    expect(busy).toBeGreaterThan(idle); // queued behind the copy's media reads on the same die
    const s = await copyStatus(array, 3);
    expect(s.status).toBe(CopyStatus.LID4_IN_PROGRESS_BG); // the read finished long before the copy
    expect(lab.clock.now() - start).toBeLessThan(4 * (SEG * 1000) / 500);
    await lab.close();
  });

  it('IMMED=0 runs in the foreground: in progress (11h) to others meanwhile; an abort ends the command with TASK ABORTED', async () => {
    const { lab, array } = timedLab();
    const list = lid4List(array, 5, 4, false);
    const t0 = lab.clock.now();
    const cmd = run(array, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), list);
    await lab.clock.sleep(50 * MS);
    expect((await copyStatus(array, 5)).status).toBe(CopyStatus.LID4_IN_PROGRESS_FG);
    const r1 = await cmd;
    expect(r1.status).toBe(Status.GOOD);
    expect(lab.clock.now() - t0).toBeGreaterThanOrEqual(4 * (SEG * 1000) / 500);
    expect((await copyStatus(array, 5)).status).toBe(CopyStatus.COMPLETED_GOOD);
    const cmd2 = run(array, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), list);
    await lab.clock.sleep(200 * MS);
    await ok(run(array, 0, tpcOutCdb(TpcOutSa.COPY_OPERATION_ABORT, 0, 5)));
    expect((await cmd2).status).toBe(Status.TASK_ABORTED);
    const s = await copyStatus(array, 5);
    expect([s.status, s.segments]).toEqual([CopyStatus.LID4_ABORTED, 1]);
    await lab.close();
  });

  it('WRITE USING TOKEN with IMMED=1 runs in the background: RECEIVE ROD TOKEN INFORMATION shows 12h, then 01h', async () => {
    const { lab, array } = timedLab();
    const blocks = (128 << 20) / LBS;
    const marks = [0, blocks / 2, blocks - 1];
    for (const lba of marks) await ok(run(array, 0, rw16Cdb(true, lba, 1), pattern(LBS, lba, 0)));
    const pt = populateTokenList([{ lba: 0, blocks }]);
    const t0 = lab.clock.now();
    await ok(run(array, 0, tpcOutCdb(TpcOutSa.POPULATE_TOKEN, pt.length, 11), pt));
    expect(lab.clock.now() - t0).toBeGreaterThanOrEqual(resolveTiming(TIMING)!.populate_token_us * 1000);
    const info = await ok(run(array, 0, tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 11), undefined, 1024));
    const token = tokenFromRrti(info.dataIn)!;
    const wut = writeUsingTokenList(token, [{ lba: 0, blocks }]);
    wut[2]! |= 0x01; // IMMED
    await ok(run(array, 1, tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, wut.length, 12), wut));
    const during = await copyStatus(array, 12, TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 1);
    expect(during.status).toBe(CopyStatus.LID4_IN_PROGRESS_BG);
    let s = during;
    while (s.status === CopyStatus.LID4_IN_PROGRESS_BG) {
      await lab.clock.sleep(50 * MS);
      s = await copyStatus(array, 12, TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 1);
    }
    expect(s.status).toBe(CopyStatus.COMPLETED_GOOD);
    expect(s.count).toBe(blocks);
    expect(s.units).toBe(0xf1); // logical blocks
    for (const lba of marks) expect(await readBlock(array, 1, lba)).toEqualBytes(pattern(LBS, lba, 0));
    // The same copy again, in 64 MiB ranges, aborted during the second: the first range is there, the rest is not.
    const half = blocks / 2;
    const info2 = await ok(run(array, 0, tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 11), undefined, 1024));
    const wut2 = writeUsingTokenList(tokenFromRrti(info2.dataIn)!, [{ lba: half * 4, blocks: half }, { lba: half * 6, blocks: half }]);
    wut2[2]! |= 0x01;
    await ok(run(array, 1, tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, wut2.length, 13), wut2));
    await lab.clock.sleep((1.5 * half * LBS * 1000) / 500);
    await ok(run(array, 1, tpcOutCdb(TpcOutSa.COPY_OPERATION_ABORT, 0, 13)));
    const ab = await copyStatus(array, 13, TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 1);
    expect([ab.status, ab.count, ab.segments]).toEqual([CopyStatus.LID4_ABORTED, half, 1]);
    expect(await readBlock(array, 1, half * 4)).toEqualBytes(pattern(LBS, 0, 0));
    expect((await readBlock(array, 1, half * 6)).every((x) => x === 0)).toBe(true);
    await lab.close();
  });

  it('limits: a list identifier in use is OPERATION IN PROGRESS; one copy more than MAXIMUM CONCURRENT COPIES is INSUFFICIENT RESOURCES', async () => {
    const { lab, array } = timedLab();
    const first = lid4List(array, 1, 1, true);
    await ok(run(array, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, first.length), first));
    const again = await run(array, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, first.length), first);
    const s1 = decodeSense(again.senseData)!;
    expect([again.status, s1.key, s1.asc, s1.ascq]).toEqual([Status.CHECK_CONDITION, 0x5, 0x00, 0x16]);
    for (let id = 2; id <= TPC_LIMITS.maxConcurrentCopies; id++) {
      const l = lid4List(array, id, 1, true);
      await ok(run(array, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, l.length), l));
    }
    const over = lid4List(array, 99, 1, true);
    const r = await run(array, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, over.length), over);
    const s2 = decodeSense(r.senseData)!;
    expect([r.status, s2.key, s2.asc, s2.ascq]).toEqual([Status.CHECK_CONDITION, 0x5, 0x55, 0x03]);
    await expect(run(array, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, 99, 64), undefined, 64)).resolves.toMatchObject({ status: Status.CHECK_CONDITION });
    // Another initiator (another I_T nexus) still may.
    const other = await array.executeAsync('iqn.2024-01.org.copylab:other', 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, over.length), over);
    expect(other.status).toBe(Status.GOOD);
    // What is advertised is what is enforced: RECEIVE COPY OPERATING PARAMETERS.
    const op = await ok(run(array, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_OPERATING_PARAMETERS, 0, 256), undefined, 256));
    expect(be16(op.dataIn, 34)).toBe(TPC_LIMITS.totalConcurrentCopies);
    expect(op.dataIn[36]).toBe(TPC_LIMITS.maxConcurrentCopies);
    await lab.close();
  });

  it('I_T nexus loss aborts the initiator\'s background copies: nothing moves after it', async () => {
    const { lab, array } = timedLab();
    const marks = await markSource(array, 4);
    const list = lid4List(array, 9, 4, true);
    await ok(run(array, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), list));
    await lab.clock.sleep(1.5 * (SEG * 1000) / 500); // segment 0 copied, segment 1 in flight
    array.nexusLoss(HOST);
    expect(array.copyOps.size).toBe(0);
    await lab.clock.sleep(2e9);
    const per = SEG / LBS;
    for (const [lba, data] of marks) {
      const back = await readBlock(array, 1, lba);
      if (lba < per) expect(back).toEqualBytes(data);
      else expect(back.every((b) => b === 0)).toBe(true);
    }
    await lab.close();
  });
});
