/**
 * The GC lab on a lab block device (an NVMe namespace, ZNS or conventional, a nullblk, a dm
 * stack, a SCSI LU): the same layer (lfs.ts) with real bytes. Every block written carries its
 * tag in a 4 KiB payload (tag-derived words), so a GC read is checked byte for byte as it goes,
 * moved blocks are read back after an offloaded move, and every logical block is read back at
 * the end. Paths:
 * - host:   lab.read of each run of valid blocks, lab.write of each destination extent;
 * - copy:   lab.copy (REQ_OP_COPY through the copy engine: NVMe Copy, SCSI XCOPY or tokens,
 *           emulation where the device cannot; the engine's result says which);
 * - append: reads as host, then NVMe Zone Append (ZNS 4.3) of the gathered blocks; the LBA the
 *           device reports must be where the layer expects the block;
 * - izc:    in-storage zone compaction as ZNS+ proposes, with the command NVMe has: one NVMe Copy
 *           (format 0) per destination zone carrying every valid run of the victim, SDLBA at the
 *           zone's write pointer (split only where the namespace's MSRC/MCL/MSSRL say so).
 * Commands and host bytes are what the device saw (its stats), plus the passthrough commands.
 */
import type { Lab } from '../lab.js';
import type { BlockDevice } from '../../core/block/device.js';
import { ReqOp } from '../../core/block/ops.js';
import { Trace } from '../../core/block/trace.js';
import type { TraceSink } from '../../core/trace/record.js';
import { ErrnoError } from '../../core/util/errno.js';
import { NvmeNamespaceDevice } from '../../../devices/nvme/driver.js';
import { buildSqe, copyCdws, encodeRanges } from '../../../devices/nvme/codec.js';
import { IoOpc, ZONE_REPORT, ZSA, ZRA, ZRASF, ZMR_PARTIAL, statusName } from '../../../devices/nvme/spec.js';
import { GC_BLOCK_BYTES, GC_LIMITS } from './constants.js';
import { makeLayout, physToDeviceOffset, type Layout } from './layout.js';
import { LogStructured, Temp, newMovePlan, type MovePlan } from './lfs.js';
import { GcOptionError, checkGcOptions, type GcOptions } from './options.js';
import { newPathCounters, type PathCounters } from './paths.js';
import { makePolicy } from './policies.js';
import { gcResult, type GcResult } from './result.js';
import { LatencyHistogram } from './histogram.js';
import { GcIntegrityError, describeTag } from './tag.js';
import { TraceOp, makeWorkload } from './workload.js';
import { injectFault } from './fault-inject.js';
import type { GcHooks } from './run.js';
import { dataView, le64 } from '../../core/util/bytes.js';

const WORDS = GC_BLOCK_BYTES / 4;
const GOLDEN = 0x9e3779b1;

/** The 4 KiB payload of a block whose tag is t. */
export function payloadOf(t: number, out: Uint8Array): void {
  const v = dataView(out);
  for (let i = 0; i < WORDS; i++) v.setUint32(i * 4, (t + Math.imul(i, GOLDEN)) >>> 0, true);
}

/** The tag a payload carries, or −1 when its words disagree (a torn or foreign block). */
export function tagOfPayload(b: Uint8Array): number {
  const v = dataView(b);
  const t = v.getUint32(0, true);
  for (let i = 1; i < WORDS; i++) if (v.getUint32(i * 4, true) !== ((t + Math.imul(i, GOLDEN)) >>> 0)) return -1;
  return t;
}

interface ZnsInfo {
  readonly dev: NvmeNamespaceDevice;
  readonly zoneBytes: number;
  readonly zoneCapBytes: number;
}

async function znsInfo(dev: NvmeNamespaceDevice): Promise<ZnsInfo> {
  const z = dev.ns.zoned!;
  const lbs = dev.ns.lbs;
  // Report Zones (Zone Management Receive, ZRA 0, all zones, partial): the first descriptor's ZCAP.
  const len = ZONE_REPORT.HEADER + ZONE_REPORT.DESC;
  const r = await dev.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.ZONE_MGMT_RECV, nsid: dev.ns.nsid, cdw: { 10: 0, 11: 0, 12: len / 4 - 1, 13: ZRA.REPORT | (ZRASF.ALL << 8) | ZMR_PARTIAL } }), dataLen: len });
  if (r.status !== 0 || !r.data) throw new GcOptionError('--dev', `${dev.name}: Report Zones failed with ${statusName(r.status)}`);
  const zcap = le64(r.data, ZONE_REPORT.HEADER + ZONE_REPORT.ZCAP);
  return { dev, zoneBytes: z.zsze * lbs, zoneCapBytes: zcap * lbs };
}

class LabMover {
  readonly gc: PathCounters = newPathCounters();
  private readonly buf = new Uint8Array(GC_LIMITS.maxIoBlocks * GC_BLOCK_BYTES);
  verifiedMoves = 0;
  constructor(
    private readonly lab: Lab,
    private readonly dev: BlockDevice,
    private readonly layout: Layout,
    private readonly zns: ZnsInfo | null,
    private readonly path: GcOptions['path'],
    private readonly traceSink?: TraceSink,
  ) {}

  /** A trace for one request when the run streams one (`--trace-out`), else none. */
  private trace(): Trace | undefined {
    return this.traceSink ? new Trace(this.lab.clock, this.traceSink, this.traceSink.nextRequest()) : undefined;
  }

  private async read(offset: number, length: number): Promise<Uint8Array> {
    const data = new Uint8Array(length);
    const res = await this.lab.submit(this.dev, { op: ReqOp.READ, offset, length, data }, this.trace());
    if (res < 0) throw new ErrnoError(-res, `read ${offset}+${length} from ${this.dev.name}`);
    return data;
  }

  private async write(offset: number, data: Uint8Array): Promise<void> {
    const res = await this.lab.submit(this.dev, { op: ReqOp.WRITE, offset, length: data.length, data }, this.trace());
    if (res < 0) throw new ErrnoError(-res, `write ${offset}+${data.length} to ${this.dev.name}`);
  }

  off(p: number): number {
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

  async reset(section: number): Promise<void> {
    const start = this.off(section * this.layout.sectionBlocks);
    this.gc.resets++;
    if (this.zns) {
      const r = await this.zns.dev.host.passthru({ admin: false, cmd: buildSqe({ opcode: IoOpc.ZONE_MGMT_SEND, nsid: this.zns.dev.ns.nsid, cdw: { 10: start / this.zns.dev.ns.lbs, 11: 0, 13: ZSA.RESET } }) });
      this.gc.commands++;
      if (r.status !== 0) throw new Error(`zone reset at ${start} failed: ${statusName(r.status)}`);
    } else if (this.dev.limits.max_discard_sectors > 0) {
      const res = await this.lab.submit(this.dev, { op: ReqOp.DISCARD, offset: start, length: this.layout.sectionBlocks * GC_BLOCK_BYTES }, this.trace());
      if (res < 0) throw new Error(`discard of section ${section} failed (${res})`);
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
  async verifyDestinations(plan: MovePlan): Promise<void> {
    for (const [i, j] of this.dstRuns(plan, GC_LIMITS.maxIoBlocks)) {
      const data = await this.read(this.off(plan.dst[i]!), (j - i) * GC_BLOCK_BYTES);
      for (let k = i; k < j; k++) this.check(data.subarray((k - i) * GC_BLOCK_BYTES, (k - i + 1) * GC_BLOCK_BYTES), plan.tag[k]!, plan.lba[k]!, plan.dst[k]!, 'read-back of moved block');
      this.verifiedMoves += j - i;
    }
  }

  async move(plan: MovePlan): Promise<void> {
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
        const ranges = [...this.dstRuns(plan, Infinity, true)].map(([i, j]) => ({ srcOffset: this.off(plan.src[i]!), dstOffset: this.off(plan.dst[i]!), length: (j - i) * GC_BLOCK_BYTES }));
        this.gc.ranges += ranges.length;
        // Ranges with consecutive destinations make one many-sources copy; cut by the engine's range limit.
        for (let k = 0; k < ranges.length; k += 1024) {
          const r = await this.lab.copy(this.dev, ranges.slice(k, k + 1024), {}, this.trace());
          if (r.res < 0) throw new Error(`GC copy failed: ${r.message ?? r.res} (${r.reasons.join(', ')})`);
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
          if (r.status !== 0) throw new Error(`Zone Append failed: ${statusName(r.status)}`);
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
          const descs: { slba: number; nlb: number }[] = [];
          let blocks = 0;
          let expect = sdlba;
          while (k < runs.length && descs.length < ns.msrc + 1) {
            const [i, j] = runs[k]!;
            const nlb = (j - i) * lpb;
            if (this.off(plan.dst[i]!) / ns.lbs !== expect || nlb > ns.mssrl || blocks + nlb > ns.mcl) break;
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
          if (r.status !== 0) throw new Error(`in-storage compaction (NVMe Copy of ${descs.length} ranges to LBA ${sdlba}) failed: ${statusName(r.status)}`);
        }
        break;
      }
    }
  }

  /** After an offloaded move (copy, append, izc) the moved blocks are read back and checked. */
  async verify(plan: MovePlan): Promise<void> {
    if (this.path !== 'host') await this.verifyDestinations(plan);
  }

  /** Block-layer I/O the device saw, to subtract verification reads from. */
  snapshot(): { ios: number; host: number } {
    const st = this.dev.stats;
    return { ios: st.ios.read + st.ios.write + st.ios.copy, host: st.host_bytes };
  }

  async readBack(p: number): Promise<Uint8Array> {
    return this.read(this.off(p), GC_BLOCK_BYTES);
  }
}

export interface LabGcTarget {
  readonly lab: Lab;
  readonly dev: string;
}

/** A GC run on a lab device. The options' size is the device's; a zoned NVMe namespace sets the zone geometry. */
export async function runGcOnLab(target: LabGcTarget, o: GcOptions, hooks: GcHooks = {}): Promise<GcResult> {
  checkGcOptions({ ...o, ...(o.zoneBytes === undefined && (o.path === 'append' || o.path === 'izc') ? { zoneBytes: GC_BLOCK_BYTES } : {}) });
  const t0 = performance.now();
  const lab = target.lab;
  const dev = lab.findDevice(target.dev);
  if (!dev) throw new GcOptionError('--dev', `no device ${target.dev} in the scenario`);
  if (GC_BLOCK_BYTES % dev.limits.logical_block_size !== 0) throw new GcOptionError('--dev', `${dev.name}'s logical block size ${dev.limits.logical_block_size} does not divide 4 KiB`);
  const zoned = dev.limits.zoned !== 'none';
  let zns: ZnsInfo | null = null;
  if (zoned) {
    if (!(dev instanceof NvmeNamespaceDevice) || !dev.ns.zoned) throw new GcOptionError('--dev', `${dev.name} is zoned but not an NVMe ZNS namespace`);
    zns = await znsInfo(dev);
  }
  if ((o.path === 'append' || o.path === 'izc') && !zns) throw new GcOptionError('--path', `${o.path} needs a zoned NVMe namespace; ${dev.name} is not one`);
  if (o.allocation !== 'frontier' && dev.timing?.params.allocation !== o.allocation) {
    throw new GcOptionError('--allocation', `${dev.name}'s placement is its timing model's: set timing: { allocation: ${o.allocation} } on it in the scenario`);
  }
  if (o.path === 'izc' && zns && !(zns.dev.host.info.oncs & (1 << 8))) throw new GcOptionError('--path', `izc needs NVMe Copy; ${dev.name}'s controller does not support it`);
  let layout: Layout;
  try {
    layout = makeLayout({
      bytes: dev.capacity,
      spareFactor: o.spareFactor,
      segsPerSection: o.segsPerSection,
      ...(zns ? { zoneBytes: zns.zoneBytes, zoneCapacityBytes: zns.zoneCapBytes } : {}),
    });
  } catch (err) {
    throw new GcOptionError('--dev', `${dev.name} (${dev.capacity} bytes): ${(err as Error).message}`);
  }
  const lfs = new LogStructured(layout, makePolicy(o.policy, Math.round(o.ageThreshold * layout.userBlocks)));
  const wl = makeWorkload(o.workload, layout.userBlocks, o.seed, hooks.trace);
  const mover = new LabMover(lab, dev, layout, zns, o.path, hooks.traceSink);
  const plan = newMovePlan(layout.sectionBlocks);
  const U = layout.userBlocks;
  let injected = false;
  let gcIos = 0;
  let gcHost = 0;

  const drainResets = async (): Promise<void> => {
    while (lfs.resetQueue.length) await mover.reset(lfs.resetQueue.shift()!);
  };
  const collect = async (): Promise<void> => {
    while (lfs.gcNeeded) {
      if (!lfs.planVictim(plan)) break;
      await drainResets();
      if (o.inject && !injected) injected = injectFault(plan, lfs.counters.gcMoved, o.inject);
      const s0 = mover.snapshot();
      await mover.move(plan);
      const s1 = mover.snapshot();
      gcHost += s1.host - s0.host;
      gcIos += s1.ios - s0.ios;
      await mover.verify(plan);
      lfs.freeVictim(plan);
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
    const want = lfs.latestTag(lba);
    const b = await mover.readBack(p);
    const got = tagOfPayload(b);
    if (got !== want) throw new GcIntegrityError(`verify: lba ${lba} at physical ${p} holds ${got < 0 ? 'a block that is not a tagged payload' : describeTag(got)}, expected ${describeTag(want)}`, lba, p);
    verified++;
  }

  const gc = mover.gc;
  gc.commands += gcIos;
  gc.host_bytes += gcHost;
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

