/**
 * Trace records in blktrace's binary format, so blkparse(1) and btt(1) read them: one file per
 * device and CPU, `DEV.blktrace.CPU`, each a stream of struct blk_io_trace (48 bytes, written
 * little-endian; blkparse reads either order from the magic) with its payload after it.
 * Constants and layout from blktrace's blktrace_api.h (BLK_IO_TRACE_VERSION 0x07); which
 * category an operation gets follows the kernel's __blk_add_trace (kernel/trace/blktrace.c).
 *
 * copylab's actions map onto blktrace's:
 *   Q queued         → __BLK_TA_QUEUE   (BLK_TA_QUEUE)
 *   X split          → __BLK_TA_SPLIT   payload: the sector where the next piece starts (be64)
 *   A remapped       → __BLK_TA_REMAP   payload: struct blk_io_trace_remap (from, to, sector)
 *   D issued         → __BLK_TA_ISSUE   (BLK_TA_ISSUE)
 *   C completed      → __BLK_TA_COMPLETE, error = -res when the request failed
 *   E emulated       → a BLK_TN_MESSAGE notify (blkparse prints it as an `m` line with the reason)
 * There are no G (__BLK_TA_GETRQ) or I (__BLK_TA_INSERT) events: copylab's block layer allocates
 * no request and has no scheduler queue, a bio goes from its queueing to the device (D), so btt's
 * Q2G, G2I and I2D are 0 and its Q2D is all of the time before the issue.
 * Operations: reads carry BLK_TC_READ, writes and write-zeroes BLK_TC_WRITE, discards
 * BLK_TC_WRITE|BLK_TC_DISCARD, flushes BLK_TC_FLUSH (blkparse's RWBS R, W, D, FN). A copy moves
 * data into its destination, so a copy (CP) and its destination half (CPD) are writes and its
 * source half (CPS) a read, as op_is_write classifies the kernel's copy operations; blkparse
 * shows them as W and R. Every event is on CPU 0 (the block layer runs on one thread) and comes
 * from pid 0, which a BLK_TN_PROCESS notify at the start of each file names `copylab`.
 *
 * Device numbers (dev_t as blktrace stores it, MAJOR << 20 | MINOR): dm-N is 253:N (the
 * device-mapper major copylab's dmsetup prints), sda … sdp are 8:0 … 8:240 (SCSI_DISK0_MAJOR of
 * the kernel's major.h), every other device 259 (BLOCK_EXT_MAJOR) with minors in order of first
 * appearance. The converter prints the numbers it gave.
 */
import { OutputStream, type OutputError } from '../util/output-file.js';
import { ReqOp } from '../block/ops.js';
import type { TraceRecord } from './record.js';

/** blktrace_api.h: trace categories (the action's upper 16 bits). */
export const BLK_TC_READ = 1 << 0;
export const BLK_TC_WRITE = 1 << 1;
export const BLK_TC_FLUSH = 1 << 2;
export const BLK_TC_QUEUE = 1 << 4;
export const BLK_TC_ISSUE = 1 << 6;
export const BLK_TC_COMPLETE = 1 << 7;
export const BLK_TC_NOTIFY = 1 << 10;
export const BLK_TC_DISCARD = 1 << 13;
/** blktrace_api.h BLK_TC_SHIFT: categories sit above the action number. */
export const BLK_TC_SHIFT = 16;
const act = (tc: number): number => (tc << BLK_TC_SHIFT) >>> 0;

/** blktrace_api.h: basic trace actions. */
export const __BLK_TA_QUEUE = 1;
export const __BLK_TA_ISSUE = 7;
export const __BLK_TA_COMPLETE = 8;
export const __BLK_TA_SPLIT = 13;
export const __BLK_TA_REMAP = 15;
/** blktrace_api.h: notify events. */
export const __BLK_TN_PROCESS = 0;
export const __BLK_TN_MESSAGE = 2;

/** blktrace_api.h: full actions. */
export const BLK_TA_QUEUE = (__BLK_TA_QUEUE | act(BLK_TC_QUEUE)) >>> 0;
export const BLK_TA_ISSUE = (__BLK_TA_ISSUE | act(BLK_TC_ISSUE)) >>> 0;
export const BLK_TA_COMPLETE = (__BLK_TA_COMPLETE | act(BLK_TC_COMPLETE)) >>> 0;
export const BLK_TA_SPLIT = __BLK_TA_SPLIT;
export const BLK_TA_REMAP = (__BLK_TA_REMAP | act(BLK_TC_QUEUE)) >>> 0;
export const BLK_TN_PROCESS = (__BLK_TN_PROCESS | act(BLK_TC_NOTIFY)) >>> 0;
export const BLK_TN_MESSAGE = (__BLK_TN_MESSAGE | act(BLK_TC_NOTIFY)) >>> 0;

/** blktrace_api.h: BLK_IO_TRACE_MAGIC, and the version blkparse 1.3 reads (SUPPORTED_VERSION). */
export const BLK_IO_TRACE_MAGIC = 0x65617400;
export const BLK_IO_TRACE_VERSION = 0x07;
/** sizeof(struct blk_io_trace): magic, sequence, time, sector, bytes, action, pid, device, cpu, error, pdu_len. */
export const BLK_IO_TRACE_SIZE = 48;
/** sizeof(struct blk_io_trace_remap): device_from, device_to, sector_from. */
export const BLK_IO_TRACE_REMAP_SIZE = 16;
/** The kernel's BLK_TN_MAX_MSG (include/linux/blktrace_api.h): longest message payload. */
export const BLK_TN_MAX_MSG = 128;
/** TASK_COMM_LEN: the process name payload of BLK_TN_PROCESS. */
export const TASK_COMM_LEN = 16;
/** blktrace.h MINORBITS: dev_t as blktrace stores it. */
export const MINORBITS = 20;
/** The kernel's major.h SCSI_DISK0_MAJOR and BLOCK_EXT_MAJOR; copylab's device-mapper major. */
export const SCSI_DISK0_MAJOR = 8;
export const BLOCK_EXT_MAJOR = 259;
export const DM_MAJOR = 253;
/** The sector size blktrace counts in. */
const SECTOR = 512;

/** The pid every event carries and the name a BLK_TN_PROCESS gives it. */
export const BLKTRACE_PID = 0;
export const BLKTRACE_COMM = 'copylab';
/** The CPU every event is on (one file per device). */
export const BLKTRACE_CPU = 0;
/** Devices one conversion writes files for (a bound on open files). */
export const BLKTRACE_MAX_DEVICES = 256;
/** Bytes a device's file buffers before writing. */
export const BLKTRACE_BATCH_BYTES = 64 * 1024;

export class BlktraceError extends Error {}

/** The category bits of an operation (__blk_add_trace: op_is_write, discard, flush). */
export function opCategory(op: ReqOp): number {
  switch (op) {
    case ReqOp.READ:
    case ReqOp.COPY_SRC:
      return BLK_TC_READ;
    case ReqOp.FLUSH:
      return BLK_TC_READ | BLK_TC_FLUSH;
    case ReqOp.DISCARD:
      return BLK_TC_WRITE | BLK_TC_DISCARD;
    default:
      return BLK_TC_WRITE;
  }
}

/** Device numbers for device names (see the module comment). */
export class DeviceNumbers {
  private readonly numbers = new Map<string, number>();
  private nextExt = 0;

  of(name: string): number {
    let n = this.numbers.get(name);
    if (n !== undefined) return n;
    const dm = /^dm-(\d+)$/.exec(name);
    const sd = /^sd([a-p])$/.exec(name);
    if (dm && Number(dm[1]) < 1 << MINORBITS) n = devt(DM_MAJOR, Number(dm[1]));
    else if (sd) n = devt(SCSI_DISK0_MAJOR, 16 * (sd[1]!.charCodeAt(0) - 97));
    else n = devt(BLOCK_EXT_MAJOR, this.nextExt++);
    this.numbers.set(name, n);
    return n;
  }

  /** name → "MAJOR,MINOR" as blkparse prints it. */
  list(): [string, string][] {
    return [...this.numbers].map(([k, v]) => [k, `${v >>> MINORBITS},${v & ((1 << MINORBITS) - 1)}`]);
  }
}

function devt(major: number, minor: number): number {
  return ((major << MINORBITS) | minor) >>> 0;
}

/** One struct blk_io_trace (and its payload) in little-endian byte order. */
export function encodeEvent(e: { sequence: number; time: bigint; sector: bigint; bytes: number; action: number; pid: number; device: number; cpu: number; error: number }, pdu: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(BLK_IO_TRACE_SIZE + pdu.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, (BLK_IO_TRACE_MAGIC | BLK_IO_TRACE_VERSION) >>> 0, true);
  v.setUint32(4, e.sequence >>> 0, true);
  v.setBigUint64(8, e.time, true);
  v.setBigUint64(16, e.sector, true);
  v.setUint32(24, e.bytes >>> 0, true);
  v.setUint32(28, e.action >>> 0, true);
  v.setUint32(32, e.pid >>> 0, true);
  v.setUint32(36, e.device >>> 0, true);
  v.setUint32(40, e.cpu >>> 0, true);
  v.setUint16(44, e.error & 0xffff, true);
  v.setUint16(46, pdu.length, true);
  b.set(pdu, BLK_IO_TRACE_SIZE);
  return b;
}

/** Text cut to `max` bytes of UTF-8 without splitting a character. */
function utf8Prefix(text: string, max: number): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

interface DeviceFile {
  readonly out: OutputStream;
  readonly device: number;
  sequence: number;
  parts: Uint8Array[];
  bytes: number;
}

/** Counts per blktrace action letter (Q X A D C and m for messages), per device name. */
export type BlktraceCounts = Map<string, Map<string, number>>;

/**
 * Writes trace records as blktrace files in `dir`, one per device. `time` picks the clock
 * (wall or modeled ns); times are made relative to the first record so they start near 0.
 */
export class BlktraceWriter {
  readonly numbers = new DeviceNumbers();
  private readonly files = new Map<string, DeviceFile>();
  private t0: number | null = null;
  readonly counts: BlktraceCounts = new Map();
  events = 0;

  constructor(readonly dir: string, private readonly time: (r: TraceRecord) => number) {}

  /** The file of a device (opened, with its process notify, at its first event). */
  private file(name: string): DeviceFile {
    let f = this.files.get(name);
    if (f) return f;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new BlktraceError(`device name ${JSON.stringify(name.slice(0, 64))} cannot name a file`);
    if (this.files.size >= BLKTRACE_MAX_DEVICES) throw new BlktraceError(`more than ${BLKTRACE_MAX_DEVICES} devices`);
    const device = this.numbers.of(name);
    const comm = new Uint8Array(TASK_COMM_LEN);
    comm.set(utf8Prefix(BLKTRACE_COMM, TASK_COMM_LEN - 1));
    const head = encodeEvent({ sequence: 0, time: 0n, sector: 0n, bytes: 0, action: BLK_TN_PROCESS, pid: BLKTRACE_PID, device, cpu: BLKTRACE_CPU, error: 0 }, comm);
    f = { out: OutputStream.open(`${this.dir}/${name}.blktrace.${BLKTRACE_CPU}`, head), device, sequence: 0, parts: [], bytes: 0 };
    this.files.set(name, f);
    return f;
  }

  add(r: TraceRecord): void {
    const f = this.file(r.dev);
    const t = this.time(r);
    if (!Number.isFinite(t)) throw new BlktraceError('a record without a time on the chosen clock');
    this.t0 ??= t;
    const time = BigInt(Math.max(0, Math.round(t - this.t0)));
    const sector = BigInt(Math.max(0, Math.floor(r.sector)));
    const bytes = Math.min(0xffffffff, Math.max(0, r.sectors) * SECTOR);
    const cat = act(opCategory(r.op));
    let action: number;
    let pdu: Uint8Array | undefined;
    let letter: string = r.action;
    let error = 0;
    switch (r.action) {
      case 'Q':
        action = BLK_TA_QUEUE | cat;
        break;
      case 'D':
        action = BLK_TA_ISSUE | cat;
        break;
      case 'C':
        action = BLK_TA_COMPLETE | cat;
        if (r.res !== undefined && r.res < 0) error = -r.res;
        break;
      case 'X': {
        action = BLK_TA_SPLIT | cat;
        pdu = new Uint8Array(8);
        new DataView(pdu.buffer).setBigUint64(0, sector + BigInt(Math.max(0, r.sectors)), false);
        break;
      }
      case 'A': {
        action = BLK_TA_REMAP | cat;
        pdu = new Uint8Array(BLK_IO_TRACE_REMAP_SIZE);
        const v = new DataView(pdu.buffer);
        v.setUint32(0, this.numbers.of(r.from ?? r.dev), false);
        v.setUint32(4, f.device, false);
        v.setBigUint64(8, BigInt(Math.max(0, Math.floor(r.fromSector ?? r.sector))), false);
        break;
      }
      default: {
        // E and anything else copylab records that blktrace has no action for: a message.
        action = BLK_TN_MESSAGE;
        letter = 'm';
        pdu = utf8Prefix(`${r.action} ${r.sector} + ${r.sectors}${r.info ? ` ${r.info}` : ''}`, BLK_TN_MAX_MSG);
      }
    }
    // Messages take no sequence number of their own (blkparse checks the sequence of the others only).
    if (action !== BLK_TN_MESSAGE) f.sequence++;
    this.push(f, encodeEvent({ sequence: f.sequence, time, sector, bytes, action: action >>> 0, pid: BLKTRACE_PID, device: f.device, cpu: BLKTRACE_CPU, error }, pdu));
    let c = this.counts.get(r.dev);
    if (!c) this.counts.set(r.dev, (c = new Map()));
    c.set(letter, (c.get(letter) ?? 0) + 1);
    this.events++;
  }

  private push(f: DeviceFile, b: Uint8Array): void {
    f.parts.push(b);
    f.bytes += b.length;
    if (f.bytes >= BLKTRACE_BATCH_BYTES) this.flush(f);
  }

  private flush(f: DeviceFile): void {
    if (!f.bytes) return;
    f.out.write(Buffer.concat(f.parts, f.bytes));
    f.parts = [];
    f.bytes = 0;
  }

  /** The first write error, if any. */
  get error(): OutputError | undefined {
    return [...this.files.values()].find((f) => f.out.error)?.out.error;
  }

  /** Device name → its file and number, in order of first appearance. */
  devices(): { name: string; file: string; devno: string }[] {
    const nums = new Map(this.numbers.list());
    return [...this.files.keys()].map((name) => ({ name, file: `${name}.blktrace.${BLKTRACE_CPU}`, devno: nums.get(name)! }));
  }

  close(): void {
    for (const f of this.files.values()) {
      this.flush(f);
      f.out.close();
    }
  }
}
