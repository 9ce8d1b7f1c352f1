/**
 * NVMe layouts and numbers, in one place. Every offset is a byte offset inside its structure and
 * every structure is little-endian unless its comment says otherwise. Section numbers refer to the
 * NVM Express Base Specification 2.0 ("Base"), the NVM Command Set Specification 1.0 ("NVM") and
 * the Zoned Namespace Command Set Specification 1.1 ("ZNS"); where a field is newer (Base 2.1 /
 * NVM 1.1) it says so. Reference behaviour: QEMU hw/nvme (ctrl.c, ns.c, nvme.h), libnvme 1.x
 * (src/nvme/types.h).
 */

// ── Submission queue entry (Base 4.2, Figure 88 "Common Command Format") ───────────────────────
export const SQE_SIZE = 64;
export const SQE = {
  /** DW0: opcode 7:0, fused 9:8, PSDT 15:14, CID 31:16. */
  OPCODE: 0,
  FLAGS: 1,
  CID: 2,
  NSID: 4,
  CDW2: 8,
  CDW3: 12,
  MPTR: 16,
  PRP1: 24,
  PRP2: 32,
  CDW10: 40,
  CDW11: 44,
  CDW12: 48,
  CDW13: 52,
  CDW14: 56,
  CDW15: 60,
} as const;
/** Byte offset of CDWn in an SQE (n = 0..15). */
export const cdwOffset = (n: number): number => n * 4;

/** Opcode bits 1:0: data transfer direction (Base 5 Figure 140 / 7 Figure 364 notes). */
export const DataXfer = { NONE: 0, HOST_TO_CTRL: 1, CTRL_TO_HOST: 2, BIDI: 3 } as const;

// ── Completion queue entry (Base 4.6, Figure 90-93) ────────────────────────────────────────────
export const CQE_SIZE = 16;
export const CQE = {
  DW0: 0,
  DW1: 4,
  SQHD: 8,
  SQID: 10,
  CID: 12,
  /** 16-bit word: phase tag bit 0, status field 15:1 (SC 8:1, SCT 11:9, CRD 13:12, M 14, DNR 15). */
  STATUS: 14,
} as const;
export const CQE_PHASE = 1 << 0;
export const CQE_MORE = 1 << 14;
export const CQE_DNR = 1 << 15;

// ── Status codes (Base 4.6.1.2): copylab writes them as (SCT << 8) | SC, as nvme-cli and QEMU ───
export const SCT = { GENERIC: 0, COMMAND_SPECIFIC: 1, MEDIA: 2 } as const;
export const Status = {
  SUCCESS: 0x0000,
  /** Base Figure 94 (generic command status). */
  INVALID_OPCODE: 0x0001,
  INVALID_FIELD: 0x0002,
  CID_CONFLICT: 0x0003,
  DATA_TRANSFER_ERROR: 0x0004,
  INTERNAL_ERROR: 0x0006,
  INVALID_NSID: 0x000b,
  PRP_OFFSET_INVALID: 0x0013,
  LBA_RANGE: 0x0080,
  CAPACITY_EXCEEDED: 0x0081,
  /** Base Figure 95 (command specific). */
  INVALID_CQ: 0x0100,
  INVALID_QID: 0x0101,
  INVALID_QSIZE: 0x0102,
  INVALID_LOG_PAGE: 0x0109,
  INVALID_QUEUE_DELETION: 0x010c,
  /** Invalid Format: QEMU answers a Copy descriptor format that does not match the namespace's PI format with it. */
  INVALID_FORMAT: 0x010a,
  FEAT_NOT_SAVEABLE: 0x010d,
  /** NVM Figure "Copy command specific status values". */
  CMD_SIZE_LIMIT: 0x0183,
  INCOMPATIBLE_NS_OR_FORMAT: 0x0185,
  FAST_COPY_NOT_POSSIBLE: 0x0186,
  OVERLAPPING_IO_RANGE: 0x0187,
  INSUFFICIENT_RESOURCES: 0x0189,
  /** ZNS 3.4.1 (command specific status values). */
  ZONE_BOUNDARY_ERROR: 0x01b8,
  ZONE_FULL: 0x01b9,
  ZONE_READ_ONLY: 0x01ba,
  ZONE_OFFLINE: 0x01bb,
  ZONE_INVALID_WRITE: 0x01bc,
  ZONE_TOO_MANY_ACTIVE: 0x01bd,
  ZONE_TOO_MANY_OPEN: 0x01be,
  ZONE_INVALID_TRANSITION: 0x01bf,
  /** Base Figure 96 (media and data integrity errors). */
  WRITE_FAULT: 0x0280,
  UNRECOVERED_READ: 0x0281,
} as const;
export type StatusCode = number;

export const STATUS_NAME: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(Status).map(([k, v]) => [v, k]),
);

/** "ZONE_INVALID_WRITE (0x01bc)". */
export function statusName(status: number): string {
  return `${STATUS_NAME[status] ?? 'UNKNOWN'} (0x${status.toString(16).padStart(4, '0')})`;
}

// ── Opcodes ────────────────────────────────────────────────────────────────────────────────────
/** Admin command set (Base 5, Figure 139). */
export const AdminOpc = {
  DELETE_IO_SQ: 0x00,
  CREATE_IO_SQ: 0x01,
  GET_LOG_PAGE: 0x02,
  DELETE_IO_CQ: 0x04,
  CREATE_IO_CQ: 0x05,
  IDENTIFY: 0x06,
  SET_FEATURES: 0x09,
  GET_FEATURES: 0x0a,
} as const;

/** I/O commands (NVM 3, Figure 16; ZNS 4, Figure 27). */
export const IoOpc = {
  FLUSH: 0x00,
  WRITE: 0x01,
  READ: 0x02,
  WRITE_ZEROES: 0x08,
  DSM: 0x09,
  COPY: 0x19,
  ZONE_MGMT_SEND: 0x79,
  ZONE_MGMT_RECV: 0x7a,
  ZONE_APPEND: 0x7d,
} as const;

export const NSID_BROADCAST = 0xffffffff;

// ── Read / Write / Write Zeroes / Zone Append dwords (NVM 3.2.4, 3.2.6, 3.2.8; ZNS 4.3) ────────
/** CDW10-11 SLBA; CDW12: NLB 15:0 (0-based), DEAC 25 (Write Zeroes), PRINFO 29:26, FUA 30, LR 31. */
export const RW_NLB_MASK = 0xffff;
export const RW_DEAC = 1 << 25;
export const RW_FUA = 1 << 30;
export const RW_LR = 1 << 31;

// ── Dataset Management (NVM 3.2.3) ─────────────────────────────────────────────────────────────
/** CDW10 NR 7:0 (0-based); CDW11 AD (deallocate) bit 2. Range: 0-3 context attributes, 4-7 NLB, 8-15 SLBA. */
export const DSM_AD = 1 << 2;
export const DSM_RANGE_SIZE = 16;
export const DSM_MAX_RANGES = 256;

// ── Copy (NVM 3.2.2, Figure 29-33) ─────────────────────────────────────────────────────────────
export const COPY = {
  /** CDW12 fields. */
  NR_MASK: 0xff,
  DESFMT_SHIFT: 8,
  DESFMT_MASK: 0xf,
  PRINFOR_SHIFT: 12,
  /** NVM 1.1: copy error type in CDW12 19:16. */
  CETYPE_SHIFT: 16,
  DTYPE_SHIFT: 20,
  STCW: 1 << 24,
  /** NVM 1.1: storage tag check read. */
  STCR: 1 << 25,
  PRINFOW_SHIFT: 26,
  FUA: 1 << 30,
  LR: 1 << 31,
} as const;

/**
 * Source range descriptor formats (NVM Figure 34-37; formats 2 and 3 are NVM 1.1).
 * ELBAT/ELBATM byte order: copylab reads them little-endian, as QEMU (nvme.h
 * NvmeCopySourceRangeFormat0_2) and libnvme 1.x do. The 2026 nvme-cli change that reads them
 * big-endian stands alone; every device a user will meet today follows QEMU and libnvme. Note that
 * libnvme 1.3 names offset 28 `elbatm` and offset 30 `elbat` (swapped); the bytes are the same,
 * only the names differ, and copylab follows the spec and QEMU: ELBAT at 28, ELBATM at 30.
 * ELBT in formats 1 and 3 is a 10-byte big-endian field (the 64b guard PI storage/reference tag).
 */
export const DESC = {
  F0: { SIZE: 32, SLBA: 8, NLB: 16, EILBRT: 24, ELBAT: 28, ELBATM: 30 },
  F1: { SIZE: 40, SLBA: 8, NLB: 16, ELBT: 26, ELBT_LEN: 10, ELBAT: 36, ELBATM: 38 },
  F2: { SIZE: 32, SNSID: 0, SLBA: 8, NLB: 16, SOPT: 22, EILBRT: 24, ELBAT: 28, ELBATM: 30 },
  F3: { SIZE: 40, SNSID: 0, SLBA: 8, NLB: 16, SOPT: 22, ELBT: 26, ELBT_LEN: 10, ELBAT: 36, ELBATM: 38 },
} as const;
/** SOPT bit 15: fast copy only (NVM 1.1). */
export const SOPT_FCO = 1 << 15;
export const descSize = (format: number): number => (format === 1 || format === 3 ? 40 : 32);
/** nvme-cli takes at most 256 ranges; NR is 8 bits, so a Copy carries at most 256 descriptors. */
export const COPY_MAX_RANGES = 256;

// ── Identify (Base 5.17) ───────────────────────────────────────────────────────────────────────
/** CDW10: CNS 7:0, CNTID 31:16. CDW11: CNSSID 15:0, CSI 31:24. */
export const Cns = {
  NS: 0x00,
  CTRL: 0x01,
  ACTIVE_NS_LIST: 0x02,
  NS_DESC_LIST: 0x03,
  CSI_NS: 0x05,
  CSI_CTRL: 0x06,
} as const;
export const Csi = { NVM: 0x00, ZNS: 0x02 } as const;
export const IDENTIFY_SIZE = 4096;

/** Identify Controller data structure (Base Figure 275). */
export const ID_CTRL = {
  VID: 0,
  SSVID: 2,
  SN: 4, // 20 bytes ASCII
  SN_LEN: 20,
  MN: 24, // 40 bytes ASCII
  MN_LEN: 40,
  FR: 64, // 8 bytes ASCII
  FR_LEN: 8,
  RAB: 72,
  IEEE: 73,
  CMIC: 76,
  MDTS: 77,
  CNTLID: 78,
  VER: 80,
  CTRATT: 96,
  CNTRLTYPE: 111,
  OACS: 256,
  ACL: 258,
  AERL: 259,
  LPA: 261,
  ELPE: 262,
  SQES: 512,
  CQES: 513,
  MAXCMD: 514,
  NN: 516,
  /** Optional NVM Command Support. */
  ONCS: 520,
  FUSES: 522,
  VWC: 525,
  /** Optional Copy Formats Supported (Base 2.0 "OCFS"): bit n = descriptor format n. */
  OCFS: 534,
  SGLS: 536,
  MNAN: 540,
  SUBNQN: 768, // 256 bytes UTF-8
  SUBNQN_LEN: 256,
} as const;
/** ONCS bits (Base Figure 275): 2 DSM, 3 Write Zeroes, 8 Copy; 9 copy single atomicity, 10 all fast copy (Base 2.1). */
export const ONCS = { DSM: 1 << 2, WRITE_ZEROES: 1 << 3, COPY: 1 << 8, COPY_SINGLE_ATOMICITY: 1 << 9, ALL_FAST_COPY: 1 << 10 } as const;
/** LPA bit 1: commands supported and effects log page supported. */
export const LPA_CSE = 1 << 1;
/** Memory page size (CAP.MPSMIN = 0: 4 KiB); MDTS and ZASL count in these units (Base 3.1.3.1). */
export const NVME_PAGE_SIZE = 4096;
/** VER 2.0.0 (Base 3.1.3.2: MJR 31:16, MNR 15:8, TER 7:0). */
export const NVME_VERSION = 0x00020000;

/** Identify Namespace, NVM command set (NVM Figure 97). */
export const ID_NS = {
  NSZE: 0,
  NCAP: 8,
  NUSE: 16,
  NSFEAT: 24,
  NLBAF: 25,
  FLBAS: 26,
  MC: 27,
  DPC: 28,
  DPS: 29,
  NMIC: 30,
  DLFEAT: 33,
  /** Maximum Single Source Range Length (LBs). */
  MSSRL: 74,
  /** Maximum Copy Length (LBs). */
  MCL: 76,
  /** Maximum Source Range Count (0-based). */
  MSRC: 80,
  NGUID: 104,
  EUI64: 120,
  /** LBA Format n at 128 + 4n: MS 15:0, LBADS 23:16, RP 25:24. */
  LBAF0: 128,
} as const;
/** DLFEAT: deallocated blocks read as zeros (bits 2:0 = 001b). */
export const DLFEAT_READ_ZEROES = 0x1;

/** Zoned Namespace Command Set specific Identify Controller (ZNS Figure 49): ZASL at byte 0. */
export const ID_CTRL_ZNS = { ZASL: 0 } as const;
/** Zoned Namespace Command Set specific Identify Namespace (ZNS Figure 48). */
export const ID_NS_ZNS = {
  ZOC: 0,
  OZCS: 2,
  /** Maximum Active Resources, 0-based; FFFFFFFFh = no limit. */
  MAR: 4,
  /** Maximum Open Resources, 0-based; FFFFFFFFh = no limit. */
  MOR: 8,
  RRL: 12,
  FRL: 16,
  /** LBA Format Extension n at 2816 + 16n: ZSZE (8 bytes, LBs), ZDES (1 byte, 64-byte units). */
  LBAFE0: 2816,
  LBAFE_SIZE: 16,
} as const;
/** OZCS bit 0: read across zone boundaries. */
export const OZCS_RAZB = 1 << 0;

// ── Features (Base 5.21, 5.27) ─────────────────────────────────────────────────────────────────
/** Get Features CDW10: FID 7:0, SEL 10:8. Set Features CDW10: FID 7:0, SV 31. */
export const Fid = {
  VOLATILE_WRITE_CACHE: 0x06,
  NUMBER_OF_QUEUES: 0x07,
  /** Host Behavior Support: a 512-byte data structure through the data pointer. */
  HOST_BEHAVIOR: 0x16,
} as const;
export const HBS_SIZE = 512;
/** Host Behavior Support data (Base 2.1 Figure 416): ACRE 0, ETDAS 1, LBAFEE 2, CDFE bytes 4-5 (bit n enables descriptor format n). */
export const HBS = { ACRE: 0, ETDAS: 1, LBAFEE: 2, CDFE: 4 } as const;

// ── Log pages (Base 5.16) ──────────────────────────────────────────────────────────────────────
/** CDW10: LID 7:0, LSP 14:8, RAE 15, NUMDL 31:16. CDW11: NUMDU 15:0. CDW12-13: LPO. CDW14: CSI 31:24. */
export const Lid = { ERROR_INFO: 0x01, CMD_EFFECTS: 0x05 } as const;
/** Error Information log entry (Base Figure 206), 64 bytes. */
export const ERR_LOG = { SIZE: 64, COUNT: 0, SQID: 8, CID: 10, STATUS: 12, PEL: 14, LBA: 16, NSID: 24 } as const;
/** Commands Supported and Effects (Base Figure 210): admin 0-1023, I/O 1024-2047, 4 bytes per opcode. */
export const CSE = { SIZE: 4096, ACS: 0, IOCS: 1024, CSUPP: 1 << 0, LBCC: 1 << 1 } as const;

// ── Queue management (Base 5.4, 5.5) ───────────────────────────────────────────────────────────
/** Create I/O CQ: CDW10 QID 15:0, QSIZE 31:16 (0-based); CDW11 PC 0, IEN 1. Create I/O SQ: CDW11 PC 0, CQID 31:16. */
export const QUEUE_PC = 1 << 0;

// ── Zone Management (ZNS 4.3, 4.4) ─────────────────────────────────────────────────────────────
/** Zone Management Send CDW13: ZSA 7:0, Select All 8. */
export const ZSA = { CLOSE: 0x01, FINISH: 0x02, OPEN: 0x03, RESET: 0x04, OFFLINE: 0x05, SET_ZDE: 0x10 } as const;
export const ZMS_SELECT_ALL = 1 << 8;
/** Zone Management Receive CDW12 NUMD (0-based dwords); CDW13: ZRA 7:0, ZRASF 15:8, partial 16. */
export const ZRA = { REPORT: 0x00, EXTENDED_REPORT: 0x01 } as const;
export const ZRASF = { ALL: 0, EMPTY: 1, IMPLICITLY_OPEN: 2, EXPLICITLY_OPEN: 3, CLOSED: 4, FULL: 5, READ_ONLY: 6, OFFLINE: 7 } as const;
export const ZMR_PARTIAL = 1 << 16;
/** Zone states (ZNS Figure 37), in the ZS field bits 7:4 of a zone descriptor. */
export const ZoneState = {
  EMPTY: 0x1,
  IMPLICITLY_OPEN: 0x2,
  EXPLICITLY_OPEN: 0x3,
  CLOSED: 0x4,
  READ_ONLY: 0xd,
  FULL: 0xe,
  OFFLINE: 0xf,
} as const;
export type ZoneStateT = (typeof ZoneState)[keyof typeof ZoneState];
export const ZONE_STATE_NAME: Readonly<Record<number, string>> = {
  0x1: 'EMPTY',
  0x2: 'IMP_OPENED',
  0x3: 'EXP_OPENED',
  0x4: 'CLOSED',
  0xd: 'READ_ONLY',
  0xe: 'FULL',
  0xf: 'OFFLINE',
};
/** Zone Type 2h: sequential write required. */
export const ZONE_TYPE_SEQ_WRITE_REQUIRED = 0x2;
/** Report Zones data: 64-byte header (number of zones at 0), then 64-byte zone descriptors (ZNS Figure 40/41). */
export const ZONE_REPORT = { HEADER: 64, DESC: 64, NR_ZONES: 0, ZT: 0, ZS: 1, ZA: 2, ZCAP: 8, ZSLBA: 16, WP: 24 } as const;
