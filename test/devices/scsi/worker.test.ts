/**
 * `execution: worker` on SCSI arrays: every array of the lab's fabric on one worker thread, the
 * same ScsiArray code, reached by sd through a stand-in. Every example scenario with a SCSI array
 * runs inline and on the worker and must report the same (modeled time included); a timed
 * background copy polled and aborted shows the same; bytes written through sd read back;
 * EXTENDED COPY across two arrays and token copies offload on the worker; errors and refused
 * copies keep their sense and errno and write nothing; a dead worker fails commands with EIO;
 * lab.close() ends the thread.
 */
import { describe, it, expect } from 'vitest';
import { Lab } from '../../../src/app/lab.js';
import { runScenario } from '../../../src/app/scenario/run.js';
import { parseScenarioText } from '../../../src/app/scenario/parse.js';
import { examplesWith, reportWith, type ExampleDoc } from '../../examples-both-ways.js';
import { pattern, labsClosedAfterEach } from '../../helpers.js';
import { decodeSense, type ScsiResult } from '../../../devices/scsi/sense.js';
import { b2bSegment, e4Descriptor, rw16Cdb, tpcInCdb, tpcOutCdb, xcopyLid1, xcopyLid4 } from '../../../devices/scsi/build.js';
import { TpcInSa, TpcOutSa } from '../../../devices/scsi/constants.js';
import { be16, be64 } from '../../../src/core/util/bytes.js';
import { WorkerScsiArray } from '../../../devices/scsi/worker-array.js';
import { CRASH_EXIT_CODE } from '../../../src/core/thread/crash.js';
import type { SdDevice } from '../../../devices/scsi/sd.js';

const docs = examplesWith('scsi');
const timed = (doc: ExampleDoc): boolean => (doc.devices ?? []).some((d) => d.kind === 'scsi' && (d.timing !== undefined || (d.lus ?? []).some((l) => l.timing !== undefined)));

const newLab = labsClosedAfterEach();
const HOST = 'iqn.2024-01.org.copylab:host';
const senseOf = (r: ScsiResult) => ({ status: r.status, sense: decodeSense(r.senseData) });

describe('SCSI arrays with execution: worker', () => {
  it('finds the SCSI examples, the worker one among them', () => {
    expect(docs.map((d) => d.file)).toEqual(expect.arrayContaining(['scsi-xcopy.yaml', 'scsi-worker.yaml']));
  });

  it('the examples include a timed array', () => {
    expect(docs.some((d) => timed(d.doc))).toBe(true);
  });

  for (const { file, doc } of docs) {
    it(`${file}: the same report inline and on the worker (modeled time included)`, async () => {
      const inline = await reportWith(doc, 'scsi', 'inline');
      const worker = await reportWith(doc, 'scsi', 'worker');
      expect(inline.ok).toBe(true);
      expect(worker.ok).toBe(inline.ok);
      expect(worker.steps).toEqual(inline.steps);
    });
  }

  it('bytes written through sd read back; EXTENDED COPY across arrays and token copies offload on the worker', async () => {
    const lab = newLab();
    const a0 = lab.addScsiArray({ name: 'arr0', execution: 'worker', domain: 'san', lus: [{ name: 'sda', size: 8 << 20 }, { name: 'sdb', size: 8 << 20, lbs: 4096 }] });
    const a1 = lab.addScsiArray({ name: 'arr1', execution: 'worker', domain: 'san', copyMode: 'token', lus: [{ name: 'sdc', size: 8 << 20 }, { name: 'sdd', size: 8 << 20 }] });
    expect(a0.array).toBeInstanceOf(WorkerScsiArray);
    expect(a0.disks.map((d) => d.name)).toEqual(['sda', 'sdb']);
    expect(lab.readSysfs('/sys/class/scsi_disk/0:0:0:0/third_party_copy').value?.trim()).toBe('1');
    expect(lab.readSysfs('/sys/block/sdc/device/array').value?.trim()).toBe('arr1');
    const data = pattern(2 << 20, 1);
    await Promise.all(Array.from({ length: 16 }, (_, i) => lab.write('/dev/sda', i * 131072, data.subarray(i * 131072, (i + 1) * 131072))));
    expect(await lab.read('/dev/sda', 0, data.length)).toEqualBytes(data);
    // arr1's copy manager reads arr0's LU: one EXTENDED COPY on the worker, no host bytes.
    (a1.disks[0] as SdDevice).setCopyMode('xcopy');
    const cross = await lab.copy('/dev/sdc', [{ src: '/dev/sda', srcOffset: 0, dstOffset: 1 << 20, length: 1 << 20 }]);
    expect([cross.path, cross.host_bytes]).toEqual(['offload', 0]);
    expect(await lab.read('/dev/sdc', 1 << 20, 1 << 20)).toEqualBytes(data.subarray(0, 1 << 20));
    // Across block lengths (512 → 4096), into arr0's other LU.
    const mixed = await lab.copy('/dev/sdb', [{ src: '/dev/sda', srcOffset: 1 << 20, dstOffset: 0, length: 1 << 20 }]);
    expect([mixed.path, mixed.host_bytes]).toEqual(['offload', 0]);
    expect(await lab.read('/dev/sdb', 0, 1 << 20)).toEqualBytes(data.subarray(1 << 20));
    // POPULATE TOKEN on sdc, WRITE USING TOKEN on sdd (same array).
    const tok = await lab.copy('/dev/sdd', [{ src: '/dev/sdc', srcOffset: 1 << 20, dstOffset: 0, length: 1 << 20 }]);
    expect([tok.path, tok.host_bytes]).toEqual(['offload', 0]);
    expect(await lab.read('/dev/sdd', 0, 1 << 20)).toEqualBytes(data.subarray(0, 1 << 20));
    expect((a1.disks[1] as SdDevice).commands['0x83']).toBeGreaterThanOrEqual(1);
  });

  it('an LBA out of range and a copy from an LU the initiator cannot see: same sense and errno as inline, nothing written', async () => {
    const answers: Record<string, unknown> = {};
    for (const execution of ['inline', 'worker'] as const) {
      const lab = newLab();
      const { array: a0 } = lab.addScsiArray({ name: 'arr0', execution, lus: [{ name: 'sda', size: 1 << 20 }] });
      // arr1's LU 1 (hidden) is visible to 'other' only.
      const { array: a1 } = lab.addScsiArray({ name: 'arr1', execution, initiators: { [HOST]: [0], other: [0, 1] }, lus: [{ name: 'sdb', size: 1 << 20 }, { name: 'hidden', size: 1 << 20 }] });
      expect(lab.findDevice('/dev/hidden')).toBeUndefined();
      const secret = pattern(4096, 9);
      expect(a1.execute('other', 1, rw16Cdb(true, 0, 8), secret).status).toBe(0);
      const blocks = (1 << 20) / 512;
      const past = a0.execute(HOST, 0, rw16Cdb(true, blocks - 1, 2), new Uint8Array(1024).fill(0xee));
      const errno = await lab.write('/dev/sda', (1 << 20) - 512, new Uint8Array(1024)).then(() => 0, (e: { errno: number }) => e.errno);
      const list = xcopyLid1({ cscds: [e4Descriptor(a1.lus[1]!.naa, 512), e4Descriptor(a0.lus[0]!.naa, 512)], segments: [b2bSegment({ src: 0, dst: 1, blocks: 8, srcLba: 0, dstLba: 0 })] });
      const denied = await a0.executeAsync(HOST, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID1, list.length), list);
      expect(denied.status).toBe(2);
      expect(await lab.read('/dev/sda', 0, 4096)).toEqualBytes(new Uint8Array(4096));
      expect(await lab.read('/dev/sda', (1 << 20) - 512, 512)).toEqualBytes(new Uint8Array(512));
      answers[execution] = { past: senseOf(past), errno, denied: senseOf(denied), visible: a1.visibleLuns(HOST), reaches: a0.reaches('arr1') };
    }
    expect((answers.inline as { past: { sense: { asc: number } } }).past.sense.asc).toBe(0x21);
    expect(answers.worker).toEqual(answers.inline);
  });

  it('a timed array: a LID4 background copy, polled and aborted halfway, shows the same counts at the same modeled times', async () => {
    const SEG = 16 << 20;
    const LBS = 4096;
    const per = SEG / LBS;
    const seen: Record<string, unknown> = {};
    for (const execution of ['inline', 'worker'] as const) {
      const lab = newLab();
      const { array: a } = lab.addScsiArray({ name: 'arr0', execution, timing: { preset: 'sas-array', xcopy_mbps: 500 } as never, lus: [{ name: 'sda', size: 4 * SEG, lbs: LBS }, { name: 'sdb', size: 4 * SEG, lbs: LBS }] });
      expect(lab.readSysfs('/sys/block/sda/timing/preset').value?.trim()).toBe('sas-array');
      for (let i = 0; i < 4; i++) expect((await a.executeAsync(HOST, 0, rw16Cdb(true, i * per + 5, 1), pattern(LBS, i))).status).toBe(0);
      const t0 = lab.clock.now();
      const list = xcopyLid4({ listId: 9, immed: true, cscds: [e4Descriptor(a.lus[0]!.naa, LBS), e4Descriptor(a.lus[1]!.naa, LBS)], segments: [0, 1, 2, 3].map((i) => b2bSegment({ src: 0, dst: 1, blocks: per, srcLba: i * per, dstLba: i * per })) });
      expect((await a.executeAsync(HOST, 0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), list)).status).toBe(0);
      const polls: number[][] = [];
      for (let k = 0; k < 3; k++) {
        await lab.clock.sleep(25e6);
        const r = await a.executeAsync(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, 9, 1024), undefined, 1024);
        polls.push([r.dataIn[5]!, be64(r.dataIn, 16), be16(r.dataIn, 24), lab.clock.now() - t0]);
      }
      expect((await a.executeAsync(HOST, 0, tpcOutCdb(TpcOutSa.COPY_OPERATION_ABORT, 0, 9))).status).toBe(0);
      await lab.clock.sleep(200e6);
      const end = await a.executeAsync(HOST, 0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, 9, 1024), undefined, 1024);
      const copied: boolean[] = [];
      for (let i = 0; i < 4; i++) {
        const want = pattern(LBS, i);
        copied.push((await a.executeAsync(HOST, 1, rw16Cdb(false, i * per + 5, 1), undefined, LBS)).dataIn.every((b, j) => b === want[j]));
      }
      seen[execution] = { polls, end: [end.dataIn[5]!, be64(end.dataIn, 16), be16(end.dataIn, 24)], copied, now: lab.clock.now() - t0 };
    }
    const inline = seen.inline as { polls: number[][]; copied: boolean[] };
    expect(new Set(inline.polls.map((p) => p[1])).size).toBeGreaterThan(1); // the count grew between polls
    expect(inline.copied).toContain(true);
    expect(inline.copied).toContain(false);
    expect(seen.worker).toEqual(seen.inline);
  });

  it('a worker that dies fails its commands with EIO and the lab is told', async () => {
    const lab = newLab();
    const { array } = lab.addScsiArray({ name: 'arr0', execution: 'worker', lus: [{ name: 'sda', size: 1 << 20 }] });
    await lab.write('/dev/sda', 0, pattern(4096, 2));
    const thread = (array as unknown as WorkerScsiArray).thread;
    await thread.kill();
    expect(thread.alive).toBe(false);
    await expect(lab.read('/dev/sda', 0, 4096)).rejects.toMatchObject({ errno: -5 });
    const r = await array.executeAsync(HOST, 0, rw16Cdb(false, 0, 1), undefined, 512);
    expect([r.status, decodeSense(r.senseData)?.key, decodeSense(r.senseData)?.asc]).toEqual([2, 0x4, 0x44]);
    expect(lab.failures.map((f) => f.device)).toContain('arr0');
  });

  it('a copy on an array whose worker died ends with EIO instead of throwing from its planning; the array shows no LU (found by the worker-kill fault campaign)', async () => {
    const lab = newLab();
    const { array } = lab.addScsiArray({ name: 'arr0', execution: 'worker', lus: [{ name: 'sda', size: 1 << 20 }, { name: 'sdb', size: 1 << 20 }] });
    expect(array.visibleLuns(HOST)).toEqual([0, 1]);
    await (array as unknown as WorkerScsiArray).thread.kill();
    // The copy's planning asks the copy manager whether it reaches the source's array.
    const r = await lab.copy('/dev/sdb', [{ src: '/dev/sda', srcOffset: 0, dstOffset: 0, length: 4096 }]);
    expect(r.res).toBe(-5);
    expect(array.reaches('arr0')).toBe(false);
    expect(array.visibleLuns(HOST)).toEqual([]);
  });

  it('a synchronous call made while the killed thread is still ending answers at once (it used to wait 30 s for the thread)', async () => {
    const lab = newLab();
    const { array } = lab.addScsiArray({ name: 'arr0', execution: 'worker', lus: [{ name: 'sda', size: 1 << 20 }] });
    const thread = (array as unknown as WorkerScsiArray).thread;
    const killed = thread.kill();
    const t0 = Date.now();
    expect(thread.alive).toBe(false);
    expect(array.reaches('arr0')).toBe(false);
    expect(array.execute(HOST, 0, rw16Cdb(false, 0, 1), undefined, 512).status).toBe(2);
    expect(Date.now() - t0).toBeLessThan(5000);
    await killed;
    expect(lab.failures.map((f) => [f.device, f.reason])).toEqual([['arr0', 'SCSI fabric worker killed']]);
  });

  // The thread dies inside a synchronous call the lab's thread is blocked in: its exit event cannot
  // arrive, so the call used to wait SCSI_WORKER_LIMITS.syncTimeoutMs (30 s). The thread's lifeline
  // now wakes the wait at once.
  for (const [how, code] of [['exit', CRASH_EXIT_CODE], ['throw', 1], ['reject', 1]] as const) {
    it(`a thread that dies (${how}) in the middle of a synchronous call fails it at once with INTERNAL TARGET FAILURE; later calls fail the same, the lab goes on`, async () => {
      const lab = newLab();
      const { array } = lab.addScsiArray({ name: 'arr0', execution: 'worker', lus: [{ name: 'sda', size: 1 << 20 }] });
      await lab.write('/dev/sda', 0, pattern(4096, 4));
      const thread = (array as unknown as WorkerScsiArray).thread;
      thread.crashOnNextCall(how);
      const t0 = Date.now();
      const r = array.execute(HOST, 0, rw16Cdb(false, 0, 1), undefined, 512);
      expect(Date.now() - t0).toBeLessThan(5000);
      const gone = [2, 0x4, 0x44, 0x00];
      expect([r.status, decodeSense(r.senseData)?.key, decodeSense(r.senseData)?.asc, decodeSense(r.senseData)?.ascq]).toEqual(gone);
      expect(thread.alive).toBe(false);
      // Later calls, synchronous and not, and sd's bios: the same answer, no wait.
      const t1 = Date.now();
      const again = array.execute(HOST, 0, rw16Cdb(false, 0, 1), undefined, 512);
      expect([again.status, decodeSense(again.senseData)?.key, decodeSense(again.senseData)?.asc, decodeSense(again.senseData)?.ascq]).toEqual(gone);
      const later = await array.executeAsync(HOST, 0, rw16Cdb(false, 0, 1), undefined, 512);
      expect([later.status, decodeSense(later.senseData)?.asc]).toEqual([2, 0x44]);
      await expect(lab.read('/dev/sda', 0, 4096)).rejects.toMatchObject({ errno: -5 });
      expect(array.reaches('arr0')).toBe(false);
      expect(array.visibleLuns(HOST)).toEqual([]);
      expect(Date.now() - t1).toBeLessThan(5000);
      await thread.exited;
      expect(lab.failures.map((f) => [f.device, f.reason])).toEqual([['arr0', `SCSI fabric worker exited with code ${code}`]]);
    });
  }

  it('the lab\'s reads of access lists on a thread that dies under them: no LU, reaches nothing, at once', () => {
    const lab = newLab();
    const { array } = lab.addScsiArray({ name: 'arr0', execution: 'worker', lus: [{ name: 'sda', size: 1 << 20 }] });
    const thread = (array as unknown as WorkerScsiArray).thread;
    thread.crashOnNextCall('throw');
    const t0 = Date.now();
    expect(array.visibleLuns(HOST)).toEqual([]);
    expect(array.reaches('arr0')).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(thread.alive).toBe(false);
  });

  it('sd\'s synchronous bio on a thread that dies under it ends with EIO at once', async () => {
    const lab = newLab();
    const { array } = lab.addScsiArray({ name: 'arr0', execution: 'worker', lus: [{ name: 'sda', size: 1 << 20 }] });
    const thread = (array as unknown as WorkerScsiArray).thread;
    thread.crashOnNextCall('exit');
    const t0 = Date.now();
    await expect(lab.write('/dev/sda', 0, pattern(4096, 5))).rejects.toMatchObject({ errno: -5 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(lab.failures.map((f) => f.device)).toEqual(['arr0']);
  });

  it('lab.close() stops the thread without recording a failure; a command after it fails with EIO', async () => {
    const lab = new Lab();
    const { array } = lab.addScsiArray({ name: 'arr0', execution: 'worker', lus: [{ name: 'sda', size: 1 << 20 }] });
    await lab.write('/dev/sda', 0, pattern(4096, 3));
    await lab.close();
    expect((array as unknown as WorkerScsiArray).thread.alive).toBe(false);
    expect(lab.failures).toEqual([]);
    expect(array.execute(HOST, 0, rw16Cdb(false, 0, 1), undefined, 512).status).toBe(2);
  });

  it('the scenario key is validated; a fabric is all inline or all on its worker', async () => {
    expect(() => parseScenarioText(`devices: [ { kind: scsi, array: a, execution: thread, lus: [ { name: sda, size: 1MiB } ] } ]`)).toThrow(/execution/);
    for (const [first, second] of [['worker', 'inline'], ['inline', 'worker']]) {
      const s = parseScenarioText(`
devices:
  - { kind: scsi, array: a0, execution: ${first}, lus: [ { name: sda, size: 1MiB } ] }
  - { kind: scsi, array: a1, execution: ${second}, lus: [ { name: sdb, size: 1MiB } ] }
`);
      await expect(runScenario(s)).rejects.toThrow(/execution: worker|same execution/);
    }
  });
});
