/**
 * `execution: worker` on NVMe controllers: the same controller code on its own thread, reached
 * through the shared DMA arena and doorbell registers. Every example scenario with an NVMe
 * controller runs inline and on a worker and must report the same (modeled time included);
 * bytes written through a worker-run namespace read back; errors keep their NVMe status and
 * errno; a dead worker fails commands with EIO; lab.close() ends the thread.
 */
import { CRASH_EXIT_CODE } from '../../../src/core/thread/crash.js';
import { describe, it, expect } from 'vitest';
import { Lab } from '../../../src/app/lab.js';
import { runScenario, ScenarioError } from '../../../src/app/scenario/run.js';
import { parseScenarioText } from '../../../src/app/scenario/parse.js';
import { examplesWith, reportWith } from '../../examples-both-ways.js';
import { pattern, labsClosedAfterEach } from '../../helpers.js';
import { buildSqe } from '../../../devices/nvme/codec.js';
import { IoOpc, Status } from '../../../devices/nvme/spec.js';
import { nvmeStatusToErrno } from '../../../devices/nvme/driver.js';

const nvmeExamples = examplesWith('nvme');
const examples = nvmeExamples.map((e) => e.file);

const newLab = labsClosedAfterEach();

describe('NVMe controllers with execution: worker', () => {
  it('finds the NVMe examples', () => {
    expect(examples).toContain('nvme-copy-zns.yaml');
    expect(examples.length).toBeGreaterThanOrEqual(2);
  });

  for (const file of examples) {
    it(`${file}: the same report inline and on a worker (modeled time included)`, async () => {
      const doc = nvmeExamples.find((e) => e.file === file)!.doc;
      const inline = await reportWith(doc, 'nvme', 'inline');
      const worker = await reportWith(doc, 'nvme', 'worker');
      expect(worker.ok).toBe(inline.ok);
      expect(worker.steps).toEqual(inline.steps);
    });
  }

  it('data written through a worker-run namespace reads back; copies offload inside the controller', async () => {
    const lab = newLab();
    const att = lab.addNvmeController({ name: 'nvme0', execution: 'worker', cdfe: true, io_queues: 3, queue_depth: 8, namespaces: [{ size: 8 << 20 }, { size: 8 << 20, backing: 'memory' }] });
    expect(att.ctrl).toBeNull();
    expect(att.worker?.alive).toBe(true);
    const data = pattern(3 << 20, 1);
    // More requests than the queues hold at once: CIDs run out, commands wait and go later.
    await Promise.all(Array.from({ length: 48 }, (_, i) => lab.write('/dev/nvme0n1', i * 65536, data.subarray(i * 65536, (i + 1) * 65536))));
    expect(await lab.read('/dev/nvme0n1', 0, data.length)).toEqualBytes(data);
    // Same namespace and across namespaces (format 2, enabled by cdfe): offloaded, no host bytes.
    const same = await lab.copy('/dev/nvme0n1', [{ srcOffset: 0, dstOffset: 4 << 20, length: 1 << 20 }]);
    expect(same.path).toBe('offload');
    expect(same.host_bytes).toBe(0);
    const cross = await lab.copy('/dev/nvme0n2', [{ src: '/dev/nvme0n1', srcOffset: 1 << 20, dstOffset: 0, length: 1 << 20 }]);
    expect(cross.path).toBe('offload');
    expect(await lab.read('/dev/nvme0n1', 4 << 20, 1 << 20)).toEqualBytes(data.subarray(0, 1 << 20));
    expect(await lab.read('/dev/nvme0n2', 0, 1 << 20)).toEqualBytes(data.subarray(1 << 20, 2 << 20));
    expect(att.worker!.stats.copy_bytes).toBe(2 << 20);
    // Number of Queues as the worker-run controller last set it: 3 I/O queue pairs (NSQR 2) + 2.
    expect(lab.readSysfs('/sys/class/nvme/nvme0/queue_count').value?.trim()).toBe('4');
  });

  it('errors keep their NVMe status and errno, and write nothing', async () => {
    const statuses: Record<string, number[]> = {};
    for (const execution of ['inline', 'worker'] as const) {
      const lab = newLab();
      const att = lab.addNvmeController({ name: 'nvme0', execution, namespaces: [{ size: 1 << 20 }] });
      const nsze = (1 << 20) / 4096;
      // A read past the end of the namespace: LBA Out of Range (0080h) → -EREMOTEIO.
      const past = await att.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.READ, nsid: 1, cdw: { 10: nsze, 12: 0 } }), dataLen: 4096 });
      // A write straddling the end: refused before anything is written.
      const straddle = await att.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.WRITE, nsid: 1, cdw: { 10: nsze - 1, 12: 1 } }), data: new Uint8Array(8192).fill(0xee) });
      const badNs = await att.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.READ, nsid: 9, cdw: {} }), dataLen: 4096 });
      const badOp = await att.host.passthru({ admin: false, cmd: buildSqe({ opcode: 0x7f, nsid: 1 }) });
      statuses[execution] = [past.status, straddle.status, badNs.status, badOp.status];
      expect(past.status).toBe(Status.LBA_RANGE);
      expect(nvmeStatusToErrno(past.status)).toBe(-121);
      expect(await lab.read('/dev/nvme0n1', (nsze - 1) * 4096, 4096)).toEqualBytes(new Uint8Array(4096));
    }
    expect(statuses.worker).toEqual(statuses.inline);
  });

  it('a worker that dies fails its commands with EIO and the lab is told', async () => {
    const lab = newLab();
    const att = lab.addNvmeController({ name: 'nvme0', execution: 'worker', namespaces: [{ size: 1 << 20 }] });
    await lab.write('/dev/nvme0n1', 0, pattern(4096, 2));
    await att.worker!.kill();
    expect(att.worker!.alive).toBe(false);
    await expect(lab.read('/dev/nvme0n1', 0, 4096)).rejects.toMatchObject({ errno: -5 });
    expect(lab.failures.map((f) => f.device)).toContain('nvme0');
  });

  // The thread dies while a controller's probe (synchronous admin commands) waits for it: the
  // probe used to wait PROBE_TIMEOUT_MS (30 s); the thread's lifeline now ends it at once with
  // Internal Error, as a SCSI fabric's synchronous call ends with INTERNAL TARGET FAILURE.
  for (const [how, code] of [['exit', CRASH_EXIT_CODE], ['throw', 1]] as const) {
    it(`a subsystem thread that dies (${how}) during a controller's probe fails the probe at once; the other controller's commands fail with EIO`, async () => {
      const lab = newLab();
      const a = lab.addNvmeController({ name: 'nvme0', subsystem: 's0', execution: 'worker', namespaces: [{ size: 1 << 20 }] });
      await lab.write('/dev/nvme0n1', 0, pattern(4096, 6));
      a.worker!.crashOnNextController(how);
      const t0 = Date.now();
      expect(() => lab.addNvmeController({ name: 'nvme1', subsystem: 's0', execution: 'worker', namespaces: [{ size: 1 << 20, nsid: 2 }] })).toThrow(/Identify Controller failed with status 0x6\b/);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(a.worker!.alive).toBe(false);
      await expect(lab.read('/dev/nvme0n1', 0, 4096)).rejects.toMatchObject({ errno: -5 });
      expect(lab.failures.map((f) => [f.device, f.reason])).toContainEqual(['nvme0', `controller worker exited with code ${code}`]);
    });
  }

  it('lab.close() stops the controller\'s thread; a command after it fails with EIO', async () => {
    const lab = new Lab();
    const att = lab.addNvmeController({ name: 'nvme0', execution: 'worker', namespaces: [{ size: 1 << 20 }] });
    await lab.write('/dev/nvme0n1', 0, pattern(4096, 3));
    await lab.close();
    expect(att.worker!.alive).toBe(false);
    expect(lab.failures).toEqual([]); // a close is not a failure
    const r = await att.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.READ, nsid: 1, cdw: {} }), dataLen: 4096 });
    expect(r.status).toBe(-5);
  });

  it('controllers of one subsystem share its worker thread: a Copy through one reaches the namespace the other defined', async () => {
    const lab = newLab();
    const a = lab.addNvmeController({ name: 'nvme0', subsystem: 's0', execution: 'worker', cdfe: true, namespaces: [{ size: 4 << 20 }] });
    const b = lab.addNvmeController({ name: 'nvme1', subsystem: 's0', execution: 'worker', cdfe: true, namespaces: [{ size: 4 << 20, nsid: 2 }] });
    expect([a.worker!.cntlid, b.worker!.cntlid]).toEqual([1, 2]);
    expect(lab.readSysfs('/sys/block/nvme0n1/queue/copy_domain').value).toBe(lab.readSysfs('/sys/block/nvme1n2/queue/copy_domain').value);
    const data = pattern(1 << 20, 4);
    await lab.write('/dev/nvme0n1', 0, data);
    const r = await lab.copy('/dev/nvme1n2', [{ src: '/dev/nvme0n1', srcOffset: 0, dstOffset: 1 << 20, length: 1 << 20 }]);
    expect(r.path).toBe('offload');
    expect(r.host_bytes).toBe(0);
    expect(b.worker!.stats.copy_bytes).toBe(1 << 20);
    expect(await lab.read('/dev/nvme1n2', 1 << 20, 1 << 20)).toEqualBytes(data);
  });

  it('the scenario key is validated; a subsystem is all inline or all on its worker', async () => {
    expect(() => parseScenarioText(`devices: [ { kind: nvme, name: nvme0, execution: thread, namespaces: [ { size: 1MiB } ] } ]`)).toThrow(/execution/);
    for (const [first, second] of [['worker', 'inline'], ['inline', 'worker']]) {
      const s = parseScenarioText(`
devices:
  - { kind: nvme, name: nvme0, subsystem: s0, execution: ${first}, namespaces: [ { size: 1MiB } ] }
  - { kind: nvme, name: nvme1, subsystem: s0, execution: ${second}, namespaces: [ { size: 1MiB, nsid: 2 } ] }
`);
      await expect(runScenario(s)).rejects.toThrow(/subsystem s0 runs on/);
    }
  });
});
