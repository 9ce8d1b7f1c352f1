/**
 * The remap interface a stacked device (device mapper) offers the copy engine. The engine never
 * asks a target to copy: it asks where an extent lives below and whether a raw copy of the bytes
 * below is a correct copy of the bytes above, then decides per piece (offload or emulate).
 *
 * `copyMap(offset, length, role)` answers for the FIRST extent of [offset, offset+length): it
 * stops at a target, chunk or stripe boundary and says what the target declares for it:
 * - `remap`: the data lives unchanged (or transformed, see `transform`) at `copies` below.
 *   For role 'src' any one copy may be read (raid1 legs are alternatives); for role 'dst' every
 *   copy must be written (raid1 fans out to each in-sync leg).
 * - `stripe`: a full raid5 stripe, data chunks then parity, paired position by position with a
 *   source stripe of the same `layout` (parity of the copied data is the copied parity).
 * - `refuse`: the target cannot pass a raw copy here (raid5 parity, degraded reconstruction).
 */
import type { BlockDevice } from './device.js';
import type { EmulationReason } from './copy/types.js';

export type CopyRole = 'src' | 'dst';

/** A location on a lower device (byte offset). */
export interface LowerLocation {
  readonly dev: BlockDevice;
  readonly offset: number;
  /**
   * The target's end_io for a copy: an I/O error here (a raid leg's device failed a copy piece's
   * read or write) is told to the target, which marks the leg dead as its own I/O path would.
   */
  readonly failed?: () => void;
}

/**
 * A sector-dependent transform of the data below (dm-crypt's cipher + key + IV generator).
 * A raw copy between two extents is correct only when both carry the same transform with the
 * same tweak (the IV sector number at the extent's start, which advances at the same rate on
 * both sides).
 */
export interface DataTransform {
  /** Identifies the function: cipher, key digest, encryption sector size, IV generator. */
  readonly id: string;
  /** IV sector number of the extent's first byte (in the IV generator's sector unit). */
  readonly tweak: number;
  /** Bytes per tweak step (512, or the encryption sector with iv_large_sectors). */
  readonly unit: number;
}

export interface RemapExtent {
  readonly kind: 'remap';
  readonly length: number;
  /** Target type that mapped it ("linear", "striped", …): the engine's rules per strategy use it. */
  readonly target: string;
  readonly copies: readonly LowerLocation[];
  readonly transform?: DataTransform;
}

export interface StripeSegment extends LowerLocation {
  readonly length: number;
}

export interface StripeExtent {
  readonly kind: 'stripe';
  readonly length: number;
  readonly target: string;
  /** Geometry; two stripes pair only when their layouts are equal. */
  readonly layout: string;
  /** Data chunks in stripe order, then the parity chunk. */
  readonly segments: readonly StripeSegment[];
}

export interface RefuseExtent {
  readonly kind: 'refuse';
  readonly length: number;
  readonly target: string;
  readonly reason: EmulationReason;
}

export type CopyExtent = RemapExtent | StripeExtent | RefuseExtent;

/** A block device that maps onto others (a dm device). */
export interface StackedDevice extends BlockDevice {
  /**
   * The first extent of [offset, offset + length) (length > 0, in bounds). `peerLayout`: for
   * role 'src', the layout of the destination's stripe, so a raid5 source may answer with the
   * matching full stripe. For role 'dst', mapping marks what a target must remember about the
   * write (raid1 marks regions of failed legs for resync), as a target's map function does.
   */
  copyMap(offset: number, length: number, role: CopyRole, peerLayout?: string): CopyExtent;
  /**
   * A suspended device (dm suspend) holds a copy as it holds bios: resolves true once it is
   * active again, false when it cannot hold more (the copy fails with EAGAIN, as a bio would).
   */
  whenActive?(): Promise<boolean>;
  /**
   * Starts one piece of a copy remapped through this device (a bio the engine sends to a device
   * below it, or an emulation below it): true, and the piece is in flight here until
   * `endCopyPiece` (a dm suspend waits for it); false while the device is suspended (the engine
   * then waits with whenActive and asks again), as dm holds a bio that arrives while suspended.
   */
  startCopyPiece?(planned: number): boolean;
  /** `planned`: the mapGeneration the piece's plan was made at (as given to startCopyPiece). */
  endCopyPiece?(planned: number): void;
  /**
   * Changes each time what copyMap answers may have changed: another table went live (a reload
   * activated by resume), or a target changed its mind (a raid leg failed, came back or was
   * resynchronised). A copy planned before must be planned again.
   */
  readonly mapGeneration?: number;
}

export function isStacked(dev: BlockDevice): dev is StackedDevice {
  return typeof (dev as Partial<StackedDevice>).copyMap === 'function';
}

/** Most levels a copy is remapped through (a limit on everything; dm stacks rarely pass 4). */
export const REMAP_MAX_DEPTH = 16;
/** Most extents one copy may be remapped into before the engine emulates the rest. */
export const REMAP_MAX_EXTENTS = 1 << 20;
