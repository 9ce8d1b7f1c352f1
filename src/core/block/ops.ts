/**
 * Request operations. Values follow include/linux/blk_types.h (enum req_op) where the kernel
 * has them; REQ_OP_COPY_DST/SRC are the numbers of the v20 copy-offload series (May 2024).
 * REQ_OP_COPY is copylab's vectored copy (one destination, many sources, Keith Busch's 2025
 * proposal); it has no mainline number, so it takes the next free one after the series' pair.
 */
export const ReqOp = {
  READ: 0,
  WRITE: 1,
  FLUSH: 2,
  DISCARD: 3,
  WRITE_ZEROES: 9,
  COPY_DST: 18,
  COPY_SRC: 19,
  COPY: 20,
} as const;
export type ReqOp = (typeof ReqOp)[keyof typeof ReqOp];

/** Request flags (blk_types.h enum req_flag_bits, only those copylab honours). */
export const ReqFlag = {
  /** Forced unit access: the write is durable when it completes. */
  FUA: 1 << 0,
  /** Flush the volatile cache before the request (REQ_PREFLUSH). */
  PREFLUSH: 1 << 1,
} as const;

/** blktrace's RWBS letters (kernel/trace/blktrace.c blk_fill_rwbs); "CP" for a copy. */
export const OP_RWBS: Readonly<Record<ReqOp, string>> = {
  [ReqOp.READ]: 'R',
  [ReqOp.WRITE]: 'W',
  [ReqOp.FLUSH]: 'F',
  [ReqOp.DISCARD]: 'D',
  [ReqOp.WRITE_ZEROES]: 'WZ',
  [ReqOp.COPY_DST]: 'CPD',
  [ReqOp.COPY_SRC]: 'CPS',
  [ReqOp.COPY]: 'CP',
};

export const OP_NAME: Readonly<Record<ReqOp, string>> = {
  [ReqOp.READ]: 'READ',
  [ReqOp.WRITE]: 'WRITE',
  [ReqOp.FLUSH]: 'FLUSH',
  [ReqOp.DISCARD]: 'DISCARD',
  [ReqOp.WRITE_ZEROES]: 'WRITE_ZEROES',
  [ReqOp.COPY_DST]: 'COPY_DST',
  [ReqOp.COPY_SRC]: 'COPY_SRC',
  [ReqOp.COPY]: 'COPY',
};

/** Operations that carry a host data buffer (and so move host bytes). */
export function opHasData(op: ReqOp): boolean {
  return op === ReqOp.READ || op === ReqOp.WRITE;
}

/** 512-byte sectors, the unit of queue limits, traces and dm tables (SECTOR_SHIFT). */
export const SECTOR_SHIFT = 9;
export const SECTOR_SIZE = 1 << SECTOR_SHIFT;
