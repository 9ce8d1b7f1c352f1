import { afterEach, describe, expect, it } from 'vitest';
import type { NullBlkDevice } from '../../devices/nullblk/nullblk.js';
import { buildLab } from '../../src/app/scenario/run.js';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { parseJobText, JobFileError } from '../../src/app/bench/jobfile.js';
import { modeledClockOf, runJobs, timedDevice } from '../../src/app/bench/engine.js';
import { fioResult } from '../../src/app/bench/result.js';
import type { Lab } from '../../src/app/lab.js';

const LAB = `
devices:
  - { kind: nullblk, name: nullb0, size: 16MiB, lbs: 4096, backing: memory, copy_max_hw_bytes: 8MiB, domain: d }
  - { kind: nullblk, name: nullb1, size: 16MiB, lbs: 4096, backing: memory, copy_max_hw_bytes: 0 }
  - { kind: nullblk, name: nullb2, size: 16MiB, lbs: 4096, backing: memory, copy_max_hw_bytes: 8MiB, domain: d, discard: false }
steps: []
`;
const TIMED = `
devices:
  - { kind: nullblk, name: nullb0, size: 16MiB, lbs: 4096, backing: memory, copy_max_hw_bytes: 8MiB, timing: { preset: nvmevirt-zns } }
steps: []
`;

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function bench(jobText: string, scenario = LAB) {
  lab = buildLab(parseScenarioText(scenario, 'test lab'));
  const l = lab;
  const jobs = parseJobText(jobText, 't.fio');
  const runs = await runJobs(jobs, { lab: l, modeled: modeledClockOf(l), timed: (d) => timedDevice(l, d) });
  return { runs, result: fioResult(runs, (r) => r.spec.filename!, new Date()), lab: l };
}

describe('bench engine', () => {
  it('reads and writes exactly io_size in bs requests, reported with fio\'s field names', async () => {
    const { result } = await bench('[global]\nfilename=/dev/nullb0\nsize=4m\nstonewall\n[r]\nrw=randread\nbs=4k\niodepth=8\nio_size=1m\n[w]\nrw=write\nbs=64k\niodepth=4\n');
    const [r, w] = result.jobs;
    expect(r!.jobname).toBe('r');
    expect(r!.read).toMatchObject({ io_bytes: 1048576, io_kbytes: 1024, total_ios: 256 });
    expect(r!.write.total_ios).toBe(0);
    expect(w!.write).toMatchObject({ io_bytes: 4194304, total_ios: 64 });
    for (const k of ['bw', 'bw_bytes', 'iops', 'runtime']) expect(r!.read).toHaveProperty(k);
    expect(r!.read.clat_ns.N).toBe(256);
    expect(Object.keys(r!.read.clat_ns.percentile!)).toContain('99.900000');
    expect(r!.read.lat_ns.min).toBeGreaterThan(0);
    expect(r!.read.lat_ns.max).toBeGreaterThanOrEqual(r!.read.lat_ns.mean);
    expect(r!['job options']).toEqual({ rw: 'randread', bs: '4k', iodepth: '8', io_size: '1m' });
  });

  it('copies: the destination reads back equal to the source, offloaded in a copy domain', async () => {
    const { result, lab: l } = await bench('[c]\nfilename=/dev/nullb2\ncopy_src=/dev/nullb0\nrw=copy\nbs=256k\ncopy_ranges=2\niodepth=4\nsize=4m\n');
    const c = result.jobs[0]!.copy;
    expect(c).toMatchObject({ io_bytes: 4194304, total_ios: 8, offloaded_bytes: 4194304, emulated_bytes: 0, host_bytes: 0, requests: 8 });
    expect(await l.read('nullb2', 0, 4 << 20)).toEqualBytes(await l.read('nullb0', 0, 4 << 20));
  });

  it('copies that cannot offload are emulated, with the reason and host bytes counted', async () => {
    const { result, lab: l } = await bench('[c]\nfilename=/dev/nullb1\nrw=copy\nbs=64k\nsize=2m\nioengine=copylab-sync\n');
    const c = result.jobs[0]!.copy;
    expect(c).toMatchObject({ io_bytes: 1 << 20, emulated_bytes: 1 << 20, offloaded_bytes: 0, host_bytes: 2 << 20 });
    expect(c.reasons).toEqual({ no_offload: 16 });
    // One device: sources are the region's first half, destinations its second half.
    expect(await l.read('nullb1', 1 << 20, 1 << 20)).toEqualBytes(await l.read('nullb1', 0, 1 << 20));
  });

  it('a device error stops the job and sets fio\'s error to the errno', async () => {
    const { runs, result } = await bench('[t]\nfilename=/dev/nullb2\nrw=trim\nbs=64k\nsize=1m\n');
    expect(result.jobs[0]!.error).toBe(95); // EOPNOTSUPP: nullb2 has no discard
    expect(runs[0]!.errorMessage).toMatch(/ENOTSUP/);
  });

  it('a device that is not in the lab is an error naming the file, section and line', async () => {
    await expect(bench('[global]\nrw=read\n[j]\nbs=4k\nfilename=/dev/sdz\n')).rejects.toThrow(/^t\.fio:5: \[j\] filename=\/dev\/sdz: no such device in the lab \(have \/dev\/nullb0/);
    await expect(bench('[j]\nfilename=/dev/nullb0\nsize=64m\n')).rejects.toThrow(JobFileError);
    await expect(bench('[j]\nfilename=/dev/nullb0\nbs=1000\n')).rejects.toThrow(/t\.fio:3: \[j\] block size 1000 is not a multiple of nullb0's 4096-byte/);
  });

  it('numjobs clones merge into one entry with group_reporting', async () => {
    const { result } = await bench('[r]\nfilename=/dev/nullb0\nrw=randread\nsize=4m\nio_size=256k\nnumjobs=3\ngroup_reporting\n');
    expect(result.jobs).toHaveLength(1);
    expect(result.jobs[0]!.read.total_ios).toBe(192);
    expect(result.jobs[0]!.copylab.jobs).toBe(3);
  });

  it('on a timed device reports modeled time in fio\'s fields, wall time beside it, the same from the same seed', async () => {
    const job = '[r]\nfilename=/dev/nullb0\nrw=randread\nbs=4k\niodepth=4\nsize=8m\nio_size=512k\n';
    const a = (await bench(job, TIMED)).result.jobs[0]!;
    await lab!.close();
    const b = (await bench(job, TIMED)).result.jobs[0]!;
    expect(a.copylab.clock).toBe('modeled');
    expect(a.read.wall).toBeDefined();
    expect(a.read.clat_ns.min).toBeGreaterThan(1000); // a flash read takes microseconds of modeled time
    expect(a.read.slat_ns.max).toBe(0); // host code takes no modeled time
    expect(a.read.clat_ns).toEqual(b.read.clat_ns);
    expect(a.read.iops).toBe(b.read.iops);
  });

  it.each(['copylab-ring', 'copylab-sync'])('%s: copies of ramp_time are not in the copy engine\'s account, as no I/O of the ramp is in fio\'s', async (engine) => {
    const { result } = await bench(`[c]\nfilename=/dev/nullb0\nrw=copy\nbs=64k\nsize=8m\ntime_based\nramp_time=2ms\nruntime=4ms\nioengine=${engine}\n`, TIMED);
    const c = result.jobs[0]!.copy;
    expect(c.total_ios).toBeGreaterThan(0);
    expect(c).toMatchObject({ requests: c.total_ios, offloaded_bytes: c.io_bytes, pieces: c.total_ios });
  });

  it('rate_iops caps requests per second of modeled time', async () => {
    const { result } = await bench('[r]\nfilename=/dev/nullb0\nrw=randread\nsize=8m\ntime_based\nruntime=100ms\nrate_iops=1000\n', TIMED);
    const n = result.jobs[0]!.read.total_ios;
    expect(n).toBeGreaterThanOrEqual(99);
    expect(n).toBeLessThanOrEqual(101);
  });

  it('zonemode=zbd writes each zone sequentially and resets full zones', async () => {
    const { runs, result } = await bench('[z]\nfilename=/dev/nullb0\nrw=randwrite\nbs=64k\nzonemode=zbd\nzonesize=1m\nmax_open_zones=2\nsize=4m\nio_size=8m\n');
    expect(result.jobs[0]!.write.io_bytes).toBe(8 << 20);
    expect(runs[0]!.zoneResets).toBeGreaterThan(0);
  });

  it('zero_buffers writes zeros (a sparse device keeps no memory for them); the default writes the seeded pattern', async () => {
    const SPARSE = 'devices:\n  - { kind: nullblk, name: nullb0, size: 64MiB, lbs: 4096, backing: sparse }\nsteps: []\n';
    const job = (zero: boolean) => `[w]\nfilename=/dev/nullb0\nrw=randwrite\nbs=4k\niodepth=8\nio_size=2m\n${zero ? 'zero_buffers=1\n' : ''}`;
    const zeros = await bench(job(true), SPARSE);
    expect(zeros.result.jobs[0]!.write.io_bytes).toBe(2 << 20);
    expect((zeros.lab.list()[0] as NullBlkDevice).backing.allocatedBytes).toBe(0);
    expect(await zeros.lab.read('/dev/nullb0', 0, 1 << 20)).toEqualBytes(new Uint8Array(1 << 20));
    await zeros.lab.close();
    const pattern = await bench(job(false), SPARSE);
    expect((pattern.lab.list()[0] as NullBlkDevice).backing.allocatedBytes).toBeGreaterThan(0);
  });

  it('a job on modeled time reads the device as it is (no layout); a wall-clock job lays its region out first', async () => {
    const timed = await bench('[r]\nfilename=/dev/nullb0\nrw=randread\nbs=4k\nsize=1m\nio_size=64k\n', TIMED);
    expect(timed.result.jobs[0]!.read.io_bytes).toBe(64 << 10);
    expect(await timed.lab.read('/dev/nullb0', 0, 1 << 20)).toEqualBytes(new Uint8Array(1 << 20));
    await timed.lab.close();
    const wall = await bench('[r]\nfilename=/dev/nullb0\nrw=randread\nbs=4k\nsize=1m\nio_size=64k\n');
    expect((await wall.lab.read('/dev/nullb0', 0, 1 << 20)).some((b) => b !== 0)).toBe(true);
  });

  it('a time_based job whose requests take no modeled time is stopped with the reason, not run forever', async () => {
    // The mqsim preset gives a trim no controller time and no link latency: it completes at the instant it is issued.
    const ZERO = 'devices:\n  - { kind: nullblk, name: nullb0, size: 64MiB, lbs: 4096, backing: sparse, timing: { preset: mqsim } }\nsteps: []\n';
    await expect(bench('[t]\nfilename=/dev/nullb0\nrw=randtrim\nbs=16k\niodepth=4\ntime_based\nruntime=1\n', ZERO)).rejects.toThrow(/t\.fio:3: \[t\] modeled time stood still for 1000000 requests: nullb0 completes trim requests in no modeled time/);
    // With io_size the same job ends.
    const { result } = await bench('[t]\nfilename=/dev/nullb0\nrw=randtrim\nbs=16k\niodepth=4\nio_size=4m\n', ZERO);
    expect(result.jobs[0]!.trim.io_bytes).toBe(4 << 20);
  });

  it('jobs whose requests complete at one modeled instant issue again in the order the engines\' promise depths give (pinned)', async () => {
    // Two controller units: trims of several jobs complete at the same modeled instants, and the
    // order the jobs issue their next requests in (a ring job four promise hops after its
    // completion event, a sync job two) decides each job's share. A change to the await structure
    // of the ring wait, lab.submit or the bench loops changes these counts and so modeled results.
    const TIES = 'devices:\n  - { kind: nullblk, name: nullb0, size: 64MiB, lbs: 4096, backing: memory, timing: { preset: femu, ctrl_units: 2 } }\nsteps: []\n';
    const { result } = await bench(
      '[global]\nfilename=/dev/nullb0\nsize=32m\ntime_based\nruntime=0.05\n[trim-ring]\nrw=randtrim\nbs=4k\niodepth=1\nnumjobs=2\n[trim-sync]\nioengine=copylab-sync\nrw=randtrim\nbs=4k\n[trim-ring2]\nrw=trim\nbs=8k\niodepth=2\n[read-ring]\nrw=randread\nbs=4k\niodepth=4\n',
      TIES,
    );
    expect(result.jobs.map((j) => j.trim.total_ios + j.read.total_ios)).toEqual([8898, 8898, 10622, 17796, 3790]);
  });
});
