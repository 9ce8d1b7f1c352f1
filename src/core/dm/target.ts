/**
 * The shape of a device-mapper target (the kernel's struct target_type, reduced): it is built
 * from its table arguments, maps data bios onto its devices, and declares what a copy of its
 * extents may do (copyMap). Targets never copy or emulate: the copy engine decides.
 */
import type { BlockDevice } from '../block/device.js';
import type { QueueLimits } from '../block/limits.js';
import type { ReqOp } from '../block/ops.js';
import type { Trace } from '../block/trace.js';
import type { CopyExtent, CopyRole } from '../block/remap.js';
import { submitBioWait } from '../block/submit.js';

/** A data request handed to a target; `offset` is relative to the target's start (bytes). */
export interface TargetIo {
  readonly op: ReqOp;
  readonly offset: number;
  readonly length: number;
  readonly data?: Uint8Array;
  readonly flags: number;
  readonly trace?: Trace;
}

/** What a target may ask of the table it is parsed in. */
export interface TableContext {
  /** The block device at a path (`/dev/nullb0`, `/dev/mapper/x`, `/dev/dm-0`), or undefined. */
  resolve(path: string): BlockDevice | undefined;
  /** Name of the dm device being built (for messages and traces). */
  readonly dmName: string;
  /** Raises a table event on the device (dm_table_event: a raid leg failed or recovered). */
  event?(): void;
}

export interface DmTarget {
  readonly type: string;
  /** Length of the target, bytes. */
  readonly length: number;
  /** The devices below it. */
  readonly devices: readonly BlockDevice[];
  io(req: TargetIo): Promise<number>;
  /** See StackedDevice.copyMap; offsets relative to the target's start. */
  copyMap(offset: number, length: number, role: CopyRole, peerLayout?: string): CopyExtent;
  /** Narrows the limits stacked from its devices (block size of crypt, no discard on raid5…). */
  adjustLimits?(l: QueueLimits): void;
  /** The arguments as `dmsetup table` prints them (after start, length and type). */
  tableArgs(): string;
  /** The status line after start, length and type (`dmsetup status`). */
  statusArgs(): string;
  /** `dmsetup message`: returns a message for -EINVAL or null when done. */
  message?(args: readonly string[]): Promise<string | null>;
  /**
   * Set by the dm device while the table is live; the target calls it when what copyMap answers
   * changes without a new table (a raid leg failed, came back or was resynchronised), so copies
   * planned before plan again.
   */
  mapChanged?: () => void;
  /**
   * Set by the dm device while the table is live: resolves when every copy piece planned before
   * the last mapChanged has ended (pieces planned since see the new copy map). A raid resync calls
   * it after changing the map, so no copy piece planned earlier writes a leg it is rebuilding.
   */
  earlierCopiesDone?: () => Promise<void>;
}

/** Builds a target from its arguments; throws TableError (a message) when they are bad. */
export interface TargetType {
  readonly name: string;
  create(args: readonly string[], lengthBytes: number, ctx: TableContext): DmTarget;
}

/** A refusal of a table, with the message dmsetup would print (the parser adds the line). */
export class TableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TableError';
  }
}

/** Submits one bio to a lower device and resolves with its result. */
export function lowerIo(dev: BlockDevice, op: ReqOp, offset: number, length: number, trace: Trace | undefined, data?: Uint8Array, flags = 0): Promise<number> {
  return submitBioWait(dev, { op, offset, length, flags, ...(data ? { data } : {}), ...(trace ? { trace } : {}) });
}

/** Completes a set of lower results: the first error, else `ok`. */
export function firstError(results: readonly number[], ok: number): number {
  for (const r of results) if (r < 0) return r;
  return ok;
}

/** Parses a non-negative decimal sector count ("2048"); throws TableError naming `what`. */
export function parseSectors(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d+$/.test(text)) throw new TableError(`${what}: expected a sector count, got ${JSON.stringify(text ?? '')}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n * 512)) throw new TableError(`${what}: ${text} is too large`);
  return n;
}

/** Parses a small decimal count in [min, max]. */
export function parseCount(text: string | undefined, what: string, min: number, max: number): number {
  if (text === undefined || !/^\d+$/.test(text)) throw new TableError(`${what}: expected a number, got ${JSON.stringify(text ?? '')}`);
  const n = Number(text);
  if (n < min || n > max) throw new TableError(`${what}: ${n} is not in ${min}..${max}`);
  return n;
}

/** Resolves a device argument or refuses the table. */
export function deviceArg(ctx: TableContext, path: string | undefined, what = 'device'): BlockDevice {
  if (path === undefined) throw new TableError(`${what}: missing device path`);
  const dev = ctx.resolve(path);
  if (!dev) throw new TableError(`${what}: no such device ${path}`);
  return dev;
}

/** Checks that [offset, offset + length) bytes fit on `dev` and are aligned to its blocks. */
export function checkExtent(dev: BlockDevice, offset: number, length: number, what: string): void {
  const lbs = dev.limits.logical_block_size;
  if (offset % lbs !== 0 || length % lbs !== 0) throw new TableError(`${what}: ${dev.name} extent is not aligned to its ${lbs}-byte logical block size`);
  if (offset + length > dev.capacity) {
    throw new TableError(`${what}: length beyond the underlying device: ${dev.name} has ${dev.capacity / 512} sectors, the target needs ${(offset + length) / 512}`);
  }
}

/** The path a table prints for a device. */
export const devPath = (dev: BlockDevice): string => `/dev/${dev.name}`;
