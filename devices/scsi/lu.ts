/**
 * A logical unit: a direct-access block device (SBC-3) with 512- or 4096-byte blocks on a
 * sparse backing store, its identity (NAA 6 designator, unit serial number) and its persistent
 * reservations. Every change of its media goes through write/zero here, so that ROD tokens that
 * cover the changed blocks learn about it (point-in-time, change vulnerable tokens).
 */
import { createHash } from 'node:crypto';
import type { Backing } from '../backing/backing.js';
import type { BlockDevice } from '../../src/core/block/device.js';
import type { CopyRange, CopyResult } from '../../src/core/block/copy/types.js';
import { SparseBacking } from '../backing/sparse.js';
import { MemoryBacking } from '../backing/memory.js';
import { Desig, type Asc } from './constants.js';
import { PersistentReservations } from './pr.js';
import type { TimingSpec } from '../timing/params.js';
import type { TimingModel } from '../timing/model.js';

export interface LuOptions {
  /** Name of the LU in its array (also the default sd name: sda…). */
  readonly name: string;
  /** Capacity in bytes, a multiple of lbs. */
  readonly size: number;
  readonly lbs?: 512 | 4096;
  readonly backing?: 'memory' | 'sparse';
  /** Unit serial number (VPD 80h); default derived from array and LU names. */
  readonly serial?: string;
  /**
   * A block device of the lab as the medium instead of a store (size and lbs are then the
   * device's). Commands on such an LU complete asynchronously (ScsiArray.executeAsync).
   */
  readonly block?: BlockMedium;
  /**
   * A timing model of this LU's own (docs/timing.md: a preset or `{ preset, …overrides }`),
   * instead of sharing its array's. Store media only: a block device medium has its own.
   */
  readonly timing?: TimingSpec;
}

/**
 * A block device as an LU's medium: the device, and the copy engine with the lab's settings
 * (Lab.copyRanges) for moves between two such LUs.
 */
export interface BlockMedium {
  readonly dev: BlockDevice;
  copy(dst: BlockDevice, ranges: readonly CopyRange[]): Promise<CopyResult>;
}

/** Limits on LUs themselves. */
export const LU_LIMITS = {
  maxSize: 2 ** 50,
  serialLength: 32,
} as const;

/**
 * IEEE company id for the NAA 6 designators. A made-up, locally chosen 24-bit value: designators
 * only need to be unique inside one lab.
 */
export const NAA_COMPANY_ID = 0xc0b1ab;

export type WriteListener = (lu: LogicalUnit, lba: number, blocks: number) => void;

export class LogicalUnit {
  readonly name: string;
  readonly lbs: 512 | 4096;
  readonly blocks: number;
  /** The store, for an LU whose medium is the model's own; null when `block` is the medium. */
  readonly backing: Backing | null;
  readonly block: BlockMedium | null;
  /** The 16-byte NAA IEEE Registered Extended designator (SPC-4 7.8.6.6.5). */
  readonly naa: Uint8Array;
  readonly serial: string;
  readonly pr = new PersistentReservations();
  /**
   * Unit attention conditions pending per I_T nexus (SAM-5 5.14): the next command from that
   * nexus is answered with it instead of running, once. At most one per nexus (the newest).
   */
  readonly unitAttentions = new Map<string, Asc>();
  /** Set when the LU joins an array. */
  arrayName = '';
  lun = -1;
  /**
   * The timing model this LU's commands are charged on (its own or its array's), or null:
   * commands complete at once. Set when the LU joins an array (array.ts).
   */
  timing: TimingModel | null = null;
  /** Where the LU's byte 0 lies in the model's address space (LUs sharing an array's model sit end to end). */
  timingBase = 0;
  private readonly writeListeners: WriteListener[] = [];
  /** Fault injection for the copy manager's data path: fail the next copy chunk at or after this many bytes. */
  private copyWriteFaultAfter: number | null = null;

  constructor(arrayName: string, o: LuOptions) {
    const lbs = o.lbs ?? 512;
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(o.name)) throw new RangeError(`LU name must be 1-32 characters of [A-Za-z0-9_.-]`);
    if (lbs !== 512 && lbs !== 4096) throw new RangeError(`LU ${o.name}: lbs must be 512 or 4096`);
    if (!Number.isSafeInteger(o.size) || o.size <= 0 || o.size % lbs !== 0) throw new RangeError(`LU ${o.name}: size must be a positive multiple of ${lbs}`);
    if (o.size > LU_LIMITS.maxSize) throw new RangeError(`LU ${o.name}: size exceeds ${LU_LIMITS.maxSize}`);
    this.name = o.name;
    this.lbs = lbs;
    this.blocks = o.size / lbs;
    this.arrayName = arrayName;
    this.block = o.block ?? null;
    this.backing = this.block ? null : (o.backing ?? 'sparse') === 'memory' ? new MemoryBacking(o.size) : new SparseBacking(o.size);
    const h = createHash('sha256').update(`${arrayName}/${o.name}`).digest();
    this.naa = naa6(h);
    const serial = o.serial ?? h.subarray(0, 8).toString('hex').toUpperCase();
    if (!/^[\x21-\x7e]{1,32}$/.test(serial)) throw new RangeError(`LU ${o.name}: serial must be 1-${LU_LIMITS.serialLength} printable ASCII characters`);
    this.serial = serial;
  }

  get capacity(): number {
    return this.blocks * this.lbs;
  }

  /** Makes the next device-internal copy into this LU fail once `afterBytes` of it have moved. */
  injectCopyWriteFault(afterBytes: number): void {
    this.copyWriteFaultAfter = afterBytes;
  }

  /** True (once) when the armed copy fault fires at this point of a copy. */
  takeWriteFault(doneBytes: number): boolean {
    if (this.copyWriteFaultAfter === null || doneBytes < this.copyWriteFaultAfter) return false;
    this.copyWriteFaultAfter = null;
    return true;
  }

  onWrite(fn: WriteListener): void {
    this.writeListeners.push(fn);
  }

  inRange(lba: number, blocks: number): boolean {
    return Number.isSafeInteger(lba) && lba >= 0 && blocks >= 0 && lba + blocks <= this.blocks;
  }

  /** The store; store-medium access (read, write, zero) is only ever asked of an LU that has one. */
  private get store(): Backing {
    if (!this.backing) throw new Error(`LU ${this.name}: its medium is a block device`);
    return this.backing;
  }

  read(lba: number, blocks: number, out?: Uint8Array): Uint8Array {
    const buf = out ?? new Uint8Array(blocks * this.lbs);
    this.store.read(lba * this.lbs, buf.subarray(0, blocks * this.lbs));
    return buf;
  }

  /** 0 or a negative errno (the store is full). */
  write(lba: number, data: Uint8Array): number {
    const res = this.store.write(lba * this.lbs, data);
    if (res === 0) this.changed(lba, data.length / this.lbs);
    return res;
  }

  zero(lba: number, blocks: number): void {
    this.store.zero(lba * this.lbs, blocks * this.lbs);
    this.changed(lba, blocks);
  }

  /** Tells listeners (ROD tokens) that blocks changed without going through write (device-internal copies). */
  changed(lba: number, blocks: number): void {
    for (const fn of this.writeListeners) fn(this, lba, blocks);
  }
}

/** NAA 6 designator: NAA nibble, 24-bit company id, 36-bit id, 64-bit extension (SPC-4 table 475). */
function naa6(hash: Uint8Array): Uint8Array {
  const d = new Uint8Array(16);
  d[0] = (Desig.NAA_IEEE_REGISTERED_EXTENDED << 4) | ((NAA_COMPANY_ID >>> 20) & 0x0f);
  d[1] = (NAA_COMPANY_ID >>> 12) & 0xff;
  d[2] = (NAA_COMPANY_ID >>> 4) & 0xff;
  d[3] = ((NAA_COMPANY_ID & 0x0f) << 4) | (hash[0]! & 0x0f);
  d.set(hash.subarray(1, 13), 4);
  return d;
}
