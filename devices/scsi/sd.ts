/**
 * The host driver `sd` (drivers/scsi/sd.c, reduced): one BlockDevice per logical unit. It only
 * speaks CDBs to its array through ScsiArray.execute: READ/WRITE become READ(16)/WRITE(16),
 * FLUSH SYNCHRONIZE CACHE(10), DISCARD UNMAP, WRITE_ZEROES WRITE SAME(16) with UNMAP, and a
 * COPY bio becomes one EXTENDED COPY(LID1) with a segment descriptor per source, or
 * POPULATE TOKEN + RECEIVE ROD TOKEN INFORMATION + WRITE USING TOKEN per source LU.
 *
 * Discovery follows the SNIA paper's section 2.6: the 3PC bit of standard INQUIRY, REPORT
 * SUPPORTED OPERATION CODES for 83h/00h (and 83h/10h, 83h/11h for tokens), RECEIVE COPY
 * OPERATING PARAMETERS and the Third-party Copy VPD page for the limits. What it finds becomes
 * the queue limits (copy_max_hw_bytes, copy_max_segments, copy_domain = the array's domain).
 *
 * A bio becomes a short program of CDBs (a generator yielding each command and getting its
 * result). On an untimed array the program runs inside queueBio through ScsiArray.execute and
 * the bio completes at once, as always; on a timed array (its LU has a timing model) it runs
 * through executeAsync, so each command completes at its modeled time and the bio after the
 * last one. The disk shows its LU's model (`timing`, /sys/block/<sd>/timing/).
 */
import type { Bio } from '../../src/core/block/bio.js';
import type { BlockDevice, DeviceStats } from '../../src/core/block/device.js';
import { newDeviceStats } from '../../src/core/block/device.js';
import { FaultInjector } from '../../src/core/block/fault.js';
import { BLK_COPY_MAX_BYTES, checkLimits, defaultLimits, updateCopyLimit, type QueueLimits } from '../../src/core/block/limits.js';
import { ReqOp, SECTOR_SIZE } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import type { ScsiArray } from './array.js';
import { SenseKey, Status, TpcInSa, TpcOutSa, Vpd, Op, ListIdUsage } from './constants.js';
import { be16, be32, be64 } from '../../src/core/util/bytes.js';
import { decodeSense, type ScsiResult } from './sense.js';
import * as b from './build.js';
import type { BufferResolver, UringCmdResult } from '../../src/core/ring/consumer.js';
import { scsiUringCmd } from './uring-cmd.js';
import type { TimingModel } from '../timing/model.js';

/** One command of a bio's program: which disk's LU it goes to, the CDB, Data-Out, allocation length. */
interface CmdReq {
  readonly sd: SdDevice;
  readonly cdb: Uint8Array;
  readonly dataOut?: Uint8Array;
  readonly allocLen: number;
}
type CmdProgram = Generator<CmdReq, number, ScsiResult>;

export type CopyMode = 'xcopy' | 'token' | 'none';
export const COPY_MODES: readonly (CopyMode | 'auto')[] = ['auto', 'xcopy', 'token', 'none'];

export interface SdOptions {
  readonly name: string;
  readonly array: ScsiArray;
  readonly lun: number;
  /** The initiator name this host logs in with. */
  readonly initiator?: string;
  /** How REQ_OP_COPY travels: auto picks xcopy when the LU offers it, else token, else none. */
  readonly copyMode?: CopyMode | 'auto';
}

export const SD_DEFAULT_INITIATOR = 'iqn.2024-01.org.copylab:host';

/** What discovery found (the capability the driver declares). */
export interface SdCapabilities {
  readonly threePc: boolean;
  readonly xcopy: boolean;
  readonly token: boolean;
  readonly maxSegmentDescriptors: number;
  readonly maxCscdDescriptors: number;
  readonly maxSegmentBytes: number;
  readonly maxRangeDescriptors: number;
  readonly maxTokenBytes: number;
  readonly lbpme: boolean;
  readonly maxUnmapBlocks: number;
  readonly maxWriteSameBlocks: number;
  readonly maxTransferBlocks: number;
}

/** Blocks one block → block segment descriptor may carry (its NUMBER OF BLOCKS field is 16 bits). */
const SEGMENT_MAX_BLOCKS = 0xffff;

function errnoOf(r: ScsiResult): number {
  if (r.status === Status.GOOD) return 0;
  if (r.status === Status.RESERVATION_CONFLICT) return -Errno.EBADE;
  const s = decodeSense(r.senseData);
  if (s?.key === SenseKey.ILLEGAL_REQUEST) return -Errno.EREMOTEIO;
  return -Errno.EIO;
}

export class SdDevice implements BlockDevice {
  /** IORING_OP_URING_CMD: a CDB to this disk's LU (uring-cmd.ts). */
  uringCmd(cmdOp: number, cmd: Uint8Array, buffers: BufferResolver, done: (r: UringCmdResult) => void): void {
    scsiUringCmd(this, cmdOp, cmd, buffers, done);
  }

  readonly name: string;
  readonly capacity: number;
  readonly limits: QueueLimits;
  readonly stats: DeviceStats = newDeviceStats();
  readonly faults = new FaultInjector();
  readonly array: ScsiArray;
  readonly lun: number;
  readonly initiator: string;
  readonly caps: SdCapabilities;
  private mode: CopyMode;
  /** The LU's timing model (the array's, or the LU's own), or null: commands complete at once. */
  readonly timing: TimingModel | null;
  private listId = 1;
  /** CDBs sent, by operation name (what a copy cost in commands). */
  readonly commands: Record<string, number> = {};

  constructor(o: SdOptions) {
    this.name = o.name;
    this.array = o.array;
    this.lun = o.lun;
    this.initiator = o.initiator ?? SD_DEFAULT_INITIATOR;
    this.timing = o.array.lus[o.lun]?.timing ?? null;
    const rc = this.cmd(b.readCapacity16Cdb(), undefined, 32);
    if (rc.status !== Status.GOOD) throw new RangeError(`${o.name}: READ CAPACITY(16) failed: LUN ${o.lun} is not visible to ${this.initiator}`);
    const lbs = be32(rc.dataIn, 8);
    this.capacity = (be64(rc.dataIn, 0) + 1) * lbs;
    this.caps = this.discover((rc.dataIn[14]! & 0x80) !== 0, lbs);
    const want = o.copyMode ?? 'auto';
    if (!COPY_MODES.includes(want)) throw new RangeError(`${o.name}: copy mode must be one of ${COPY_MODES.join(', ')}`);
    this.mode = want === 'auto' ? (this.caps.xcopy ? 'xcopy' : this.caps.token ? 'token' : 'none') : want;
    if ((this.mode === 'xcopy' && !this.caps.xcopy) || (this.mode === 'token' && !this.caps.token)) throw new RangeError(`${o.name}: the LU does not offer copy mode ${this.mode}`);
    const l = defaultLimits(lbs);
    l.physical_block_size = lbs;
    l.max_hw_sectors = (this.caps.maxTransferBlocks * lbs) / SECTOR_SIZE;
    l.max_sectors = Math.min(l.max_sectors, l.max_hw_sectors);
    if (this.caps.lbpme) {
      l.max_hw_discard_sectors = l.max_discard_sectors = (this.caps.maxUnmapBlocks * lbs) / SECTOR_SIZE;
      l.max_write_zeroes_sectors = (this.caps.maxWriteSameBlocks * lbs) / SECTOR_SIZE;
    }
    l.copy_domain = this.array.domain;
    this.limits = l;
    this.applyCopyMode();
    const bad = checkLimits(l);
    if (bad) throw new RangeError(`${o.name}: ${bad}`);
  }

  get copyMode(): CopyMode {
    return this.mode;
  }

  /** Switches how copies travel (the sysfs copy_offload attribute); returns a message when refused. */
  setCopyMode(mode: string): string | null {
    if (mode !== 'xcopy' && mode !== 'token' && mode !== 'none') return `copy mode must be xcopy, token or none`;
    if ((mode === 'xcopy' && !this.caps.xcopy) || (mode === 'token' && !this.caps.token)) return `the LU does not offer ${mode}`;
    this.mode = mode;
    this.applyCopyMode();
    return null;
  }

  private applyCopyMode(): void {
    const l = this.limits;
    const lbs = l.logical_block_size;
    let bytes = 0;
    let segs = 1;
    if (this.mode === 'xcopy') {
      // One segment descriptor per source: a source may be as long as one segment carries.
      bytes = Math.min(BLK_COPY_MAX_BYTES, SEGMENT_MAX_BLOCKS * lbs, this.caps.maxSegmentBytes);
      segs = Math.max(1, Math.min(this.caps.maxSegmentDescriptors, this.caps.maxCscdDescriptors - 1));
    } else if (this.mode === 'token') {
      bytes = Math.min(BLK_COPY_MAX_BYTES, this.caps.maxTokenBytes);
      segs = Math.max(1, this.caps.maxRangeDescriptors);
    }
    bytes -= bytes % lbs;
    l.max_copy_hw_sectors = bytes / SECTOR_SIZE;
    l.max_copy_src_segments = segs;
    updateCopyLimit(l);
  }

  /** Sends one CDB to the LU (the SCSI midlayer's scsi_execute_cmd), completing at once. */
  cmd(cdb: Uint8Array, dataOut?: Uint8Array, allocLen = 0): ScsiResult {
    this.count(cdb);
    return this.array.execute(this.initiator, this.lun, cdb, dataOut, allocLen);
  }

  /** Sends one CDB and waits for its answer (at its modeled time on a timed array). */
  cmdAsync(cdb: Uint8Array, dataOut?: Uint8Array, allocLen = 0): Promise<ScsiResult> {
    this.count(cdb);
    return this.array.executeAsync(this.initiator, this.lun, cdb, dataOut, allocLen);
  }

  private count(cdb: Uint8Array): void {
    const key = `0x${cdb[0]!.toString(16).padStart(2, '0')}`;
    this.commands[key] = (this.commands[key] ?? 0) + 1;
  }

  /** A command of a bio's program, to this disk's LU. */
  private req(cdb: Uint8Array, dataOut?: Uint8Array, allocLen = 0): CmdReq {
    return { sd: this, cdb, ...(dataOut ? { dataOut } : {}), allocLen };
  }

  /** The SNIA paper's section 2.6 discovery, plus the block limits sd reads (sd_read_block_limits). */
  private discover(lbpme: boolean, lbs: number): SdCapabilities {
    const inq = this.cmd(b.inquiryCdb(null), undefined, 96);
    const threePc = inq.status === Status.GOOD && (inq.dataIn[5]! & 0x08) !== 0;
    const supported = (op: number, sa: number): boolean => {
      const r = this.cmd(b.rsocCdb(op, sa), undefined, 64);
      return r.status === Status.GOOD && (r.dataIn[1]! & 0x07) === 0x03;
    };
    let xcopy = false;
    let token = false;
    let maxSeg = 0;
    let maxCscd = 0;
    let maxSegBytes = 0;
    let maxRanges = 0;
    let maxTokenBytes = 0;
    if (threePc) {
      xcopy = supported(Op.THIRD_PARTY_COPY_OUT, TpcOutSa.EXTENDED_COPY_LID1);
      if (xcopy) {
        const op = this.cmd(b.tpcInCdb(TpcInSa.RECEIVE_COPY_OPERATING_PARAMETERS), undefined, 256);
        if (op.status === Status.GOOD) {
          maxCscd = be16(op.dataIn, 8);
          maxSeg = be16(op.dataIn, 10);
          maxSegBytes = be32(op.dataIn, 16);
        }
        xcopy = maxSeg > 0 && maxCscd > 1;
      }
      token = supported(Op.THIRD_PARTY_COPY_OUT, TpcOutSa.POPULATE_TOKEN) && supported(Op.THIRD_PARTY_COPY_OUT, TpcOutSa.WRITE_USING_TOKEN);
      if (token) {
        const v = this.cmd(b.inquiryCdb(Vpd.THIRD_PARTY_COPY, 4096), undefined, 4096);
        // Walk the descriptors for the Block Device ROD Token Limits (SBC-3 6.5.5.2).
        for (let o = 4; v.status === Status.GOOD && o + 4 <= v.dataIn.length; o += 4 + be16(v.dataIn, o + 2)) {
          if (be16(v.dataIn, o) === 0x0000) {
            maxRanges = be16(v.dataIn, o + 10);
            maxTokenBytes = be64(v.dataIn, o + 20) * lbs;
          }
        }
        token = maxRanges > 0 && maxTokenBytes > 0;
      }
    }
    const bl = this.cmd(b.inquiryCdb(Vpd.BLOCK_LIMITS), undefined, 64);
    const ok = bl.status === Status.GOOD;
    return {
      threePc, xcopy, token,
      maxSegmentDescriptors: maxSeg,
      maxCscdDescriptors: maxCscd,
      maxSegmentBytes: maxSegBytes,
      maxRangeDescriptors: maxRanges,
      maxTokenBytes,
      lbpme,
      maxTransferBlocks: ok ? be32(bl.dataIn, 8) : 0xffff,
      maxUnmapBlocks: ok ? be32(bl.dataIn, 20) : 0,
      maxWriteSameBlocks: ok ? Number(new DataView(bl.dataIn.buffer, bl.dataIn.byteOffset).getBigUint64(36)) : 0,
    };
  }

  copyOffloadRefusal(src: BlockDevice): string | null {
    if (!(src instanceof SdDevice)) return `${this.name} copies only from SCSI disks, not ${src.name}`;
    if (this.mode === 'none') return `${this.name} has copy offload off (copy mode none)`;
    if (this.mode === 'token' && src.array !== this.array) return `ROD tokens of ${src.array.name} are unknown to ${this.array.name}'s copy manager`;
    if (this.mode === 'xcopy' && !this.array.reaches(src.array.name)) return `${this.array.name}'s copy manager does not reach ${src.array.name}`;
    return null;
  }

  queueBio(bio: Bio): void {
    const g = this.execute(bio);
    if (this.timing) {
      void runProgramAsync(g).then((res) => bio.endIo(res));
      return;
    }
    let r = g.next();
    while (!r.done) r = g.next(r.value.sd.cmd(r.value.cdb, r.value.dataOut, r.value.allocLen));
    bio.endIo(r.value);
  }

  private *execute(bio: Bio): CmdProgram {
    const lbs = this.limits.logical_block_size;
    const lba = bio.offset / lbs;
    const blocks = bio.length / lbs;
    switch (bio.op) {
      case ReqOp.READ: {
        const r = (yield this.req(b.rw16Cdb(false, lba, blocks), undefined, bio.length));
        if (r.status !== Status.GOOD) return errnoOf(r);
        bio.data!.set(r.dataIn);
        return bio.length;
      }
      case ReqOp.WRITE: {
        const r = (yield this.req(b.rw16Cdb(true, lba, blocks), bio.data));
        return r.status === Status.GOOD ? bio.length : errnoOf(r);
      }
      case ReqOp.FLUSH:
        return errnoOf((yield this.req(b.syncCache10Cdb())));
      case ReqOp.DISCARD: {
        const u = b.unmap([{ lba, blocks }]);
        return errnoOf((yield this.req(u.cdb, u.data)));
      }
      case ReqOp.WRITE_ZEROES:
        return errnoOf((yield this.req(b.writeSame16Cdb(lba, blocks, true), new Uint8Array(lbs))));
      case ReqOp.COPY:
        return this.mode === 'token' ? yield* this.copyWithTokens(bio) : this.mode === 'xcopy' ? yield* this.copyWithXcopy(bio) : -Errno.ENOTSUP;
      default:
        return -Errno.ENOTSUP;
    }
  }

  /** One EXTENDED COPY(LID1): CSCD 0 is this LU, one CSCD per distinct source LU, one segment per source. */
  private *copyWithXcopy(bio: Bio): CmdProgram {
    const sources = bio.sources ?? [];
    const lus: SdDevice[] = [this];
    const cscds = [b.e4Descriptor(this.array.lus[this.lun]!.naa, this.limits.logical_block_size)];
    const segments: Uint8Array[] = [];
    let dst = bio.offset;
    for (const s of sources) {
      const sd = s.dev;
      // The submit path refuses foreign sources (-EXDEV); a driver never trusts that blindly.
      if (!(sd instanceof SdDevice)) return -Errno.EXDEV;
      let idx = lus.indexOf(sd);
      if (idx < 0) {
        idx = lus.push(sd) - 1;
        cscds.push(b.e4Descriptor(sd.array.lus[sd.lun]!.naa, sd.limits.logical_block_size));
      }
      const slbs = sd.limits.logical_block_size;
      segments.push(b.b2bSegment({ src: idx, dst: 0, blocks: s.length / slbs, srcLba: s.offset / slbs, dstLba: dst / this.limits.logical_block_size }));
      dst += s.length;
    }
    const list = b.xcopyLid1({ usage: ListIdUsage.NONE, cscds, segments });
    const r = (yield this.req(b.tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID1, list.length), list));
    return r.status === Status.GOOD ? bio.length : errnoOf(r);
  }

  /** POPULATE TOKEN on the source LU, RECEIVE ROD TOKEN INFORMATION, WRITE USING TOKEN here (DEL_TKN). */
  private *copyWithTokens(bio: Bio): CmdProgram {
    const sources = bio.sources ?? [];
    const lbs = this.limits.logical_block_size;
    let dst = bio.offset;
    for (let i = 0; i < sources.length; ) {
      const sd = sources[i]!.dev;
      if (!(sd instanceof SdDevice)) return -Errno.EXDEV;
      const group = [];
      let bytes = 0;
      while (i < sources.length && sources[i]!.dev === sd && group.length < this.caps.maxRangeDescriptors) {
        group.push(sources[i]!);
        bytes += sources[i]!.length;
        i++;
      }
      const slbs = sd.limits.logical_block_size;
      const listId = this.listId++;
      const pt = b.populateTokenList(group.map((s) => ({ lba: s.offset / slbs, blocks: s.length / slbs })));
      const r1 = (yield sd.req(b.tpcOutCdb(TpcOutSa.POPULATE_TOKEN, pt.length, listId), pt));
      if (r1.status !== Status.GOOD) return errnoOf(r1);
      const info = (yield sd.req(b.tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, listId), undefined, 1024));
      const token = info.status === Status.GOOD ? b.tokenFromRrti(info.dataIn) : null;
      if (!token) return info.status === Status.GOOD ? -Errno.EIO : errnoOf(info);
      const wut = b.writeUsingTokenList(token, [{ lba: dst / lbs, blocks: bytes / lbs }], { delTkn: true });
      const r2 = (yield this.req(b.tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, wut.length, listId), wut));
      if (r2.status !== Status.GOOD) return errnoOf(r2);
      dst += bytes;
    }
    return bio.length;
  }
}

/** Runs a bio's program through executeAsync: each command answers at its modeled time. */
async function runProgramAsync(g: CmdProgram): Promise<number> {
  let r = g.next();
  while (!r.done) r = g.next(await r.value.sd.cmdAsync(r.value.cdb, r.value.dataOut, r.value.allocLen));
  return r.value;
}
