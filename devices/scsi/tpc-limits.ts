/**
 * Limits of the copy manager, in one table a reader finds first (FreeBSD CTL keeps its TPC_MAX_*
 * at the top of ctl_tpc.c). Reported in RECEIVE COPY OPERATING PARAMETERS and the Third-party
 * Copy VPD page, and enforced by the parser: a list beyond them gets the standard's sense.
 * More generous than LIO (2 CSCD descriptors, 1 segment) and at least FreeBSD CTL's (64, 64).
 */
export const TPC_LIMITS = {
  /** MAXIMUM CSCD DESCRIPTOR COUNT. */
  maxCscdDescriptors: 128,
  /** MAXIMUM SEGMENT DESCRIPTOR COUNT. */
  maxSegmentDescriptors: 256,
  /** MAXIMUM DESCRIPTOR LIST LENGTH: CSCD + segment descriptor bytes. */
  maxDescriptorListLength: 128 * 32 + 256 * 28,
  /** MAXIMUM SEGMENT LENGTH (bytes one segment may move). */
  maxSegmentBytes: 256 * 1024 * 1024,
  /** No inline or held data (block → block copies only). */
  maxInlineData: 0,
  heldDataLimit: 0,
  /**
   * TOTAL CONCURRENT COPIES (per array) and MAXIMUM CONCURRENT COPIES (identified copy operations
   * per I_T nexus; the VPD page's MAXIMUM IDENTIFIED CONCURRENT COPIES): copy operations in
   * progress, each holding a list identifier. An untimed array finishes each copy inside its
   * command; a timed one runs them on the clock, in the background with IMMED (copy-lists.ts
   * enforces both: one more is INSUFFICIENT RESOURCES).
   */
  totalConcurrentCopies: 32,
  maxConcurrentCopies: 8,
  /** Records of ended copy operations kept per I_T nexus for RECEIVE COPY RESULTS (oldest dropped first). */
  maxFinishedListsPerNexus: 64,
  /** The same per array, across its I_T nexuses (oldest dropped first). */
  maxFinishedListsPerArray: 1024,
  /** Data moves inside the array in chunks of this size (CTL: 1 MiB I/Os). */
  chunkBytes: 1024 * 1024,
  /** POPULATE TOKEN: range descriptors per token. */
  maxRangeDescriptors: 64,
  /** Bytes one ROD token may represent. */
  maxTokenBytes: 1024 * 1024 * 1024,
  /** Inactivity timeout of ROD tokens, seconds (CTL: default 60, max 600; minimum 1). */
  defaultInactivityTimeout: 60,
  minInactivityTimeout: 1,
  maxInactivityTimeout: 600,
  /** Live ROD tokens per array. */
  maxTokens: 1024,
  /**
   * Ended ROD tokens (expired or deleted) an array remembers per array, so that a later use answers
   * TOKEN EXPIRED or TOKEN DELETED rather than TOKEN UNKNOWN; the oldest is forgotten first.
   */
  maxEndedTokens: 1024,
} as const;
