/**
 * The GC lab on a lab block device (an NVMe namespace, ZNS or conventional, a nullblk, a dm
 * stack, a SCSI LU): the same layer (lfs.ts) and the same victim jobs as the tag-only device, with
 * real bytes: the lab mover (lab-mover.ts) writes each block with its tag in a payload, checks
 * every GC read, reads moved blocks back after an offloaded move, and every logical block is read
 * back at the end. Modeled time is the lab clock's.
 */
import { LogStructured, Temp } from './lfs.js';
import { LabMover } from './lab-mover.js';
import { openLabDevice, type LabGcTarget } from './lab-target.js';
import type { GcOptions } from './options.js';
import { newPathCounters } from './paths.js';
import { makePolicy } from './policies.js';
import { gcResult, type GcResult } from './result.js';
import { LatencyHistogram } from './histogram.js';
import { TraceOp, makeWorkload } from './workload.js';
import type { GcHooks } from './run.js';

/** A GC run on a lab device. The options' size is the device's; a zoned NVMe namespace sets the zone geometry. */
export async function runGcOnLab(target: LabGcTarget, o: GcOptions, hooks: GcHooks = {}): Promise<GcResult> {
  const t0 = performance.now();
  const lab = target.lab;
  const device = await openLabDevice(target, o);
  const { dev, layout } = device;
  const lfs = new LogStructured(layout, makePolicy(o.policy, Math.round(o.ageThreshold * layout.userBlocks)));
  const wl = makeWorkload(o.workload, layout.userBlocks, o.seed, hooks.trace);
  const mover = new LabMover(lab, device, lfs, o, hooks.traceSink);
  const U = layout.userBlocks;

  const drainResets = async (): Promise<void> => {
    while (lfs.resetQueue.length) await mover.reset(lfs.resetQueue.shift()!);
  };
  const collect = async (): Promise<void> => {
    while (lfs.gcNeeded) {
      if (!lfs.selectVictim(mover.jobs, 0)) break;
      await drainResets();
      await mover.run(mover.jobs, 0);
    }
  };
  // Modeled time is the lab clock's: a timed device completes each command at its modeled time.
  const clock = lab.clock;
  const lat = new LatencyHistogram();
  let gcNs = 0;
  let measuring = false;
  const write = async (lba: number, temp: number): Promise<void> => {
    const t = clock.now();
    if (lfs.gcNeeded) {
      await collect();
      if (measuring) gcNs += clock.now() - t;
    }
    const p = lfs.userWrite(lba, temp);
    await drainResets();
    await mover.userWrite(p, lfs.lastTag);
    if (measuring) lat.record(clock.now() - t);
  };

  const total = U + Math.round(o.overwrites * U);
  let done = 0;
  for (let lba = 0; lba < U; lba++) {
    await write(lba, Temp.WARM);
    if (++done % 4096 === 0) hooks.onProgress?.(done / total);
  }
  const fillUser = lfs.counters.userBlocks;
  const fillMoved = lfs.counters.gcMoved;
  const fillNs = clock.now();
  measuring = true;
  const n = Math.round(o.overwrites * U);
  const half = Math.floor(n / 2);
  let halfUser = 0;
  let halfMoved = 0;
  for (let i = 0; i < n; i++) {
    if (i === half) {
      halfUser = lfs.counters.userBlocks;
      halfMoved = lfs.counters.gcMoved;
    }
    const lba = wl.next();
    if (lba < 0) break;
    if (wl.op === TraceOp.WRITE) await write(lba, wl.temp);
    else if (wl.op === TraceOp.DISCARD) lfs.trim(lba);
    if (++done % 4096 === 0) hooks.onProgress?.(done / total);
  }
  hooks.onProgress?.(1);
  const modeledNs = clock.now() - fillNs;
  const timing = dev.timing;

  let verified = 0;
  for (let lba = 0; lba < U; lba++) {
    const p = lfs.physOf(lba);
    if (p < 0) continue;
    await mover.readBack(lba, p, lfs.latestTag(lba));
    verified++;
  }

  const gc = newPathCounters();
  mover.totals(gc);
  return gcResult({
    options: o,
    size: dev.capacity,
    zoned: layout.zoned,
    sectionBlocks: layout.sectionBlocks,
    sections: layout.sections,
    userBlocks: U,
    timing: timing ? timing.params.preset : 'none',
    allocation: String(timing?.params.allocation ?? 'frontier'),
    device: `/dev/${dev.name}`,
    counters: lfs.counters,
    fill: { user: fillUser, moved: fillMoved },
    half: { user: halfUser, moved: halfMoved },
    victimHistogram: lfs.victimHistogram,
    gc,
    modeledNs,
    gcNs,
    // A lab device's model may run on its worker thread: its copy counters are not read here (0).
    deviceCopy: { pages: 0, copyback: 0 },
    latency: lat,
    wallS: (performance.now() - t0) / 1e3,
    peakRss: process.memoryUsage.rss(),
    verified,
    series: [],
  });
}

