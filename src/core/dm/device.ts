/**
 * A device-mapper block device (drivers/md/dm.c, reduced): `dm-N`, reachable as
 * /dev/mapper/NAME. Its live table maps bios onto targets (split at target boundaries, 'A'
 * trace events for each remap); its queue limits are stacked from every target's devices
 * (blk_stack_limits through dm_calculate_queue_limits), then narrowed by the targets. A
 * suspended device queues bios until it is resumed; resume swaps in a reloaded table. A copy
 * remapped through it is in flight here piece by piece (startCopyPiece): suspend waits for the
 * piece running and holds the next, and a table swapped in by resume makes the copy plan again.
 */
import type { Bio } from '../block/bio.js';
import type { BlockDevice, DeviceStats } from '../block/device.js';
import { newDeviceStats } from '../block/device.js';
import { FaultInjector } from '../block/fault.js';
import { stackingLimits, stackLimits, updateCopyLimit, type QueueLimits } from '../block/limits.js';
import { ReqOp, SECTOR_SIZE } from '../block/ops.js';
import type { CopyExtent, CopyRole, StackedDevice } from '../block/remap.js';
import { Errno } from '../util/errno.js';
import { TableError } from './target.js';
import type { DmTable, TableEntry } from './table.js';

/** Bios a suspended device holds (a limit on everything); more fail with EAGAIN. */
export const DM_MAX_SUSPENDED_BIOS = 4096;

/** Limits a table stacks to; throws TableError when a target boundary breaks the block size. */
export function tableLimits(table: DmTable): QueueLimits {
  const l = stackingLimits();
  for (const e of table.entries) {
    for (const d of e.target.devices) stackLimits(l, d.limits);
  }
  for (const e of table.entries) e.target.adjustLimits?.(l);
  l.max_sectors = Math.min(l.max_sectors, l.max_hw_sectors);
  updateCopyLimit(l);
  for (const e of table.entries) {
    if (e.start % l.logical_block_size !== 0 || e.target.length % l.logical_block_size !== 0) {
      throw new TableError(`line ${e.line}: target is not aligned to the table's ${l.logical_block_size}-byte logical block size`);
    }
  }
  return l;
}

export class DmDevice implements StackedDevice {
  readonly name: string;
  readonly limits: QueueLimits;
  readonly stats: DeviceStats = newDeviceStats();
  readonly faults = new FaultInjector();
  private live: DmTable;
  inactive: DmTable | null = null;
  suspended = false;
  /** dm's event_nr: table events so far (a raid leg failing or recovering); `dmsetup info` prints it. */
  eventNr = 0;
  private readonly held: Bio[] = [];
  private inflight = 0;
  private drained: (() => void)[] = [];

  constructor(readonly minor: number, readonly mapperName: string, table: DmTable, readonly uuid = '') {
    this.name = `dm-${minor}`;
    this.live = table;
    this.limits = tableLimits(table);
    this.goLive(table);
  }

  get capacity(): number {
    return this.live.size;
  }

  get table(): DmTable {
    return this.live;
  }

  /** dm_table_event: a target reports a change (dmsetup wait would wake). */
  raiseEvent(): void {
    this.eventNr++;
  }

  /** Devices every table of this device uses (for EBUSY on removal of a lower device). */
  usesDevice(dev: BlockDevice): boolean {
    const uses = (t: DmTable | null): boolean => !!t && t.entries.some((e) => e.target.devices.includes(dev));
    return uses(this.live) || uses(this.inactive);
  }

  /** The entry holding byte `offset`. */
  private entryAt(offset: number): TableEntry {
    const es = this.live.entries;
    let lo = 0;
    let hi = es.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (es[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    return es[lo]!;
  }

  queueBio(bio: Bio): void {
    if (this.suspended) {
      if (this.held.length >= DM_MAX_SUSPENDED_BIOS) bio.endIo(-Errno.EAGAIN);
      else this.held.push(bio);
      return;
    }
    this.inflight++;
    this.run(bio).then(
      (res) => this.finish(bio, res),
      () => this.finish(bio, -Errno.EIO),
    );
  }

  private finish(bio: Bio, res: number): void {
    this.idle();
    bio.endIo(res);
  }

  private idle(): void {
    this.inflight--;
    if (this.inflight === 0) for (const fn of this.drained.splice(0)) fn();
  }

  /** Bumped when resume activates a reloaded table and when a live target's copy map changes. */
  private generation = 0;

  get mapGeneration(): number {
    return this.generation;
  }

  /** The live table's targets tell this device when their copy map changes, and may wait for earlier copies. */
  private goLive(table: DmTable): void {
    for (const e of table.entries) {
      e.target.mapChanged = () => void this.generation++;
      e.target.earlierCopiesDone = () => this.piecesPlannedBefore(this.generation);
    }
  }

  /** Copy pieces in flight here, by the map generation their plan was made at. */
  private readonly pieces = new Map<number, number>();
  private pieceWaiters: { before: number; resolve: () => void }[] = [];

  /** A copy piece remapped through this device starts: in flight here (suspend waits for it), or false while suspended. */
  startCopyPiece(planned: number): boolean {
    if (this.suspended) return false;
    this.inflight++;
    this.pieces.set(planned, (this.pieces.get(planned) ?? 0) + 1);
    return true;
  }

  endCopyPiece(planned: number): void {
    const n = (this.pieces.get(planned) ?? 1) - 1;
    if (n > 0) this.pieces.set(planned, n);
    else this.pieces.delete(planned);
    this.pieceWaiters = this.pieceWaiters.filter((w) => {
      if (this.anyPlannedBefore(w.before)) return true;
      w.resolve();
      return false;
    });
    this.idle();
  }

  private anyPlannedBefore(generation: number): boolean {
    for (const g of this.pieces.keys()) if (g < generation) return true;
    return false;
  }

  /** Resolves when no copy piece planned before `generation` is in flight here. */
  private piecesPlannedBefore(generation: number): Promise<void> {
    if (!this.anyPlannedBefore(generation)) return Promise.resolve();
    return new Promise((resolve) => this.pieceWaiters.push({ before: generation, resolve }));
  }

  private async run(bio: Bio): Promise<number> {
    if (bio.op === ReqOp.FLUSH) {
      const rs = await Promise.all(this.live.entries.map((e) => e.target.io({ op: ReqOp.FLUSH, offset: 0, length: 0, flags: bio.flags, ...(bio.trace ? { trace: bio.trace } : {}) })));
      return rs.find((r) => r < 0) ?? 0;
    }
    // Copies do not travel as bios through dm here: the copy engine remaps them with copyMap.
    if (bio.op !== ReqOp.READ && bio.op !== ReqOp.WRITE && bio.op !== ReqOp.DISCARD && bio.op !== ReqOp.WRITE_ZEROES) return -Errno.ENOTSUP;
    const parts: Promise<number>[] = [];
    for (let pos = 0; pos < bio.length; ) {
      const e = this.entryAt(bio.offset + pos);
      const rel = bio.offset + pos - e.start;
      const n = Math.min(bio.length - pos, e.target.length - rel);
      bio.trace?.add('A', this.name, bio.op, bio.offset + pos, n, { info: `${e.target.type} target at ${e.start / SECTOR_SIZE} + ${rel / SECTOR_SIZE}`, from: this.name, fromSector: (bio.offset + pos) / SECTOR_SIZE });
      parts.push(e.target.io({ op: bio.op, offset: rel, length: n, flags: bio.flags, ...(bio.data ? { data: bio.data.subarray(pos, pos + n) } : {}), ...(bio.trace ? { trace: bio.trace } : {}) }));
      pos += n;
    }
    const rs = await Promise.all(parts);
    const bad = rs.find((r) => r < 0);
    if (bad !== undefined) return bad;
    return bio.op === ReqOp.READ || bio.op === ReqOp.WRITE ? bio.length : 0;
  }

  copyMap(offset: number, length: number, role: CopyRole, peerLayout?: string): CopyExtent {
    const e = this.entryAt(offset);
    const rel = offset - e.start;
    const n = Math.min(length, e.target.length - rel);
    return e.target.copyMap(rel, n, role, peerLayout);
  }

  /** Copies waiting for resume (they are held like bios: the copy engine asks before remapping). */
  private readonly waiting: (() => void)[] = [];

  /** Resolves true once the device is not suspended; false at once when too much is held already. */
  whenActive(): Promise<boolean> {
    if (!this.suspended) return Promise.resolve(true);
    if (this.held.length + this.waiting.length >= DM_MAX_SUSPENDED_BIOS) return Promise.resolve(false);
    return new Promise((resolve) => this.waiting.push(() => resolve(true)));
  }

  /** dm suspend: stop issuing, wait for in-flight bios and copy pieces. */
  async suspend(): Promise<void> {
    this.suspended = true;
    if (this.inflight > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  /** dm resume: activate a reloaded table (limits restacked, the user's copy cap kept), reissue held bios. */
  resume(): void {
    if (this.inactive) {
      const l = tableLimits(this.inactive);
      l.max_user_copy_sectors = this.limits.max_user_copy_sectors;
      updateCopyLimit(l);
      Object.assign(this.limits, l);
      for (const e of this.live.entries) {
        e.target.mapChanged = undefined;
        e.target.earlierCopiesDone = undefined;
      }
      this.live = this.inactive;
      this.inactive = null;
      this.generation++;
      this.goLive(this.live);
    }
    this.suspended = false;
    for (const bio of this.held.splice(0)) this.queueBio(bio);
    for (const go of this.waiting.splice(0)) go();
  }
}
