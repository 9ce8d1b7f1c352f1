/**
 * The block device of one namespace (the kernel's nvme0n1): bios become NVMe commands on the
 * host's queue pairs. Limits come from Identify: MDTS → max_hw_sectors, MCL/MSRC →
 * copy_max_hw_bytes/copy_max_segments, the subsystem NQN → copy_domain. A COPY bio becomes one
 * or more Copy commands of at most MSRC + 1 descriptors and MCL blocks each, a source longer
 * than MSSRL being cut into several descriptors. Copies from another namespace of the subsystem
 * use descriptor formats 2/3, so they are offloaded only once the host has enabled those formats;
 * until then copyOffloadRefusal says why and the copy engine emulates.
 */
import type { Bio } from '../../src/core/block/bio.js';
import type { BlockDevice, DeviceStats, DeviceTimingInfo } from '../../src/core/block/device.js';
import { newDeviceStats } from '../../src/core/block/device.js';
import { FaultInjector } from '../../src/core/block/fault.js';
import { BLK_COPY_MAX_BYTES, BLK_DEF_MAX_SECTORS_CAP, checkLimits, defaultLimits, updateCopyLimit, type QueueLimits } from '../../src/core/block/limits.js';
import { ReqOp, SECTOR_SIZE } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import { buildSqe, copyCdws, encodeRanges, type SourceRange } from './codec.js';
import type { NvmeHost, NsInfo } from './host.js';
import { DSM_AD, DSM_MAX_RANGES, DSM_RANGE_SIZE, IoOpc, NVME_PAGE_SIZE, RW_FUA, Status } from './spec.js';
import { ReqFlag } from '../../src/core/block/ops.js';
import type { BufferResolver, UringCmdResult } from '../../src/core/ring/consumer.js';
import { nvmeUringCmd } from './uring-cmd.js';
import { offloadMinBytesFor } from '../timing/heuristics.js';
import { dataView, putLe64 } from '../../src/core/util/bytes.js';

/**
 * NVMe status → errno, as the kernel's nvme_error_status() maps status to blk_status_t and
 * blk_status_to_errno() maps that to an errno.
 */
export function nvmeStatusToErrno(status: number): number {
  if (status < 0) return status;
  switch (status) {
    case Status.SUCCESS: return 0;
    case Status.CAPACITY_EXCEEDED: return -Errno.ENOSPC;
    case Status.LBA_RANGE: return -Errno.EREMOTEIO;
    case Status.INVALID_OPCODE:
    case Status.INVALID_FIELD:
    case Status.INVALID_NSID: return -Errno.ENOTSUP;
    case Status.WRITE_FAULT:
    case Status.UNRECOVERED_READ: return -Errno.ENODATA;
    case Status.ZONE_TOO_MANY_ACTIVE: return -Errno.EOVERFLOW;
    case Status.ZONE_TOO_MANY_OPEN: return -Errno.ETOOMANYREFS;
    default: return -Errno.EIO;
  }
}

/**
 * Bios a namespace device has turned into commands and not yet completed (in flight on the I/O
 * queues, or built and waiting for a free submission queue slot, each holding its DMA pages).
 * Beyond it new bios wait in the device, as plain bios holding nothing, until one completes —
 * as blk-mq makes a submitter wait for a tag rather than fail it (a limit on everything).
 */
export const NVME_NS_MAX_QUEUED = 4096;

export class NvmeNamespaceDevice implements BlockDevice {
  readonly name: string;
  readonly capacity: number;
  readonly limits: QueueLimits;
  readonly stats: DeviceStats = newDeviceStats();
  readonly faults = new FaultInjector();
  /** NVMe commands this device issued, by kind (for traces, benches and tests). */
  readonly commands = { read: 0, write: 0, flush: 0, dsm: 0, write_zeroes: 0, copy: 0 };
  /** The last NVMe status a command of this device completed with (0 = success). */
  lastStatus = 0;

  /** The namespace's timing model as sysfs shows it (the device charges it; docs/timing.md). */
  readonly timing: DeviceTimingInfo | null;

  constructor(readonly host: NvmeHost, readonly ns: NsInfo, ctrlName: string, timing: DeviceTimingInfo | null = null) {
    this.timing = timing;
    this.name = `${ctrlName}n${ns.nsid}`;
    this.capacity = ns.nsze * ns.lbs;
    const l = defaultLimits(ns.lbs);
    const maxTransfer = NVME_PAGE_SIZE << host.info.mdts;
    l.max_hw_sectors = maxTransfer / SECTOR_SIZE;
    l.max_sectors = Math.min(l.max_hw_sectors, BLK_DEF_MAX_SECTORS_CAP);
    l.max_segments = maxTransfer / NVME_PAGE_SIZE;
    l.max_segment_size = NVME_PAGE_SIZE;
    // One DSM range carries up to 2^32 - 1 blocks; the kernel caps discard at UINT_MAX sectors.
    l.max_hw_discard_sectors = l.max_discard_sectors = Math.min(0xffffffff, Math.floor(((2 ** 32 - 1) * ns.lbs) / SECTOR_SIZE));
    l.discard_granularity = ns.lbs;
    // Write Zeroes NLB is 16 bits (0-based): 65536 blocks per command.
    l.max_write_zeroes_sectors = (65536 * ns.lbs) / SECTOR_SIZE;
    if (host.info.oncs & (1 << 8)) {
      l.max_copy_hw_sectors = Math.min(BLK_COPY_MAX_BYTES, ns.mcl * ns.lbs) / SECTOR_SIZE;
      l.max_copy_src_segments = ns.msrc + 1;
      l.copy_domain = host.info.subnqn;
    }
    if (ns.zoned) l.zoned = 'host-managed';
    // A timed namespace starts from its preset's measured crossover (devices/timing/heuristics.ts).
    if (timing) l.copy_offload_min_bytes = offloadMinBytesFor(timing.params.preset);
    updateCopyLimit(l);
    const bad = checkLimits(l);
    if (bad) throw new RangeError(`${this.name}: ${bad}`);
    this.limits = l;
  }

  /** Which descriptor format a copy from `src` needs: 0/1 within the namespace, 2/3 across. */
  private formatFor(cross: boolean): number {
    const pi = this.ns.pif === 0 ? 0 : 1;
    return cross ? pi + 2 : pi;
  }

  copyOffloadRefusal(src: BlockDevice): string | null {
    if (!(src instanceof NvmeNamespaceDevice) || src.host.info.subnqn !== this.host.info.subnqn) {
      return `${this.name} copies only from namespaces of its subsystem (${this.host.info.subnqn})`;
    }
    if (src.ns.nsid === this.ns.nsid) return null;
    const fmt = this.formatFor(true);
    if (!(this.host.info.ocfs & (1 << fmt))) return `${this.name}'s controller does not support copy descriptor format ${fmt} (OCFS 0x${this.host.info.ocfs.toString(16)}), needed to copy from ${src.name}`;
    if (!(this.host.cdfe & (1 << fmt))) return `cross-namespace copy from ${src.name} needs descriptor format ${fmt}, not enabled by the host (Host Behavior Support CDFE)`;
    if (src.ns.lbs !== this.ns.lbs || src.ns.pif !== this.ns.pif) return `${src.name} and ${this.name} have different LBA or PI formats`;
    return null;
  }

  /** Bios turned into commands and not yet completed (at most NVME_NS_MAX_QUEUED). */
  get outstanding(): number {
    return this.issued;
  }

  /** Bios waiting for the number outstanding to drop under NVME_NS_MAX_QUEUED. */
  get waiting(): number {
    return this.held.length - this.heldHead;
  }

  private issued = 0;
  private readonly held: Bio[] = [];
  private heldHead = 0;

  queueBio(bio: Bio): void {
    if (this.issued >= NVME_NS_MAX_QUEUED || this.waiting > 0) {
      this.held.push(bio); // in arrival order: a bio never overtakes one that waits
      return;
    }
    this.issue(bio);
  }

  private issue(bio: Bio): void {
    this.issued++;
    const end = (res: number): void => {
      this.issued--;
      if (this.heldHead < this.held.length) {
        const next = this.held[this.heldHead]!;
        this.held[this.heldHead++] = undefined as unknown as Bio;
        if (this.heldHead === this.held.length) {
          this.held.length = 0;
          this.heldHead = 0;
        }
        this.issue(next);
      }
      bio.endIo(res);
    };
    this.execute(bio).then(end, () => end(-Errno.EIO));
  }

  /** IORING_OP_URING_CMD: NVMe passthrough (uring-cmd.ts). */
  uringCmd(cmdOp: number, cmd: Uint8Array, buffers: BufferResolver, done: (r: UringCmdResult) => void): void {
    nvmeUringCmd(this, cmdOp, cmd, buffers, done);
  }

  private async run(f: Parameters<typeof buildSqe>[0], data?: Uint8Array, readLen = 0): Promise<{ res: number; data?: Uint8Array; status: number }> {
    const r = await this.host.passthru({ admin: false, cmd: buildSqe({ nsid: this.ns.nsid, ...f }), ...(data ? { data } : {}), dataLen: readLen });
    this.lastStatus = r.status;
    return { res: nvmeStatusToErrno(r.status), status: r.status, ...(r.data ? { data: r.data } : {}) };
  }

  private async execute(bio: Bio): Promise<number> {
    const lbs = this.ns.lbs;
    const slba = bio.offset / lbs;
    const nlb = bio.length / lbs;
    const fua = bio.flags & ReqFlag.FUA ? RW_FUA : 0;
    const lba = { 10: slba >>> 0, 11: Math.floor(slba / 2 ** 32) };
    switch (bio.op) {
      case ReqOp.READ: {
        this.commands.read++;
        const r = await this.run({ opcode: IoOpc.READ, cdw: { ...lba, 12: (nlb - 1) | fua } }, undefined, bio.length);
        if (r.res < 0) return r.res;
        bio.data!.set(r.data!);
        return bio.length;
      }
      case ReqOp.WRITE: {
        this.commands.write++;
        const r = await this.run({ opcode: IoOpc.WRITE, cdw: { ...lba, 12: (nlb - 1) | fua } }, bio.data);
        return r.res < 0 ? r.res : bio.length;
      }
      case ReqOp.FLUSH: {
        this.commands.flush++;
        return (await this.run({ opcode: IoOpc.FLUSH })).res;
      }
      case ReqOp.WRITE_ZEROES: {
        this.commands.write_zeroes++;
        return (await this.run({ opcode: IoOpc.WRITE_ZEROES, cdw: { ...lba, 12: nlb - 1 } })).res;
      }
      case ReqOp.DISCARD: {
        this.commands.dsm++;
        // One range per 2^32 - 1 blocks (the block layer's limit keeps it to one or two).
        const ranges: [number, number][] = [];
        for (let at = slba, left = nlb; left > 0 && ranges.length < DSM_MAX_RANGES; ) {
          const n = Math.min(left, 0xffffffff);
          ranges.push([at, n]);
          at += n;
          left -= n;
        }
        const buf = new Uint8Array(ranges.length * DSM_RANGE_SIZE);
        const v = dataView(buf);
        ranges.forEach(([s, n], i) => {
          v.setUint32(i * DSM_RANGE_SIZE + 4, n, true);
          putLe64(buf, i * DSM_RANGE_SIZE + 8, s);
        });
        return (await this.run({ opcode: IoOpc.DSM, cdw: { 10: ranges.length - 1, 11: DSM_AD } }, buf)).res;
      }
      case ReqOp.COPY:
        return this.copy(bio);
      default:
        return -Errno.ENOTSUP;
    }
  }

  /** A COPY bio as Copy commands, one after another, each with ≤ MSRC + 1 descriptors and ≤ MCL blocks. */
  private async copy(bio: Bio): Promise<number> {
    const lbs = this.ns.lbs;
    const sources = bio.sources ?? [];
    const cross = sources.some((s) => s.dev !== this);
    for (const s of sources) if (s.dev !== this && this.copyOffloadRefusal(s.dev)) return -Errno.EXDEV;
    const fmt = this.formatFor(cross);
    const mssrl = sources.reduce((m, s) => Math.min(m, s.dev instanceof NvmeNamespaceDevice ? s.dev.ns.mssrl : m), this.ns.mssrl);
    const descs: Partial<SourceRange>[] = [];
    for (const s of sources) {
      const dev = s.dev as NvmeNamespaceDevice;
      let at = s.offset / lbs;
      let left = s.length / lbs;
      while (left > 0) {
        const n = Math.min(left, mssrl);
        descs.push({ snsid: dev.ns.nsid, slba: at, nlb: n });
        at += n;
        left -= n;
      }
    }
    const maxRanges = this.ns.msrc + 1;
    let dlba = bio.offset / lbs;
    let i = 0;
    const fua = (bio.flags & ReqFlag.FUA) !== 0;
    while (i < descs.length) {
      const batch: Partial<SourceRange>[] = [];
      let blocks = 0;
      while (i < descs.length && batch.length < maxRanges && blocks + descs[i]!.nlb! <= this.ns.mcl) {
        blocks += descs[i]!.nlb!;
        batch.push(descs[i++]!);
      }
      this.commands.copy++;
      const r = await this.run({ opcode: IoOpc.COPY, cdw: copyCdws({ sdlba: dlba, nr: batch.length, format: fmt, fua }) }, encodeRanges(fmt, batch));
      if (r.res < 0) return r.res;
      dlba += blocks;
    }
    return bio.length;
  }
}
