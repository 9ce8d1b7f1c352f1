/**
 * The GC lab on a lab block device (an NVMe namespace, ZNS or conventional, a nullblk, a dm
 * stack, a SCSI LU): the same layer (lfs.ts) and the same victim jobs as the tag-only device, with
 * real bytes: the lab mover (lab-mover.ts) writes each block with its tag in a payload, checks
 * every GC read, reads moved blocks back after an offloaded move, and every logical block is read
 * back at the end. Modeled time is the lab clock's; the overwrites are sampled into a series as on
 * the tag-only device. On the copy path, a device that will emulate the GC's copies is noted
 * before the run starts (copy-emulation.ts).
 */
import { LogStructured, Temp } from './lfs.js';
import { LabMover } from './lab-mover.js';
import { openLabDevice, type LabGcTarget } from './lab-target.js';
import type { GcOptions } from './options.js';
import { newPathCounters } from './paths.js';
import { makePolicy } from './policies.js';
import type { GcResult } from './result.js';
import { RunRecorder } from './recorder.js';
import { TraceOp, makeWorkload } from './workload.js';
import type { GcHooks } from './hooks.js';
import { copyEmulationNote } from './copy-emulation.js';
import { GC_BLOCK_BYTES } from './constants.js';

/** A GC run on a lab device. The options' size is the device's; a zoned NVMe namespace sets the zone geometry. */
export async function runGcOnLab(target: LabGcTarget, o: GcOptions, hooks: GcHooks = {}): Promise<GcResult> {
  const t0 = performance.now();
  const lab = target.lab;
  const device = await openLabDevice(target, o);
  const { dev, layout } = device;
  const notes: string[] = [];
  const copyNote = o.path === 'copy' ? copyEmulationNote(dev, layout.sectionBlocks * GC_BLOCK_BYTES) : null;
  if (copyNote) notes.push(copyNote);
  for (const n of notes) hooks.onNote?.(n);
  const lfs = new LogStructured(layout, makePolicy(o.policy, Math.round(o.ageThreshold * layout.userBlocks)));
  const wl = makeWorkload(o.workload, layout.userBlocks, o.seed, hooks.trace);
  const mover = new LabMover(lab, device, lfs, o, hooks.traceSink);
  const U = layout.userBlocks;

  const drainResets = async (): Promise<void> => {
    while (lfs.resetQueue.length) await mover.resetSection(lfs.resetQueue.shift()!);
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
  const rec = new RunRecorder(o, layout, lfs, () => clock.now(), t0);
  const write = async (lba: number, temp: number): Promise<void> => {
    const t = clock.now();
    if (lfs.gcNeeded) {
      await collect();
      rec.gcTime(clock.now() - t);
    }
    const p = lfs.userWrite(lba, temp);
    await drainResets();
    await mover.userWrite(p, lfs.lastTag);
    rec.latency(clock.now() - t);
  };

  const total = rec.total;
  let done = 0;
  for (let lba = 0; lba < U; lba++) {
    await write(lba, Temp.WARM);
    if (++done % 4096 === 0) hooks.onProgress?.(done / total);
  }
  let nextSample = rec.fillDone();
  const n = rec.overwrites;
  for (let i = 0; i < n; i++) {
    if (i === rec.half) rec.atHalf();
    const lba = wl.next();
    if (lba < 0) break;
    if (wl.op === TraceOp.WRITE) await write(lba, wl.temp);
    else if (wl.op === TraceOp.DISCARD) lfs.trim(lba);
    if (++done % 4096 === 0) hooks.onProgress?.(done / total);
    if (i + 1 === nextSample || i + 1 === n) nextSample = rec.sample();
  }
  hooks.onProgress?.(1);
  rec.overwritesDone();

  // Every logical block reads back its latest write.
  let verified = 0;
  for (let lba = 0; lba < U; lba++) {
    const p = lfs.physOf(lba);
    if (p < 0) continue;
    await mover.readBack(lba, p, lfs.latestTag(lba));
    verified++;
  }
  const gc = newPathCounters();
  mover.totals(gc);
  const timing = dev.timing;
  return rec.result(
    {
      size: dev.capacity,
      timing: timing ? timing.params.preset : 'none',
      allocation: String(timing?.params.allocation ?? 'frontier'),
      device: `/dev/${dev.name}`,
      // A lab device's model may run on its worker thread: its copy counters are not read here (0).
      deviceCopy: { pages: 0, copyback: 0 },
      ...(o.path === 'copy' ? { copyEmulation: { bytes: mover.emulation.bytes, reasons: mover.emulation.reasons() } } : {}),
      notes,
    },
    gc,
    verified,
  );
}
