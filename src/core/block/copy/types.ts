/** The shapes of a copy request and its result, shared by the engine, the Lab and the CLI. */
import type { BlockDevice } from '../device.js';
import type { CopySource } from '../bio.js';
import type { Trace } from '../trace.js';

/**
 * One range of a copy: `length` bytes from `srcOffset` on `src` (default: the destination
 * device) to `dstOffset` on the destination device. The COPYCHUNK shape (SMB2 SRV_COPYCHUNK,
 * BLKCOPY's {src, dst, len}) with a source device added.
 */
export interface CopyRange {
  readonly src?: BlockDevice;
  readonly srcOffset: number;
  readonly dstOffset: number;
  readonly length: number;
}

/**
 * How a copy travels down a stack (docs/architecture.md, docs/dm.md, block/copy/strategies.ts):
 * - `vectored`: one request, many sources, one destination (NVMe Copy, GC; Keith Busch 2025);
 * - `paired`: REQ_OP_COPY_DST + REQ_OP_COPY_SRC matched at the bottom, one range per pair, no
 *   split (the 2024 v20 kernel series);
 * - `token`: a read-token to the sources, then a write-token to the destination (Mikulas
 *   Patocka's design; SCSI POPULATE TOKEN / WRITE USING TOKEN).
 */
export type CopyStrategy = 'vectored' | 'paired' | 'token';
export const COPY_STRATEGIES: readonly CopyStrategy[] = ['vectored', 'paired', 'token'];

/** Why the engine emulated a piece instead of offloading it. */
export type EmulationReasonCode =
  | 'no_offload' // destination's copy_max_bytes is 0
  | 'src_no_offload' // a source device cannot copy
  | 'cross_domain' // source and destination are not in one copy domain
  | 'driver_refused' // the destination driver cannot reach the source
  | 'unaligned_limit' // copy_max_bytes is smaller than the blocks of the devices involved
  | 'below_min' // shorter than copy_offload_min_bytes
  | 'offload_failed' // the device failed the copy; fell back
  | 'target_refused' // a dm target cannot pass a raw copy there (raid5 parity, degraded raid)
  | 'transform' // the data below is transformed differently (dm-crypt key or IV sector differ)
  | 'strategy_refused' // the plumbing strategy cannot carry the copy through this stack
  | 'remap_limit'; // remapping exceeded its depth or extent limit

export interface EmulationReason {
  readonly code: EmulationReasonCode;
  readonly detail: string;
}

/** A piece of a copy as the engine planned it: one destination extent, one or more sources. */
export interface CopyPiece {
  readonly dstOffset: number;
  readonly length: number;
  readonly sources: readonly CopySource[];
  readonly offload: boolean;
  readonly reason?: EmulationReason;
}

export type CopyPath = 'offload' | 'emulated' | 'mixed' | 'none';

export interface PieceResult {
  readonly dst_offset: number;
  readonly length: number;
  readonly sources: number;
  readonly path: 'offload' | 'emulated';
  readonly reason?: EmulationReason;
  /** Bytes copied, or the negative errno the piece failed with. */
  readonly res: number;
  readonly host_bytes: number;
  /** Modeled time the piece took (docs/timing.md); 0 on untimed devices. */
  readonly modeled_us?: number;
  /** The device the piece ran on, when it is not the request's destination (a leg of a stack). */
  readonly dev?: string;
}

export interface CopyResult {
  /** Bytes copied, 0 for an empty copy, or a negative errno. */
  readonly res: number;
  /** Bytes copied before the request finished (equal to res on success). */
  readonly bytes: number;
  readonly path: CopyPath;
  readonly pieces: readonly PieceResult[];
  /** Bytes moved through host buffers for this request: 0 offloaded, 2 × length emulated. */
  readonly host_bytes: number;
  /** Distinct emulation reasons, in the order met. */
  readonly reasons: readonly string[];
  /** Set when the request was rejected before any I/O: what was wrong with it. */
  readonly message?: string;
  readonly trace: Trace;
  /** The plumbing strategy the copy travelled by. */
  readonly strategy?: CopyStrategy;
  /** Bytes copied by offloaded pieces (each leg of a raid1 counts) and by emulated pieces. */
  readonly offloaded_bytes?: number;
  readonly emulated_bytes?: number;
}

/**
 * Control of a running copy (the asynchronous copy with a cookie of LSF/MM 2013; the SNIA
 * paper's completion and status): the engine reports progress after every piece and stops at
 * the next piece boundary once `cancelled` is set, completing with -ECANCELED.
 */
export interface CopyControl {
  cancelled: boolean;
  /** Called after each piece with the bytes and pieces done so far and the total bytes. */
  onProgress?(bytesDone: number, piecesDone: number, totalBytes: number): void;
}

export interface CopyOptions {
  /** Fall back to emulation when an offloaded piece fails (default true). */
  readonly fallback: boolean;
  /** Cap on the emulation bounce buffer, bytes. */
  readonly emulationBufferBytes: number;
  /** Most ranges one request may carry; more is -EINVAL. */
  readonly maxRanges: number;
  /** Most bytes one request may copy; more is -EINVAL. */
  readonly maxBytes: number;
  /** How the copy travels through stacked devices (default vectored). */
  readonly strategy: CopyStrategy;
}

/** Defaults for CopyOptions; the Lab and scenarios may override each. */
export const COPY_DEFAULTS: CopyOptions = {
  fallback: true,
  // One emulation chunk is min(both queues' max_hw_sectors, this cap) as blkdev_copy_emulation sizes it.
  emulationBufferBytes: 4 * 1024 * 1024,
  maxRanges: 1024,
  maxBytes: 4 * 1024 ** 3,
  strategy: 'vectored',
};

/** Bounds on the options themselves. */
export const COPY_OPTION_LIMITS = {
  emulationBufferBytes: { min: 4096, max: 256 * 1024 * 1024 },
  maxRanges: { min: 1, max: 65536 },
  maxBytes: { min: 4096, max: 2 ** 50 },
} as const;
