/**
 * The lab device's mover: runs victim jobs (victim-job.ts) with real bytes. Every block written
 * carries its tag in a 4 KiB payload (payload.ts), so a GC read is checked byte for byte as it
 * goes, and moved blocks are read back after an offloaded move. Paths:
 * - host:   lab.read of each run of valid blocks, lab.write of each destination extent;
 * - copy:   lab.copy (REQ_OP_COPY through the copy engine: NVMe Copy, SCSI XCOPY or tokens,
 *           emulation where the device cannot; the engine's result says which);
 * - append: reads as host, then NVMe Zone Append (ZNS 4.3) of the gathered blocks; the LBA the
 *           device reports must be where the layer expects the block;
 * - izc:    in-storage zone compaction as ZNS+ proposes, with the command NVMe has: one NVMe Copy
 *           (format 0) per destination zone carrying every valid run of the victim, SDLBA at the
 *           zone's write pointer (split only where the namespace's MSRC/MCL/MSSRL say so).
 * Commands are what the device counted (its stats: reads, writes, copies, discards), plus the
 * passthrough commands (appends, compactions, zone resets), each under its kind; host bytes are the
 * device's, or on the copy path the engine's (an emulated piece of a dm device's copy runs on
 * the devices below it, which the dm device's stats do not see).
 * It also writes the user's blocks, resets sections and reads blocks back for the final check.
 */
import type { Lab } from '../lab.js';
import type { BlockDevice } from '../../core/block/device.js';
import { ReqOp } from '../../core/block/ops.js';
import { COPY_DEFAULTS, type CopyRange } from '../../core/block/copy/types.js';
import { Trace } from '../../core/block/trace.js';
import type { TraceSink } from '../../core/trace/record.js';
import { errnoName } from '../../core/util/errno.js';
import { buildSqe, copyCdws, encodeRanges } from '../../../devices/nvme/codec.js';
import { IoOpc, ZSA, statusName } from '../../../devices/nvme/spec.js';
import { GC_BLOCK_BYTES, GC_LIMITS } from './constants.js';
import { injectFault } from './fault-inject.js';
import type { LabDevice, ZnsInfo } from './lab-target.js';
import { physToDeviceOffset, type Layout } from './layout.js';
import { newMovePlan, type LogStructured, type MovePlan } from './lfs.js';
import type { GcOptions } from './options.js';
import { addPathCounters, newPathCounters, type PathCounters } from './paths.js';
import { payloadOf, tagOfPayload } from './payload.js';
import { readBackFailure } from './read-back.js';
import { GcIntegrityError, describeTag } from './tag.js';
import { CopyEmulationTally } from './copy-emulation.js';
import { jobWords, movedBefore } from './victim-job.js';

/** Ranges per GC copy request: the copy engine's limit (a request with more is refused). */
const GC_COPY_MAX_RANGES = COPY_DEFAULTS.maxRanges;

/** The lab device refused or failed a GC command: the run fails (exit 1), naming the command and the device's answer. */
export class GcDeviceError extends Error {}

export class LabMover {
  /** Where the layer writes the next victim job (one slot: a job runs before the next is selected). */
  readonly jobs: Uint32Array;
  private readonly plan: MovePlan;
  /** The GC's commands by kind (block-layer I/O as the device counted it, and passthrough commands) and host bytes. */
  private readonly gc: PathCounters = newPathCounters();
  /** Host bytes of the copy path's copies, as the copy engine reports them. */
  private copyHostBytes = 0;
  /** The copy path's emulated pieces, per reason. */
  readonly emulation = new CopyEmulationTally();
  private readonly buf = new Uint8Array(GC_LIMITS.maxIoBlocks * GC_BLOCK_BYTES);
  private readonly dev: BlockDevice;
  private readonly layout: Layout;
  private readonly zns: ZnsInfo | null;
  private readonly path: GcOptions['path'];
  private readonly inject: GcOptions['inject'];
  verifiedMoves = 0;
  constructor(
    private readonly lab: Lab,
    target: LabDevice,
    /** The layer that selected the jobs: it points the map at a job's destinations (LogStructured.applyJob). */
    private readonly layer: Pick<LogStructured, 'applyJob'>,
    o: Pick<GcOptions, 'path' | 'inject'>,
    private readonly traceSink?: TraceSink,
  ) {
    this.dev = target.dev;
    this.layout = target.layout;
    this.zns = target.zns;
    this.path = o.path;
    this.inject = o.inject;
    this.jobs = new Uint32Array(jobWords(this.layout.sectionBlocks));
    this.plan = newMovePlan(this.layout.sectionBlocks);
  }

  /**
   * Runs the victim job at `jobs[at…]`: the layer points the map at its destinations, a fault is
   * injected if the run asks for one, the blocks move on the run's path, and an offloaded move's
   * blocks are read back. Its block-layer I/O is counted from the device's stats.
   */
  async run(jobs: Uint32Array, at: number): Promise<void> {
    const plan = this.plan;
    this.layer.applyJob(jobs, at, plan);
    if (this.inject) injectFault(plan, movedBefore(jobs, at), this.inject);
    const s0 = this.snapshot();
    const h0 = this.copyHostBytes;
    await this.move(plan);
    const s1 = this.snapshot();
    const gc = this.gc;
    gc.reads += s1.read - s0.read;
    gc.writes += s1.write - s0.write;
    gc.copies += s1.copy - s0.copy;
    gc.commands += s1.read - s0.read + s1.write - s0.write + s1.copy - s0.copy;
    gc.host_bytes += this.path === 'copy' ? this.copyHostBytes - h0 : s1.host - s0.host;
    await this.verify(plan);
  }

  /** The GC's commands by kind and its host bytes. */
  totals(into: PathCounters): void {
    addPathCounters(into, this.gc);
  }

  /** A trace for one request when the run streams one (`--trace-out`), else none. */
  private trace(): Trace | undefined {
    return this.traceSink ? new Trace(this.lab.clock, this.traceSink, this.traceSink.nextRequest()) : undefined;
  }

  private async read(offset: number, length: number): Promise<Uint8Array> {
    const data = new Uint8Array(length);
    const res = await this.lab.submit(this.dev, { op: ReqOp.READ, offset, length, data }, this.trace());
    if (res < 0) throw new GcDeviceError(`read ${offset}+${length} from ${this.dev.name} failed (${errnoName(res)})`);
    return data;
  }

  private async write(offset: number, data: Uint8Array): Promise<void> {
    const res = await this.lab.submit(this.dev, { op: ReqOp.WRITE, offset, length: data.length, data }, this.trace());
    if (res < 0) throw new GcDeviceError(`write ${offset}+${data.length} to ${this.dev.name} failed (${errnoName(res)})`);
  }

  private off(p: number): number {
    return physToDeviceOffset(this.layout, p);
  }

  private check(b: Uint8Array, want: number, lba: number, p: number, what: string): void {
    const got = tagOfPayload(b);
    if (got !== want) throw new GcIntegrityError(`${what} of physical block ${p} (${this.dev.name} offset ${this.off(p)}) returned ${got < 0 ? 'a block that is not a tagged payload' : describeTag(got)}, expected ${describeTag(want)}`, lba, p);
  }

  async userWrite(p: number, tag: number): Promise<void> {
    const b = this.buf.subarray(0, GC_BLOCK_BYTES);
    payloadOf(tag, b);
    await this.write(this.off(p), b);
  }

  async resetSection(section: number): Promise<void> {
    const start = this.off(section * this.layout.sectionBlocks);
    const gc = this.gc;
    gc.resets++;
    if (this.zns) {
      const r = await this.zns.dev.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.ZONE_MGMT_SEND, nsid: this.zns.dev.ns.nsid, cdw: { 10: start / this.zns.dev.ns.lbs, 11: 0, 13: ZSA.RESET } }) });
      gc.commands++;
      gc.reset_commands++;
      if (r.status !== 0) throw new GcDeviceError(`zone reset at ${start} failed: ${statusName(r.status)}`);
    } else if (this.dev.limits.max_discard_sectors > 0) {
      // A section may take several discards (the queue's max_discard_sectors): as many as the device counted.
      const d0 = this.dev.stats.ios.discard;
      const res = await this.lab.submit(this.dev, { op: ReqOp.DISCARD, offset: start, length: this.layout.sectionBlocks * GC_BLOCK_BYTES }, this.trace());
      const n = this.dev.stats.ios.discard - d0;
      gc.commands += n;
      gc.reset_commands += n;
      if (res < 0) throw new GcDeviceError(`discard of section ${section} failed (${errnoName(res)})`);
    }
  }

  /** Runs [i, j) of the plan whose sources are consecutive, cut at `max` blocks. */
  private *srcRuns(plan: MovePlan, max: number): Generator<[number, number]> {
    let i = 0;
    while (i < plan.count) {
      let j = i + 1;
      while (j < plan.count && j - i < max && plan.src[j] === plan.src[j - 1]! + 1) j++;
      yield [i, j];
      i = j;
    }
  }

  /** Runs [i, j) whose destinations are consecutive (one destination extent), cut at `max`. */
  private *dstRuns(plan: MovePlan, max: number, alsoSrc = false): Generator<[number, number]> {
    let i = 0;
    while (i < plan.count) {
      let j = i + 1;
      while (j < plan.count && j - i < max && plan.dst[j] === plan.dst[j - 1]! + 1 && plan.dst[j]! % plan.sectionBlocks !== 0 && (!alsoSrc || plan.src[j] === plan.src[j - 1]! + 1)) j++;
      yield [i, j];
      i = j;
    }
  }

  /** Reads every valid block of the plan into `into` (index i at i × 4 KiB), checking each. */
  private async readSources(plan: MovePlan, into: Uint8Array): Promise<void> {
    for (const [i, j] of this.srcRuns(plan, GC_LIMITS.maxIoBlocks)) {
      const data = await this.read(this.off(plan.src[i]!), (j - i) * GC_BLOCK_BYTES);
      for (let k = i; k < j; k++) this.check(data.subarray((k - i) * GC_BLOCK_BYTES, (k - i + 1) * GC_BLOCK_BYTES), plan.tag[k]!, plan.lba[k]!, plan.src[k]!, 'GC read');
      into.set(data, i * GC_BLOCK_BYTES);
    }
  }

  /** Reads the moved blocks back at their destinations (offloaded paths: the host never saw them). */
  private async verifyDestinations(plan: MovePlan): Promise<void> {
    for (const [i, j] of this.dstRuns(plan, GC_LIMITS.maxIoBlocks)) {
      const data = await this.read(this.off(plan.dst[i]!), (j - i) * GC_BLOCK_BYTES);
      for (let k = i; k < j; k++) this.check(data.subarray((k - i) * GC_BLOCK_BYTES, (k - i + 1) * GC_BLOCK_BYTES), plan.tag[k]!, plan.lba[k]!, plan.dst[k]!, 'read-back of moved block');
      this.verifiedMoves += j - i;
    }
  }

  private async move(plan: MovePlan): Promise<void> {
    if (plan.count === 0) return;
    const all = new Uint8Array(plan.count * GC_BLOCK_BYTES);
    switch (this.path) {
      case 'host': {
        await this.readSources(plan, all);
        for (const [i, j] of this.dstRuns(plan, GC_LIMITS.maxIoBlocks)) {
          await this.write(this.off(plan.dst[i]!), all.subarray(i * GC_BLOCK_BYTES, j * GC_BLOCK_BYTES));
        }
        break;
      }
      case 'copy': {
        // Ranges with consecutive destinations make one many-sources copy: one request per
        // destination section (a zone whose capacity is its size ends where the next begins, and
        // a copy does not cross a zone), cut by the engine's range limit.
        const runs = [...this.dstRuns(plan, Infinity, true)];
        this.gc.ranges += runs.length;
        let k = 0;
        while (k < runs.length) {
          const section = Math.floor(plan.dst[runs[k]![0]]! / plan.sectionBlocks);
          const ranges: CopyRange[] = [];
          for (; k < runs.length && ranges.length < GC_COPY_MAX_RANGES && Math.floor(plan.dst[runs[k]![0]]! / plan.sectionBlocks) === section; k++) {
            const [i, j] = runs[k]!;
            ranges.push({ srcOffset: this.off(plan.src[i]!), dstOffset: this.off(plan.dst[i]!), length: (j - i) * GC_BLOCK_BYTES });
          }
          const r = await this.lab.copy(this.dev, ranges, {}, this.trace());
          if (r.res < 0) throw new GcDeviceError(`GC copy failed: ${r.message ?? r.res} (${r.reasons.join(', ')})`);
          this.copyHostBytes += r.host_bytes;
          this.emulation.add(r);
        }
        break;
      }
      case 'append': {
        const z = this.zns!;
        await this.readSources(plan, all);
        const zasl = z.dev.host.info.zasl || z.dev.host.info.mdts;
        const maxBlocks = Math.max(1, Math.floor((4096 << zasl) / GC_BLOCK_BYTES));
        for (const [i, j] of this.dstRuns(plan, maxBlocks)) {
          const d0 = this.off(plan.dst[i]!);
          const zslba = Math.floor(d0 / z.zoneBytes) * (z.zoneBytes / z.dev.ns.lbs);
          const nlb = ((j - i) * GC_BLOCK_BYTES) / z.dev.ns.lbs;
          const r = await z.dev.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.ZONE_APPEND, nsid: z.dev.ns.nsid, cdw: { 10: zslba, 11: 0, 12: nlb - 1 } }), data: all.subarray(i * GC_BLOCK_BYTES, j * GC_BLOCK_BYTES) });
          this.gc.commands++;
          this.gc.appends++;
          this.gc.host_bytes += (j - i) * GC_BLOCK_BYTES;
          if (r.status !== 0) throw new GcDeviceError(`Zone Append failed: ${statusName(r.status)}`);
          const at = (r.dw0 >>> 0) + r.dw1 * 2 ** 32;
          if (at * z.dev.ns.lbs !== d0) throw new GcIntegrityError(`Zone Append wrote at LBA ${at}, the layer expected ${d0 / z.dev.ns.lbs}`, plan.lba[i]!, plan.dst[i]!);
        }
        break;
      }
      case 'izc': {
        const z = this.zns!;
        const ns = z.dev.ns;
        const lpb = GC_BLOCK_BYTES / ns.lbs;
        // One Copy per destination zone; a new command only where MSRC+1 ranges, MCL blocks or a zone end say so.
        const runs = [...this.dstRuns(plan, Infinity, true)];
        let k = 0;
        while (k < runs.length) {
          const first = runs[k]!;
          const sdlba = this.off(plan.dst[first[0]]!) / ns.lbs;
          // The destination zone: a zone whose capacity is its size ends where the next begins, so the LBAs alone do not show its end.
          const zone = Math.floor(plan.dst[first[0]]! / plan.sectionBlocks);
          const descs: { slba: number; nlb: number }[] = [];
          let blocks = 0;
          let expect = sdlba;
          while (k < runs.length && descs.length < ns.msrc + 1) {
            const [i, j] = runs[k]!;
            const nlb = (j - i) * lpb;
            if (this.off(plan.dst[i]!) / ns.lbs !== expect || Math.floor(plan.dst[i]! / plan.sectionBlocks) !== zone || nlb > ns.mssrl || blocks + nlb > ns.mcl) break;
            descs.push({ slba: this.off(plan.src[i]!) / ns.lbs, nlb });
            blocks += nlb;
            expect += nlb;
            k++;
          }
          if (descs.length === 0) {
            // A run longer than MSSRL or MCL: split it into pieces that fit.
            const [i, j] = runs[k]!;
            const step = Math.max(1, Math.floor(Math.min(ns.mssrl, ns.mcl) / lpb));
            runs.splice(k, 1, ...Array.from({ length: Math.ceil((j - i) / step) }, (_, q) => [i + q * step, Math.min(j, i + (q + 1) * step)] as [number, number]));
            continue;
          }
          const r = await z.dev.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.COPY, nsid: ns.nsid, cdw: copyCdws({ sdlba, nr: descs.length, format: 0 }) }), data: encodeRanges(0, descs) });
          this.gc.commands++;
          this.gc.compactions++;
          this.gc.ranges += descs.length;
          if (r.status !== 0) throw new GcDeviceError(`in-storage compaction (NVMe Copy of ${descs.length} ranges to LBA ${sdlba}) failed: ${statusName(r.status)}`);
        }
        break;
      }
    }
  }

  /** After an offloaded move (copy, append, izc) the moved blocks are read back and checked. */
  private async verify(plan: MovePlan): Promise<void> {
    if (this.path !== 'host') await this.verifyDestinations(plan);
  }

  /** Block-layer I/O the device has counted (a move's is the difference across it; verification reads come after). */
  private snapshot(): { read: number; write: number; copy: number; host: number } {
    const st = this.dev.stats;
    return { read: st.ios.read, write: st.ios.write, copy: st.ios.copy, host: st.host_bytes };
  }

  /** The final check of one logical block: physical block `p` reads back its latest write, `want`. */
  async readBack(lba: number, p: number, want: number): Promise<void> {
    const got = tagOfPayload(await this.read(this.off(p), GC_BLOCK_BYTES));
    if (got !== want) throw readBackFailure(lba, p, got, want);
  }
}
