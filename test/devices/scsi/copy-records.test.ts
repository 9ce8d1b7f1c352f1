/**
 * The copy manager's records of copy operations (copy-lists.ts, SPC-4 5.17.4.3): every way a
 * copy command ends — GOOD, CHECK CONDITION, another status (RESERVATION CONFLICT), an exception,
 * COPY OPERATION ABORT, I_T nexus loss — ends its record, so RECEIVE COPY STATUS reports it
 * ended (or, once dropped, unknown) and its list identifier can be used again; and the records
 * are bounded per I_T nexus and per array, in progress and ended.
 */
import { describe, expect, it } from 'vitest';
import type { ScsiArray } from '../../../devices/scsi/array.js';
import { b2bSegment, e4Descriptor, populateTokenList, prOut, tokenFromRrti, tpcInCdb, tpcOutCdb, writeUsingTokenList, xcopyLid1, xcopyLid4 } from '../../../devices/scsi/build.js';
import { ASC, CopyStatus, PrOutSa, PrType, SenseKey, Status, TpcInSa, TpcOutSa } from '../../../devices/scsi/constants.js';
import { ListTable, type ListRecord } from '../../../devices/scsi/copy-lists.js';
import { ScsiCheck, decodeSense } from '../../../devices/scsi/sense.js';
import { TPC_LIMITS } from '../../../devices/scsi/tpc-limits.js';
import { Lab } from '../../../src/app/lab.js';
import { addScsiArray } from '../../../devices/scsi/attach.js';
import { be16, be32 } from '../../../src/core/util/bytes.js';
import { HOST, fill, ok, readBack, sense, twoArrays } from './helpers.js';

const BOB = 'iqn.2024-01.org.copylab:bob';
const BOB_KEY = 0xb0bn;

/** Bob registers and takes WRITE EXCLUSIVE on LUN 1 (sdb) of the array. */
function bobReserves(a: ScsiArray): void {
  for (const [sa, key, saKey] of [[PrOutSa.REGISTER, 0n, BOB_KEY], [PrOutSa.RESERVE, BOB_KEY, 0n]] as const) {
    const { cdb, data } = prOut(sa, PrType.WRITE_EXCLUSIVE, key, saKey);
    ok(a.execute(BOB, 1, cdb, data));
  }
}

function bobReleases(a: ScsiArray): void {
  const { cdb, data } = prOut(PrOutSa.RELEASE, PrType.WRITE_EXCLUSIVE, BOB_KEY, 0n);
  ok(a.execute(BOB, 1, cdb, data));
}

/** A LID4 (or LID1) list copying 8 blocks from sda LBA 0 to sdb LBA 64. */
function list(a: ScsiArray, listId: number, o: { lid1?: boolean; immed?: boolean } = {}): { cdb: Uint8Array; data: Uint8Array } {
  const l = { listId, immed: o.immed ?? false, cscds: [e4Descriptor(a.lus[0]!.naa, 512), e4Descriptor(a.lus[1]!.naa, 512)], segments: [b2bSegment({ src: 0, dst: 1, blocks: 8, srcLba: 0, dstLba: 64 })] };
  const data = o.lid1 ? xcopyLid1(l) : xcopyLid4(l);
  return { cdb: tpcOutCdb(o.lid1 ? TpcOutSa.EXTENDED_COPY_LID1 : TpcOutSa.EXTENDED_COPY_LID4, data.length), data };
}

const xcopy = (a: ScsiArray, listId: number, o: { lid1?: boolean; immed?: boolean } = {}, who = HOST) => {
  const { cdb, data } = list(a, listId, o);
  return a.execute(who, 0, cdb, data);
};

/** RECEIVE COPY STATUS (LID4): copy operation status, completion status, sense — or the CHECK CONDITION. */
function lid4Status(a: ScsiArray, listId: number, who = HOST): { status: number; commandStatus: number; senseKey: number | null } | { check: [number, number, number] } {
  const r = a.execute(who, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, listId, 256), undefined, 256);
  if (r.status !== Status.GOOD) {
    const s = sense(r);
    return { check: [s.key, s.asc, s.ascq] };
  }
  const d = r.dataIn;
  return { status: d[5]!, commandStatus: d[12]!, senseKey: d[14]! ? d[32 + 2]! & 0x0f : null };
}

const UNKNOWN = { check: [SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB.asc, ASC.INVALID_FIELD_IN_CDB.ascq] };

describe('copy operation records end with their command', () => {
  it('the probe: a RESERVATION CONFLICT during EXTENDED COPY (LID4) ends its record; the id is free again', () => {
    const { a0 } = twoArrays();
    const src = fill(a0, 0, 0, 8, 5);
    bobReserves(a0);
    expect(xcopy(a0, 0x1234).status).toBe(Status.RESERVATION_CONFLICT);
    expect(readBack(a0, 1, 64, 8).every((b) => b === 0)).toBe(true);
    // Ended, with error: COPY OPERATION STATUS 02h, EXTENDED COPY COMPLETION STATUS 18h, no sense.
    expect(lid4Status(a0, 0x1234)).toEqual({ status: CopyStatus.COMPLETED_ERROR, commandStatus: Status.RESERVATION_CONFLICT, senseKey: null });
    expect(a0.copyManager.lists.running).toBe(0);
    // Reusing the id meets the reservation again (not OPERATION IN PROGRESS).
    expect(xcopy(a0, 0x1234).status).toBe(Status.RESERVATION_CONFLICT);
    bobReleases(a0);
    expect(lid4Status(a0, 0x1234)).toMatchObject({ status: CopyStatus.COMPLETED_ERROR });
    ok(xcopy(a0, 0x1234));
    expect(readBack(a0, 1, 64, 8)).toEqualBytes(src);
    expect(lid4Status(a0, 0x1234)).toEqual({ status: CopyStatus.COMPLETED_GOOD, commandStatus: Status.GOOD, senseKey: null });
  });

  it('LID1: RECEIVE COPY STATUS says completed with error, FAILURE DETAILS carries the RESERVATION CONFLICT status', () => {
    const { a0 } = twoArrays();
    bobReserves(a0);
    expect(xcopy(a0, 9, { lid1: true }).status).toBe(Status.RESERVATION_CONFLICT);
    const st = ok(a0.execute(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID1, 9), undefined, 64)).dataIn;
    expect([st[4], be16(st, 5)]).toEqual([CopyStatus.COMPLETED_ERROR, 0]);
    const fd = ok(a0.execute(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_FAILURE_DETAILS_LID1, 9), undefined, 256)).dataIn;
    expect([fd[56], be16(fd, 58)]).toEqual([Status.RESERVATION_CONFLICT, 0]);
    bobReleases(a0);
    ok(xcopy(a0, 9, { lid1: true }));
  });

  it('LID4 with IMMED: the command completes GOOD and the conflict is reported through RECEIVE COPY STATUS', () => {
    const { a0 } = twoArrays();
    bobReserves(a0);
    ok(xcopy(a0, 77, { immed: true }));
    expect(lid4Status(a0, 77)).toEqual({ status: CopyStatus.COMPLETED_ERROR, commandStatus: Status.RESERVATION_CONFLICT, senseKey: null });
  });

  it('a CHECK CONDITION mid-copy (COPY ABORTED) ends the record with its sense; the id is free again', () => {
    const { a0 } = twoArrays();
    fill(a0, 0, 0, 8, 2);
    a0.lus[1]!.injectCopyWriteFault(0);
    const s = sense(xcopy(a0, 5));
    expect([s.key, s.asc, s.ascq]).toEqual([SenseKey.COPY_ABORTED, 0x0d, 0x02]);
    expect(lid4Status(a0, 5)).toEqual({ status: CopyStatus.COMPLETED_ERROR, commandStatus: Status.CHECK_CONDITION, senseKey: SenseKey.COPY_ABORTED });
    ok(xcopy(a0, 5));
    expect(lid4Status(a0, 5)).toMatchObject({ status: CopyStatus.COMPLETED_GOOD });
  });

  it('an exception inside a copy (a defect of the model) is HARDWARE ERROR and ends the record: EXTENDED COPY and WRITE USING TOKEN', () => {
    const { a0 } = twoArrays();
    fill(a0, 0, 0, 8, 3);
    const sdb = a0.lus[1]!;
    const healthy = sdb.takeWriteFault.bind(sdb);
    sdb.takeWriteFault = () => {
      throw new Error('a defect');
    };
    const s = sense(xcopy(a0, 6));
    expect(s.key).toBe(SenseKey.HARDWARE_ERROR);
    expect(lid4Status(a0, 6)).toEqual({ status: CopyStatus.COMPLETED_ERROR, commandStatus: Status.CHECK_CONDITION, senseKey: SenseKey.HARDWARE_ERROR });
    // WRITE USING TOKEN through the same defect: RECEIVE ROD TOKEN INFORMATION reports it ended.
    const pt = populateTokenList([{ lba: 0, blocks: 8 }]);
    ok(a0.execute(HOST, 0, tpcOutCdb(TpcOutSa.POPULATE_TOKEN, pt.length, 40), pt));
    const token = tokenFromRrti(ok(a0.execute(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 40), undefined, 1024)).dataIn)!;
    const wut = writeUsingTokenList(token, [{ lba: 0, blocks: 8 }]);
    expect(sense(a0.execute(HOST, 1, tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, wut.length, 41), wut)).key).toBe(SenseKey.HARDWARE_ERROR);
    const info = ok(a0.execute(HOST, 1, tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 41), undefined, 1024)).dataIn;
    expect([info[5], info[12], info[32 + 2]! & 0x0f]).toEqual([CopyStatus.COMPLETED_ERROR, Status.CHECK_CONDITION, SenseKey.HARDWARE_ERROR]);
    expect(a0.copyManager.lists.running).toBe(0);
    sdb.takeWriteFault = healthy;
    ok(xcopy(a0, 6));
    ok(a0.execute(HOST, 1, tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, wut.length, 41), wut));
  });

  it('a list identifier held by POPULATE TOKEN is reused; one in the other list identifier space does not collide', () => {
    const { a0 } = twoArrays();
    const pt = populateTokenList([{ lba: 0, blocks: 8 }]);
    ok(a0.execute(HOST, 0, tpcOutCdb(TpcOutSa.POPULATE_TOKEN, pt.length, 3), pt));
    ok(a0.execute(HOST, 0, tpcOutCdb(TpcOutSa.POPULATE_TOKEN, pt.length, 3), pt));
    ok(xcopy(a0, 3, { lid1: true }));
    ok(xcopy(a0, 3));
    expect(lid4Status(a0, 3)).toMatchObject({ status: CopyStatus.COMPLETED_GOOD });
  });

  it('thousands of conflicting EXTENDED COPY commands: every id reports ended or unknown, the records stay bounded', () => {
    const { a0 } = twoArrays();
    bobReserves(a0);
    const n = 3000;
    for (let id = 1; id <= n; id++) expect(xcopy(a0, id).status).toBe(Status.RESERVATION_CONFLICT);
    expect(a0.copyManager.lists.size).toBe(TPC_LIMITS.maxFinishedListsPerNexus);
    expect(a0.copyManager.lists.running).toBe(0);
    const seen = { ended: 0, unknown: 0 };
    for (let id = 1; id <= n; id++) {
      const st = lid4Status(a0, id);
      if ('check' in st) {
        expect(st).toEqual(UNKNOWN);
        seen.unknown++;
      } else {
        expect(st).toEqual({ status: CopyStatus.COMPLETED_ERROR, commandStatus: Status.RESERVATION_CONFLICT, senseKey: null });
        seen.ended++;
      }
    }
    // The newest are kept, the oldest dropped first.
    expect(seen).toEqual({ ended: TPC_LIMITS.maxFinishedListsPerNexus, unknown: n - TPC_LIMITS.maxFinishedListsPerNexus });
    expect('check' in lid4Status(a0, n - TPC_LIMITS.maxFinishedListsPerNexus)).toBe(true);
    expect('check' in lid4Status(a0, n - TPC_LIMITS.maxFinishedListsPerNexus + 1)).toBe(false);
    // Per array: many initiators' records stay within the array's bound, the oldest dropped first.
    const initiators = Math.ceil(TPC_LIMITS.maxFinishedListsPerArray / TPC_LIMITS.maxFinishedListsPerNexus) + 2;
    for (let k = 0; k < initiators; k++) for (let id = 1; id <= TPC_LIMITS.maxFinishedListsPerNexus; id++) expect(xcopy(a0, id, {}, `iqn.2024-01.org.copylab:i${k}`).status).toBe(Status.RESERVATION_CONFLICT);
    expect(a0.copyManager.lists.size).toBe(TPC_LIMITS.maxFinishedListsPerArray);
    expect('check' in lid4Status(a0, n)).toBe(true); // HOST's were the oldest
    expect('check' in lid4Status(a0, TPC_LIMITS.maxFinishedListsPerNexus, `iqn.2024-01.org.copylab:i${initiators - 1}`)).toBe(false);
    // I_T nexus loss takes a nexus's records with it.
    const before = a0.copyManager.lists.size;
    a0.nexusLoss(`iqn.2024-01.org.copylab:i${initiators - 1}`);
    expect(a0.copyManager.lists.size).toBe(before - TPC_LIMITS.maxFinishedListsPerNexus);
  });
});

describe('the record table (copy-lists.ts)', () => {
  const rec = (): ListRecord => ({ sa: TpcOutSa.EXTENDED_COPY_LID4, status: CopyStatus.LID4_IN_PROGRESS_FOREGROUND, commandStatus: Status.GOOD, segmentsProcessed: 0, transferCount: 0, units: 'bytes', sense: null });
  const ended = (): ListRecord => ({ ...rec(), status: CopyStatus.COMPLETED_GOOD });
  const refusal = (f: () => unknown): [number, number] => {
    try {
      f();
    } catch (err) {
      if (err instanceof ScsiCheck) return [err.code.asc, err.code.ascq];
      throw err;
    }
    throw new Error('not refused');
  };
  const IN_PROGRESS: [number, number] = [ASC.OPERATION_IN_PROGRESS.asc, ASC.OPERATION_IN_PROGRESS.ascq];
  const RESOURCES: [number, number] = [ASC.INSUFFICIENT_RESOURCES.asc, ASC.INSUFFICIENT_RESOURCES.ascq];

  it('operations in progress: an identifier in use is OPERATION IN PROGRESS; past the per-nexus and per-array limits INSUFFICIENT RESOURCES', () => {
    const t = new ListTable({ maxRunningPerNexus: 2, maxRunningPerArray: 3, maxFinishedPerNexus: 4, maxFinishedPerArray: 6 });
    const a1 = t.open('a', 'a|1', rec());
    expect(refusal(() => t.open('a', 'a|1', rec()))).toEqual(IN_PROGRESS);
    expect(refusal(() => t.add('a', 'a|1', ended()))).toEqual(IN_PROGRESS);
    t.open('a', 'a|2', rec());
    expect(refusal(() => t.open('a', 'a|3', rec()))).toEqual(RESOURCES);
    t.open('b', 'b|1', rec());
    expect(refusal(() => t.open('c', 'c|1', rec()))).toEqual(RESOURCES);
    expect([t.running, t.size]).toEqual([3, 3]);
    // A refusal leaves the old record of the identifier alone.
    a1.rec.status = CopyStatus.COMPLETED_GOOD;
    t.finish(a1);
    const a3 = t.open('a', 'a|3', rec());
    expect(refusal(() => t.open('a', 'a|1', rec()))).toEqual(RESOURCES);
    expect(t.get('a|1')!.status).toBe(CopyStatus.COMPLETED_GOOD);
    // Ended: the identifier is free again; the new record replaces the old.
    a3.rec.status = CopyStatus.COMPLETED_GOOD;
    t.finish(a3);
    const again = t.open('a', 'a|1', rec());
    expect(t.get('a|1')).toBe(again.rec);
    expect([t.running, t.size]).toEqual([3, 4]);
    // finish and drop are idempotent, and a dropped entry no longer counts.
    t.drop(again);
    t.drop(again);
    t.finish(again);
    expect([t.running, t.size]).toEqual([2, 3]);
  });

  it('ended operations: the oldest dropped first per nexus and per array; nexus loss takes running and ended ones', () => {
    const t = new ListTable({ maxRunningPerNexus: 8, maxRunningPerArray: 8, maxFinishedPerNexus: 3, maxFinishedPerArray: 5 });
    for (let i = 1; i <= 5; i++) t.add('a', `a|${i}`, ended());
    expect([1, 2, 3, 4, 5].map((i) => t.get(`a|${i}`) !== undefined)).toEqual([false, false, true, true, true]);
    for (let i = 1; i <= 3; i++) t.add('b', `b|${i}`, ended());
    expect(t.size).toBe(5);
    expect(t.get('a|3')).toBeUndefined(); // the array's oldest
    const running = t.open('a', 'a|9', rec());
    expect([t.running, t.size, t.nexusCount]).toEqual([1, 6, 2]);
    t.dropNexus('a');
    expect([t.running, t.size, t.nexusCount]).toEqual([0, 3, 1]);
    // Its operation ending later changes nothing.
    running.rec.status = CopyStatus.COMPLETED_GOOD;
    t.finish(running);
    expect([t.running, t.size]).toEqual([0, 3]);
    t.dropNexus('b');
    expect([t.size, t.nexusCount]).toEqual([0, 0]);
  });
});

describe('copy operation records on a timed array', () => {
  const LBS = 4096;
  const SEG = 64 << 20;
  function timed(): { lab: Lab; array: ScsiArray } {
    const lab = new Lab();
    const { array } = addScsiArray(lab, { name: 'arr0', timing: { preset: 'sas-array', xcopy_mbps: 500 } as never, lus: [{ name: 'sda', size: 1 << 30, lbs: LBS }, { name: 'sdb', size: 1 << 30, lbs: LBS }] });
    return { lab, array };
  }
  const bg = (a: ScsiArray, listId: number, who: string) => {
    const l = xcopyLid4({ listId, immed: true, cscds: [e4Descriptor(a.lus[0]!.naa, LBS), e4Descriptor(a.lus[1]!.naa, LBS)], segments: [b2bSegment({ src: 0, dst: 1, blocks: SEG / LBS, srcLba: 0, dstLba: 0 })] });
    return a.executeAsync(who, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, l.length), l);
  };

  it('TOTAL CONCURRENT COPIES per array: the copy past it is INSUFFICIENT RESOURCES and leaves no record; nexus loss ends them all', async () => {
    const { lab, array } = timed();
    const per = TPC_LIMITS.maxConcurrentCopies;
    const nexuses = TPC_LIMITS.totalConcurrentCopies / per;
    for (let k = 0; k < nexuses; k++) for (let id = 1; id <= per; id++) expect((await bg(array, id, `iqn.2024-01.org.copylab:n${k}`)).status).toBe(Status.GOOD);
    expect(array.copyManager.lists.running).toBe(TPC_LIMITS.totalConcurrentCopies);
    const over = await bg(array, 1, 'iqn.2024-01.org.copylab:late');
    const s = decodeSense(over.senseData)!;
    expect([over.status, s.key, s.asc, s.ascq]).toEqual([Status.CHECK_CONDITION, SenseKey.ILLEGAL_REQUEST, 0x55, 0x03]);
    const st = await array.executeAsync('iqn.2024-01.org.copylab:late', 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, 1, 64), undefined, 64);
    expect(st.status).toBe(Status.CHECK_CONDITION);
    for (let k = 0; k < nexuses; k++) array.nexusLoss(`iqn.2024-01.org.copylab:n${k}`);
    expect([array.copyManager.lists.running, array.copyManager.lists.size, array.copyOps.size]).toEqual([0, 0, 0]);
    expect((await bg(array, 1, 'iqn.2024-01.org.copylab:late')).status).toBe(Status.GOOD);
    await lab.close();
  });

  it('an exception in a step on the clock ends the record (HARDWARE ERROR in RECEIVE COPY STATUS); the id is free again', async () => {
    const { lab, array } = timed();
    const sdb = array.lus[1]!;
    const healthy = sdb.takeWriteFault.bind(sdb);
    sdb.takeWriteFault = () => {
      throw new Error('a defect');
    };
    expect((await bg(array, 8, HOST)).status).toBe(Status.GOOD);
    await lab.clock.sleep(1e9);
    const r = await array.executeAsync(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, 8, 256), undefined, 256);
    expect([r.dataIn[5], r.dataIn[12], r.dataIn[32 + 2]! & 0x0f, be32(r.dataIn, 8)]).toEqual([CopyStatus.COMPLETED_ERROR, Status.CHECK_CONDITION, SenseKey.HARDWARE_ERROR, 0xfffffffe]);
    expect([array.copyManager.lists.running, array.copyOps.size]).toEqual([0, 0]);
    sdb.takeWriteFault = healthy;
    expect((await bg(array, 8, HOST)).status).toBe(Status.GOOD);
    await lab.close();
  });
});
