/**
 * SBC-3 block commands: READ/WRITE (6/10/12/16), VERIFY, WRITE SAME, UNMAP, COMPARE AND WRITE,
 * SYNCHRONIZE CACHE, READ CAPACITY (10)/(16) and GET LBA STATUS. Each parses its CDB into
 * {lba, blocks, flags}, checks it, then touches the media.
 */
import { ASC, Op, SenseKey } from './constants.js';
import { be16, be32, be64, putBe16, putBe32, putBe64 } from '../../src/core/util/bytes.js';
import { ScsiCheck, illegal, invalidFieldInCdb, invalidFieldInParam, lbaOutOfRange, paramListLengthError } from './sense.js';
import { luOf, type CmdContext } from './context.js';
import type { LogicalUnit } from './lu.js';
import { mediaRead, mediaWrite, mediaZero, type MediaRun } from './media.js';
import { CAW_NUMBER_OF_BLOCKS } from './transfer-length.js';

/** Block limits the LUs report in VPD B0h and enforce (SBC-3 6.5.3). */
export const BLOCK_LIMITS = {
  /**
   * MAXIMUM TRANSFER LENGTH, bytes (reported in blocks). 32 MiB: 65536 blocks of 512 bytes, the
   * write and read libiscsi's WriteSame16.Unmap issues when MAXIMUM WRITE SAME LENGTH allows it.
   */
  maxTransferBytes: 32 * 1024 * 1024,
  optimalTransferBytes: 1024 * 1024,
  maxCompareAndWriteBlocks: 64,
  /**
   * MAXIMUM UNMAP LBA COUNT and BLOCK DESCRIPTOR COUNT. 1 Mi blocks: libiscsi's
   * Inquiry.BlockLimits holds a larger count to be unreasonable.
   */
  maxUnmapBlocks: 0x100000,
  maxUnmapDescriptors: 256,
  maxWriteSameBlocks: 0x400000,
  /** GET LBA STATUS: descriptors per response. */
  maxLbaStatusDescriptors: 1024,
} as const;

interface Rw {
  readonly lba: number;
  readonly blocks: number;
}

/** Parses the LBA and transfer length of a READ/WRITE/VERIFY CDB (SBC-3 5.x tables). */
export function parseRw(cdb: Uint8Array): Rw {
  switch (cdb[0]) {
    case Op.READ_6:
    case Op.WRITE_6: {
      const lba = ((cdb[1]! & 0x1f) << 16) | (cdb[2]! << 8) | cdb[3]!;
      return { lba, blocks: cdb[4] === 0 ? 256 : cdb[4]! }; // SBC-3 5.13: 0 means 256 blocks
    }
    case Op.READ_10:
    case Op.WRITE_10:
    case Op.VERIFY_10:
    case Op.WRITE_AND_VERIFY_10:
    case Op.PRE_FETCH_10:
      return { lba: be32(cdb, 2), blocks: be16(cdb, 7) };
    case Op.READ_12:
    case Op.WRITE_12:
    case Op.VERIFY_12:
    case Op.WRITE_AND_VERIFY_12:
      return { lba: be32(cdb, 2), blocks: be32(cdb, 6) };
    default:
      return { lba: be64(cdb, 2), blocks: be32(cdb, 10) };
  }
}

function checkRange(lu: LogicalUnit, lba: number, blocks: number, lengthField: number): void {
  if (blocks * lu.lbs > BLOCK_LIMITS.maxTransferBytes) throw invalidFieldInCdb(lengthField);
  if (!lu.inRange(lba, blocks)) throw lbaOutOfRange();
}

const TEN_BYTE: ReadonlySet<number> = new Set([Op.READ_10, Op.WRITE_10, Op.VERIFY_10, Op.WRITE_AND_VERIFY_10, Op.PRE_FETCH_10]);
const TWELVE_BYTE: ReadonlySet<number> = new Set([Op.READ_12, Op.WRITE_12, Op.VERIFY_12, Op.WRITE_AND_VERIFY_12]);
const lengthFieldOf = (op: number): number => (op === Op.READ_6 || op === Op.WRITE_6 ? 4 : TEN_BYTE.has(op) ? 7 : TWELVE_BYTE.has(op) ? 6 : 10);

export function* read(c: CmdContext): MediaRun<Uint8Array> {
  const lu = luOf(c);
  const { lba, blocks } = parseRw(c.cdb);
  if (c.cdb[0] !== Op.READ_6 && c.cdb[1]! & 0xe0) throw invalidFieldInCdb(1, 5); // RDPROTECT: no protection information
  checkRange(lu, lba, blocks, lengthFieldOf(c.cdb[0]!));
  return yield* mediaRead(lu, lba, blocks);
}

export function* write(c: CmdContext): MediaRun<void> {
  const lu = luOf(c);
  const { lba, blocks } = parseRw(c.cdb);
  if (c.cdb[0] !== Op.WRITE_6 && c.cdb[1]! & 0xe0) throw invalidFieldInCdb(1, 5); // WRPROTECT
  checkRange(lu, lba, blocks, lengthFieldOf(c.cdb[0]!));
  const bytes = blocks * lu.lbs;
  if (c.dataOut.length < bytes) throw new ScsiCheck(SenseKey.ABORTED_COMMAND, ASC.DATA_PHASE_ERROR);
  if (blocks === 0) return;
  if ((yield* mediaWrite(lu, lba, c.dataOut.subarray(0, bytes))) < 0) throw new ScsiCheck(SenseKey.MEDIUM_ERROR, ASC.INSUFFICIENT_RESOURCES);
}

/**
 * WRITE AND VERIFY (10/12/16) (SBC-3 5.40-5.42): the write, then a verify of the medium against
 * the Data-Out (BYTCHK 1) or of the medium alone (BYTCHK 0); the store does not fail reads, so
 * the verify passes once the write did.
 */
export function* writeAndVerify(c: CmdContext): MediaRun<void> {
  if (c.cdb[1]! & 0xe0) throw invalidFieldInCdb(1, 5); // WRPROTECT: no protection information
  yield* write(c);
  const lu = luOf(c);
  const { lba, blocks } = parseRw(c.cdb);
  if ((c.cdb[1]! & 0x02) && blocks && firstMismatch(yield* mediaRead(lu, lba, blocks), c.dataOut.subarray(0, blocks * lu.lbs)) >= 0) {
    throw new ScsiCheck(SenseKey.MISCOMPARE, ASC.MISCOMPARE_DURING_VERIFY);
  }
}

/**
 * PRE-FETCH (10/16) (SBC-3 5.8-5.9): the blocks are in memory already, so the range is checked
 * and the command completes GOOD (CONDITION MET would promise cache space that is not modelled).
 */
export function preFetch(c: CmdContext): void {
  const lu = luOf(c);
  const { lba, blocks } = parseRw(c.cdb);
  if (!lu.inRange(lba, blocks)) throw lbaOutOfRange();
}

/** ORWRITE (16) (SBC-3 5.15): each block becomes the medium OR the Data-Out. */
export function* orWrite(c: CmdContext): MediaRun<void> {
  const lu = luOf(c);
  const { lba, blocks } = parseRw(c.cdb);
  if (c.cdb[1]! & 0xe0) throw invalidFieldInCdb(1, 5); // ORPROTECT
  checkRange(lu, lba, blocks, 10);
  const bytes = blocks * lu.lbs;
  if (c.dataOut.length < bytes) throw new ScsiCheck(SenseKey.ABORTED_COMMAND, ASC.DATA_PHASE_ERROR);
  if (blocks === 0) return;
  const media = yield* mediaRead(lu, lba, blocks);
  for (let i = 0; i < bytes; i++) media[i]! |= c.dataOut[i]!;
  if ((yield* mediaWrite(lu, lba, media)) < 0) throw new ScsiCheck(SenseKey.MEDIUM_ERROR, ASC.INSUFFICIENT_RESOURCES);
}

/** VERIFY (10/12/16) (SBC-3 5.25): BYTCHK 00b checks the medium; 01b compares the Data-Out. */
export function* verify(c: CmdContext): MediaRun<void> {
  const lu = luOf(c);
  const { lba, blocks } = parseRw(c.cdb);
  if (c.cdb[1]! & 0xe0) throw invalidFieldInCdb(1, 5);
  const bytchk = (c.cdb[1]! >> 1) & 0x3;
  if (bytchk > 1) throw invalidFieldInCdb(1, 2);
  checkRange(lu, lba, blocks, lengthFieldOf(c.cdb[0]!));
  if (bytchk === 0 || blocks === 0) return;
  const bytes = blocks * lu.lbs;
  if (c.dataOut.length < bytes) throw new ScsiCheck(SenseKey.ABORTED_COMMAND, ASC.DATA_PHASE_ERROR);
  const media = yield* mediaRead(lu, lba, blocks);
  const at = firstMismatch(media, c.dataOut.subarray(0, bytes));
  if (at >= 0) throw new ScsiCheck(SenseKey.MISCOMPARE, ASC.MISCOMPARE_DURING_VERIFY, { information: at });
}

function firstMismatch(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/**
 * WRITE SAME (10)/(16) (SBC-3 5.42, 5.44), with UNMAP: zero data unmaps (LBPRZ reads zeros).
 * A count of 0 reaches the end of the medium, bounded by MAXIMUM WRITE SAME LENGTH like any count.
 */
export function* writeSame(c: CmdContext): MediaRun<void> {
  const lu = luOf(c);
  const ten = c.cdb[0] === Op.WRITE_SAME_10;
  const unmap = (c.cdb[1]! & 0x08) !== 0;
  const ndob = !ten && (c.cdb[1]! & 0x01) !== 0;
  if (c.cdb[1]! & 0xe0) throw invalidFieldInCdb(1, 5);
  if (c.cdb[1]! & 0x10) throw invalidFieldInCdb(1, 4); // ANCHOR: not supported
  const lba = ten ? be32(c.cdb, 2) : be64(c.cdb, 2);
  const count = ten ? be16(c.cdb, 7) : be32(c.cdb, 10);
  const lenField = ten ? 7 : 10;
  // NUMBER OF LOGICAL BLOCKS 0 (WSNZ 0 in VPD B0h): from LBA through the last LBA (SBC-4 5.49, 5.50).
  if (count === 0 && !lu.inRange(lba, 1)) throw lbaOutOfRange();
  const blocks = count === 0 ? lu.blocks - lba : count;
  if (blocks > BLOCK_LIMITS.maxWriteSameBlocks) throw invalidFieldInCdb(lenField);
  if (!lu.inRange(lba, blocks)) throw lbaOutOfRange();
  let block: Uint8Array;
  if (ndob) block = new Uint8Array(lu.lbs);
  else {
    if (c.dataOut.length < lu.lbs) throw new ScsiCheck(SenseKey.ABORTED_COMMAND, ASC.DATA_PHASE_ERROR);
    block = c.dataOut.subarray(0, lu.lbs);
  }
  if (block.every((b) => b === 0)) {
    if ((yield* mediaZero(lu, lba, blocks)) < 0) throw new ScsiCheck(SenseKey.MEDIUM_ERROR, ASC.INSUFFICIENT_RESOURCES, { information: lba });
    return;
  }
  void unmap; // non-zero data is written whether or not UNMAP is set (SBC-3 4.7.3.4.4 lets the LU choose)
  const chunkBlocks = Math.max(1, Math.floor(BLOCK_LIMITS.optimalTransferBytes / lu.lbs));
  const buf = new Uint8Array(Math.min(blocks, chunkBlocks) * lu.lbs);
  for (let o = 0; o < buf.length; o += lu.lbs) buf.set(block, o);
  for (let done = 0; done < blocks; ) {
    const n = Math.min(chunkBlocks, blocks - done);
    if ((yield* mediaWrite(lu, lba + done, buf.subarray(0, n * lu.lbs))) < 0) throw new ScsiCheck(SenseKey.MEDIUM_ERROR, ASC.INSUFFICIENT_RESOURCES, { information: lba + done });
    done += n;
  }
}

/** UNMAP (SBC-3 5.28): parse every block descriptor first, then unmap; nothing happens on an error. */
export function* unmap(c: CmdContext): MediaRun<void> {
  const lu = luOf(c);
  if (c.cdb[1]! & 0x01) throw invalidFieldInCdb(1, 0); // ANCHOR
  const len = be16(c.cdb, 7);
  if (len === 0) return;
  if (len < 8 || c.dataOut.length < len) throw paramListLengthError();
  const p = c.dataOut.subarray(0, len);
  const dataLen = be16(p, 0);
  const descLen = be16(p, 2);
  if (dataLen + 2 > len || descLen + 8 > len) throw paramListLengthError();
  const count = Math.floor(descLen / 16);
  if (count > BLOCK_LIMITS.maxUnmapDescriptors) throw invalidFieldInParam(2);
  const ranges: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const o = 8 + 16 * i;
    const lba = be64(p, o);
    const n = be32(p, o + 8);
    if (n > BLOCK_LIMITS.maxUnmapBlocks) throw invalidFieldInParam(o + 8);
    if (!lu.inRange(lba, n)) throw lbaOutOfRange();
    ranges.push([lba, n]);
  }
  for (const [lba, n] of ranges) {
    if (n > 0 && (yield* mediaZero(lu, lba, n)) < 0) throw new ScsiCheck(SenseKey.MEDIUM_ERROR, ASC.INSUFFICIENT_RESOURCES, { information: lba });
  }
}

/** COMPARE AND WRITE (SBC-3 5.2): compare the first half of Data-Out, write the second when equal. */
export function* compareAndWrite(c: CmdContext): MediaRun<void> {
  const lu = luOf(c);
  if (c.cdb[1]! & 0xe0) throw invalidFieldInCdb(1, 5);
  const lba = be64(c.cdb, 2);
  const blocks = c.cdb[CAW_NUMBER_OF_BLOCKS]!;
  if (blocks > BLOCK_LIMITS.maxCompareAndWriteBlocks) throw invalidFieldInCdb(CAW_NUMBER_OF_BLOCKS);
  if (!lu.inRange(lba, blocks)) throw lbaOutOfRange();
  if (blocks === 0) return;
  const bytes = blocks * lu.lbs;
  if (c.dataOut.length < 2 * bytes) throw new ScsiCheck(SenseKey.ABORTED_COMMAND, ASC.DATA_PHASE_ERROR);
  const at = firstMismatch(yield* mediaRead(lu, lba, blocks), c.dataOut.subarray(0, bytes));
  if (at >= 0) throw new ScsiCheck(SenseKey.MISCOMPARE, ASC.MISCOMPARE_DURING_VERIFY, { information: at });
  if ((yield* mediaWrite(lu, lba, c.dataOut.subarray(bytes, 2 * bytes))) < 0) throw new ScsiCheck(SenseKey.MEDIUM_ERROR, ASC.INSUFFICIENT_RESOURCES);
}

/** SYNCHRONIZE CACHE (10)/(16) (SBC-3 5.22, 5.23): the range is checked; media is always stable. */
export function synchronizeCache(c: CmdContext): void {
  const lu = luOf(c);
  const ten = c.cdb[0] === Op.SYNCHRONIZE_CACHE_10;
  const lba = ten ? be32(c.cdb, 2) : be64(c.cdb, 2);
  const blocks = ten ? be16(c.cdb, 7) : be32(c.cdb, 10);
  if (!lu.inRange(lba, blocks === 0 ? 0 : blocks)) throw lbaOutOfRange();
}

/** READ CAPACITY (10) (SBC-3 5.15). */
export function readCapacity10(c: CmdContext): Uint8Array {
  const lu = luOf(c);
  if (!(c.cdb[8]! & 0x01) && be32(c.cdb, 2) !== 0) throw invalidFieldInCdb(2); // LBA must be 0 without PMI
  const d = new Uint8Array(8);
  putBe32(d, 0, Math.min(lu.blocks - 1, 0xffffffff));
  putBe32(d, 4, lu.lbs);
  return d;
}

/** READ CAPACITY (16) (SBC-3 5.16): LBPME and LBPRZ set (thin provisioning with UNMAP). */
export function readCapacity16(c: CmdContext): Uint8Array {
  const lu = luOf(c);
  const alloc = be32(c.cdb, 10);
  const d = new Uint8Array(32);
  putBe64(d, 0, lu.blocks - 1);
  putBe32(d, 8, lu.lbs);
  putBe16(d, 14, 0x8000 | 0x4000); // LBPME | LBPRZ, LOWEST ALIGNED LBA 0
  return d.subarray(0, Math.min(d.length, alloc));
}

/** GET LBA STATUS (SBC-3 5.6): mapped/deallocated extents from the sparse store. */
export function getLbaStatus(c: CmdContext): Uint8Array {
  const lu = luOf(c);
  const start = be64(c.cdb, 2);
  const alloc = be32(c.cdb, 10);
  if (!lu.inRange(start, 1)) throw lbaOutOfRange();
  const descs: [number, number, number][] = [];
  const maxDescs = Math.min(BLOCK_LIMITS.maxLbaStatusDescriptors, Math.max(1, Math.floor((alloc - 8) / 16)));
  const window = Math.min(lu.blocks - start, Math.floor(BLOCK_LIMITS.maxUnmapBlocks));
  // A block device medium does not tell its allocation: its blocks are reported mapped.
  const extents = lu.backing ? lu.backing.extents.bind(lu.backing) : (off: number, len: number, fn: (view: Uint8Array | null, at: number, len: number) => void) => fn(new Uint8Array(0), off, len);
  extents(start * lu.lbs, window * lu.lbs, (view, at, len) => {
    const status = view ? 0 : 1; // 0 mapped, 1 deallocated
    const lba = Math.floor(at / lu.lbs);
    const n = Math.ceil(len / lu.lbs);
    const last = descs[descs.length - 1];
    if (last && last[2] === status && last[0] + last[1] === lba) last[1] += n;
    else if (descs.length < maxDescs) descs.push([lba, n, status]);
  });
  const d = new Uint8Array(8 + 16 * descs.length);
  putBe32(d, 0, d.length - 4);
  descs.forEach(([lba, n, st], i) => {
    putBe64(d, 8 + 16 * i, lba);
    putBe32(d, 16 + 16 * i, n);
    d[20 + 16 * i] = st;
  });
  return d.subarray(0, Math.min(d.length, alloc));
}

export { illegal };
