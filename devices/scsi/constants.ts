/**
 * SCSI numbers and layouts in one place: operation codes, service actions, status, sense keys,
 * additional sense codes, VPD pages and the byte offsets of the CDBs and parameter lists the
 * model parses. Section numbers are SPC-4 (T10/BSR INCITS 513, r37) and SBC-3 (r35) unless
 * noted; where FreeBSD CTL or LIO made a choice the standard leaves open, the comment says so.
 */

/** SAM-5 5.3.1 status codes. */
export const Status = {
  GOOD: 0x00,
  CHECK_CONDITION: 0x02,
  CONDITION_MET: 0x04,
  BUSY: 0x08,
  RESERVATION_CONFLICT: 0x18,
  TASK_SET_FULL: 0x28,
  ACA_ACTIVE: 0x30,
  TASK_ABORTED: 0x40,
} as const;

export const STATUS_NAME: Readonly<Record<number, string>> = {
  0x00: 'GOOD',
  0x02: 'CHECK CONDITION',
  0x04: 'CONDITION MET',
  0x08: 'BUSY',
  0x18: 'RESERVATION CONFLICT',
  0x28: 'TASK SET FULL',
  0x30: 'ACA ACTIVE',
  0x40: 'TASK ABORTED',
};

/** SPC-4 4.5.6 table 48: sense keys. */
export const SenseKey = {
  NO_SENSE: 0x0,
  RECOVERED_ERROR: 0x1,
  NOT_READY: 0x2,
  MEDIUM_ERROR: 0x3,
  HARDWARE_ERROR: 0x4,
  ILLEGAL_REQUEST: 0x5,
  UNIT_ATTENTION: 0x6,
  DATA_PROTECT: 0x7,
  COPY_ABORTED: 0xa,
  ABORTED_COMMAND: 0xb,
  MISCOMPARE: 0xe,
} as const;

export const SENSE_KEY_NAME: Readonly<Record<number, string>> = {
  0x0: 'NO SENSE',
  0x1: 'RECOVERED ERROR',
  0x2: 'NOT READY',
  0x3: 'MEDIUM ERROR',
  0x4: 'HARDWARE ERROR',
  0x5: 'ILLEGAL REQUEST',
  0x6: 'UNIT ATTENTION',
  0x7: 'DATA PROTECT',
  0xa: 'COPY ABORTED',
  0xb: 'ABORTED COMMAND',
  0xe: 'MISCOMPARE',
};

/** An additional sense code and qualifier (SPC-4 4.5.6 table 49, the T10 ASC list). */
export interface Asc {
  readonly asc: number;
  readonly ascq: number;
  readonly name: string;
}
const asc = (a: number, q: number, name: string): Asc => ({ asc: a, ascq: q, name });

export const ASC = {
  NO_ADDITIONAL_SENSE: asc(0x00, 0x00, 'NO ADDITIONAL SENSE INFORMATION'),
  /** A target whose array runs on a worker thread that is gone (HARDWARE ERROR; T10 ASC list 44h/00h). */
  INTERNAL_TARGET_FAILURE: asc(0x44, 0x00, 'INTERNAL TARGET FAILURE'),
  /** SPC-4 5.17.4.3: a list identifier still held by a copy operation in progress. */
  OPERATION_IN_PROGRESS: asc(0x00, 0x16, 'OPERATION IN PROGRESS'),
  THIRD_PARTY_DEVICE_FAILURE: asc(0x0d, 0x01, 'THIRD PARTY DEVICE FAILURE'),
  COPY_TARGET_DEVICE_NOT_REACHABLE: asc(0x0d, 0x02, 'COPY TARGET DEVICE NOT REACHABLE'),
  LOGICAL_UNIT_NOT_READY_CAUSE_NOT_REPORTABLE: asc(0x04, 0x00, 'LOGICAL UNIT NOT READY, CAUSE NOT REPORTABLE'),
  UNRECOVERED_READ_ERROR: asc(0x11, 0x00, 'UNRECOVERED READ ERROR'),
  PARAMETER_LIST_LENGTH_ERROR: asc(0x1a, 0x00, 'PARAMETER LIST LENGTH ERROR'),
  MISCOMPARE_DURING_VERIFY: asc(0x1d, 0x00, 'MISCOMPARE DURING VERIFY OPERATION'),
  INVALID_COMMAND_OPERATION_CODE: asc(0x20, 0x00, 'INVALID COMMAND OPERATION CODE'),
  ACCESS_DENIED_NO_ACCESS_RIGHTS: asc(0x20, 0x02, 'ACCESS DENIED - NO ACCESS RIGHTS'),
  LBA_OUT_OF_RANGE: asc(0x21, 0x00, 'LOGICAL BLOCK ADDRESS OUT OF RANGE'),
  INVALID_TOKEN_OPERATION: asc(0x23, 0x00, 'INVALID TOKEN OPERATION, CAUSE NOT REPORTABLE'),
  TOKEN_UNKNOWN: asc(0x23, 0x04, 'INVALID TOKEN OPERATION, TOKEN UNKNOWN'),
  TOKEN_REVOKED: asc(0x23, 0x06, 'INVALID TOKEN OPERATION, TOKEN REVOKED'),
  /** A ROD token used after its inactivity timeout passed (SPC-4 5.17.6, SBC-3 5.9; T10 ASC list 23h/07h). */
  TOKEN_EXPIRED: asc(0x23, 0x07, 'INVALID TOKEN OPERATION, TOKEN EXPIRED'),
  /** A ROD token used after WRITE USING TOKEN with DEL_TKN deleted it (SBC-3 5.35; T10 ASC list 23h/09h). */
  TOKEN_DELETED: asc(0x23, 0x09, 'INVALID TOKEN OPERATION, TOKEN DELETED'),
  INVALID_TOKEN_LENGTH: asc(0x23, 0x0a, 'INVALID TOKEN OPERATION, INVALID TOKEN LENGTH'),
  INVALID_FIELD_IN_CDB: asc(0x24, 0x00, 'INVALID FIELD IN CDB'),
  LOGICAL_UNIT_NOT_SUPPORTED: asc(0x25, 0x00, 'LOGICAL UNIT NOT SUPPORTED'),
  INVALID_FIELD_IN_PARAMETER_LIST: asc(0x26, 0x00, 'INVALID FIELD IN PARAMETER LIST'),
  TOO_MANY_TARGET_DESCRIPTORS: asc(0x26, 0x06, 'TOO MANY TARGET DESCRIPTORS'),
  UNSUPPORTED_TARGET_DESCRIPTOR_TYPE: asc(0x26, 0x07, 'UNSUPPORTED TARGET DESCRIPTOR TYPE CODE'),
  TOO_MANY_SEGMENT_DESCRIPTORS: asc(0x26, 0x08, 'TOO MANY SEGMENT DESCRIPTORS'),
  UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE: asc(0x26, 0x09, 'UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE'),
  SAVING_PARAMETERS_NOT_SUPPORTED: asc(0x39, 0x00, 'SAVING PARAMETERS NOT SUPPORTED'),
  DATA_PHASE_ERROR: asc(0x4b, 0x00, 'DATA PHASE ERROR'),
  INSUFFICIENT_RESOURCES: asc(0x55, 0x03, 'INSUFFICIENT RESOURCES'),
  /** SAM-5 6.3.3: the unit attention a LOGICAL UNIT RESET leaves for every I_T nexus. */
  BUS_DEVICE_RESET_FUNCTION_OCCURRED: asc(0x29, 0x03, 'BUS DEVICE RESET FUNCTION OCCURRED'),
} as const;

/** SPC-4 4.5.3 table 41: fixed-format sense data. */
export const SENSE = {
  /** Response code 70h: current error, fixed format; bit 7 is VALID (INFORMATION is meaningful). */
  RESPONSE_CURRENT_FIXED: 0x70,
  VALID: 0x80,
  /** Bytes of fixed sense we build: 18 (additional sense length 10). */
  FIXED_LENGTH: 18,
  OFF_KEY: 2,
  OFF_INFORMATION: 3,
  OFF_ADDITIONAL_LENGTH: 7,
  OFF_CSI: 8,
  OFF_ASC: 12,
  OFF_ASCQ: 13,
  OFF_SKS: 15,
  /** Sense-key specific byte 15 (SPC-4 4.5.2.4): SKSV, C/D, BPV, bit pointer. */
  SKSV: 0x80,
  CD: 0x40,
  /** COPY ABORTED segment pointer (SPC-4 4.5.2.4.5): SD = field pointer is relative to the segment descriptor. */
  SD: 0x20,
  BPV: 0x08,
} as const;

/** Operation codes (SPC-4 annex D, SBC-3 5.1). */
export const Op = {
  TEST_UNIT_READY: 0x00,
  REQUEST_SENSE: 0x03,
  READ_6: 0x08,
  WRITE_6: 0x0a,
  INQUIRY: 0x12,
  MODE_SENSE_6: 0x1a,
  READ_CAPACITY_10: 0x25,
  READ_10: 0x28,
  WRITE_10: 0x2a,
  VERIFY_10: 0x2f,
  SYNCHRONIZE_CACHE_10: 0x35,
  WRITE_SAME_10: 0x41,
  UNMAP: 0x42,
  MODE_SENSE_10: 0x5a,
  PERSISTENT_RESERVE_IN: 0x5e,
  PERSISTENT_RESERVE_OUT: 0x5f,
  /** THIRD-PARTY COPY OUT (SPC-4 6.1 table: EXTENDED COPY, POPULATE TOKEN, …). */
  THIRD_PARTY_COPY_OUT: 0x83,
  /** THIRD-PARTY COPY IN (RECEIVE COPY RESULTS, RECEIVE ROD TOKEN INFORMATION, …). */
  THIRD_PARTY_COPY_IN: 0x84,
  READ_16: 0x88,
  COMPARE_AND_WRITE: 0x89,
  WRITE_16: 0x8a,
  VERIFY_16: 0x8f,
  SYNCHRONIZE_CACHE_16: 0x91,
  WRITE_SAME_16: 0x93,
  SERVICE_ACTION_IN_16: 0x9e,
  REPORT_LUNS: 0xa0,
  MAINTENANCE_IN: 0xa3,
  READ_12: 0xa8,
  WRITE_12: 0xaa,
  VERIFY_12: 0xaf,
  /** SBC-3 5.40-5.42. */
  WRITE_AND_VERIFY_10: 0x2e,
  WRITE_AND_VERIFY_12: 0xae,
  WRITE_AND_VERIFY_16: 0x8e,
  /** SBC-3 5.8-5.9. */
  PRE_FETCH_10: 0x34,
  PRE_FETCH_16: 0x90,
  /** SBC-3 5.15 ORWRITE (16). */
  ORWRITE_16: 0x8b,
  /** SBC-3 READ DEFECT DATA (10) and (12). */
  READ_DEFECT_DATA_10: 0x37,
  READ_DEFECT_DATA_12: 0xb7,
} as const;

/** Service actions of 83h (SPC-4 6.3-6.5, SBC-3 5.9/5.35). */
export const TpcOutSa = {
  EXTENDED_COPY_LID1: 0x00,
  EXTENDED_COPY_LID4: 0x01,
  POPULATE_TOKEN: 0x10,
  WRITE_USING_TOKEN: 0x11,
  COPY_OPERATION_ABORT: 0x1c,
} as const;

/** Service actions of 84h (SPC-4 6.18-6.26). */
export const TpcInSa = {
  RECEIVE_COPY_STATUS_LID1: 0x00,
  RECEIVE_COPY_DATA_LID1: 0x01,
  RECEIVE_COPY_OPERATING_PARAMETERS: 0x03,
  RECEIVE_COPY_FAILURE_DETAILS_LID1: 0x04,
  RECEIVE_COPY_STATUS_LID4: 0x05,
  RECEIVE_ROD_TOKEN_INFORMATION: 0x07,
  REPORT_ALL_ROD_TOKENS: 0x08,
} as const;

/** SERVICE ACTION IN(16) (SBC-3 5.16, 5.15). */
export const SaIn16 = { READ_CAPACITY_16: 0x10, GET_LBA_STATUS: 0x12 } as const;
/** MAINTENANCE IN (SPC-4 6.35). */
export const MaintInSa = { REPORT_SUPPORTED_OPERATION_CODES: 0x0c } as const;

/** VPD page codes (SPC-4 7.8, SBC-3 6.5). */
export const Vpd = {
  SUPPORTED_PAGES: 0x00,
  UNIT_SERIAL_NUMBER: 0x80,
  DEVICE_IDENTIFICATION: 0x83,
  THIRD_PARTY_COPY: 0x8f,
  BLOCK_LIMITS: 0xb0,
  BLOCK_DEVICE_CHARACTERISTICS: 0xb1,
  LOGICAL_BLOCK_PROVISIONING: 0xb2,
} as const;

/** Designation descriptor fields (SPC-4 7.8.6.1 tables 460-463). */
export const Desig = {
  CODE_SET_BINARY: 0x1,
  CODE_SET_ASCII: 0x2,
  ASSOC_LU: 0x0,
  ASSOC_TARGET_PORT: 0x1,
  TYPE_T10_VENDOR_ID: 0x1,
  TYPE_NAA: 0x3,
  TYPE_RELATIVE_TARGET_PORT: 0x4,
  /** NAA 6: IEEE Registered Extended, 16 bytes (SPC-4 7.8.6.6.5). */
  NAA_IEEE_REGISTERED_EXTENDED: 0x6,
} as const;

/** Mode pages (SBC-3 6.4, SPC-4 7.5). */
export const ModePage = {
  READ_WRITE_ERROR_RECOVERY: 0x01,
  CACHING: 0x08,
  CONTROL: 0x0a,
  INFORMATIONAL_EXCEPTIONS: 0x1c,
  ALL: 0x3f,
} as const;

/** Peripheral device type: direct access block device (SPC-4 6.6.2 table 175). */
export const PDT_DIRECT_ACCESS = 0x00;
/** Peripheral qualifier 011b + type 1Fh: no logical unit at this LUN (SPC-4 6.6.2). */
export const PQ_NOT_CONNECTED = 0x7f;

/** PERSISTENT RESERVE IN / OUT (SPC-4 6.15, 6.16). */
export const PrInSa = { READ_KEYS: 0x00, READ_RESERVATION: 0x01, REPORT_CAPABILITIES: 0x02, READ_FULL_STATUS: 0x03 } as const;

/**
 * The relative target port identifier every array reports (VPD 83h, READ FULL STATUS): one
 * target port (SPC-4 7.8.6.7).
 */
export const RELATIVE_TARGET_PORT = 1;

/** TransportID of an iSCSI initiator (SPC-4 7.6.4.6): the fabric names every initiator by its iSCSI name. */
export const TransportId = {
  /** PROTOCOL IDENTIFIER for iSCSI (SPC-4 7.6.1 table 444). */
  PROTOCOL_ISCSI: 0x5,
  /** FORMAT CODE 00b: the iSCSI name of the initiator device (bits 7-6 of byte 0). */
  FORMAT_ISCSI_NAME: 0x00,
  /** Header: byte 0 format and protocol, byte 1 reserved, bytes 2-3 ADDITIONAL LENGTH. */
  HEADER: 4,
  /** A TransportID is at least 24 bytes long and its ISCSI NAME a multiple of 4 (SPC-4 7.6.4.1, 7.6.4.6). */
  MIN_LENGTH: 24,
} as const;
export const PrOutSa = {
  REGISTER: 0x00,
  RESERVE: 0x01,
  RELEASE: 0x02,
  CLEAR: 0x03,
  PREEMPT: 0x04,
  PREEMPT_AND_ABORT: 0x05,
  REGISTER_AND_IGNORE_EXISTING_KEY: 0x06,
} as const;
/** Persistent reservation types (SPC-4 6.15.3.4 table 212). */
export const PrType = {
  WRITE_EXCLUSIVE: 0x1,
  EXCLUSIVE_ACCESS: 0x3,
  WRITE_EXCLUSIVE_REGISTRANTS_ONLY: 0x5,
  EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: 0x6,
  WRITE_EXCLUSIVE_ALL_REGISTRANTS: 0x7,
  EXCLUSIVE_ACCESS_ALL_REGISTRANTS: 0x8,
} as const;

/** EXTENDED COPY descriptor type codes (SPC-4 6.4.4 table 130, 6.4.5, 6.4.6). */
export const XcopyDesc = {
  /** Block device to block device segment descriptor (SPC-4 6.4.6.5), 28 bytes. */
  SEG_BLOCK_TO_BLOCK: 0x02,
  /** Identification CSCD descriptor (SPC-4 6.4.5.2.4), 32 bytes. */
  CSCD_IDENTIFICATION: 0xe4,
  CSCD_LENGTH: 32,
  SEG_B2B_LENGTH: 28,
  /** DESCRIPTOR LENGTH value of a block → block segment descriptor (28 − 4). */
  SEG_B2B_DESCRIPTOR_LENGTH: 0x18,
  /** Segment descriptor header: type, flags, descriptor length (SPC-4 6.4.6.1). */
  SEG_HEADER_LENGTH: 4,
} as const;

/** EXTENDED COPY(LID1) parameter list header (SPC-4 6.5 table 172). */
export const Lid1 = {
  HEADER_LENGTH: 16,
  OFF_LIST_ID: 0,
  OFF_FLAGS: 1, // STR 0x20, LIST ID USAGE 0x18, PRIORITY 0x07
  OFF_CSCD_LIST_LENGTH: 2, // 2 bytes
  OFF_SEGMENT_LIST_LENGTH: 8, // 4 bytes
  OFF_INLINE_LENGTH: 12, // 4 bytes
} as const;

/** EXTENDED COPY(LID4) parameter list header (SPC-4 6.4 table 126; CTL scsi_extended_copy_lid4_data). */
export const Lid4 = {
  HEADER_LENGTH: 48,
  LIST_FORMAT: 0x01,
  OFF_LIST_FORMAT: 0,
  OFF_FLAGS: 1,
  OFF_FLAGS2: 15, // G_SENSE 0x02, IMMED 0x01
  OFF_LIST_ID: 20, // 4 bytes
  OFF_CSCD_LIST_LENGTH: 42, // 2 bytes
  OFF_SEGMENT_LIST_LENGTH: 44, // 2 bytes
  OFF_INLINE_LENGTH: 46, // 2 bytes
} as const;

/** LIST ID USAGE (SPC-4 6.4.3.2 table 129). */
export const ListIdUsage = { HOLD: 0b00, NO_HOLD: 0b10, NONE: 0b11 } as const;

/** Copy operation status codes (SPC-4 6.18 table 263 LID4; LID1 copy management status 6.19). */
export const CopyStatus = {
  IN_PROGRESS: 0x00,
  COMPLETED_GOOD: 0x01,
  COMPLETED_ERROR: 0x02,
  /** 10h: in progress, foreground or background not reported (untimed arrays, whose copies finish inside their command). */
  LID4_IN_PROGRESS_FOREGROUND: 0x10,
  /** 11h: in progress, foreground (its EXTENDED COPY or WRITE USING TOKEN has not completed). */
  LID4_IN_PROGRESS_FG: 0x11,
  /** 12h: in progress, background (IMMED=1: the command completed, the copy goes on). */
  LID4_IN_PROGRESS_BG: 0x12,
  LID4_ABORTED: 0x60,
} as const;

/** COPY OPERATION STATUS 10h-12h: the operation has not ended (SPC-4 6.18 table 263). */
export function copyInProgress(status: number): boolean {
  return status >= CopyStatus.LID4_IN_PROGRESS_FOREGROUND && status <= CopyStatus.LID4_IN_PROGRESS_BG;
}

/** ROD token layout and ROD types (SPC-4 5.17.6, table 110; SBC-3 4.26). */
export const Rod = {
  TOKEN_LENGTH: 512,
  /** ROD TOKEN LENGTH field value: bytes after byte 7 (SPC-4 table 110). */
  TOKEN_LENGTH_FIELD: 0x01f8,
  /** Point in time copy, change vulnerable: the token is revoked when its data changes. */
  TYPE_PIT_CHANGE_VULNERABLE: 0x00800001,
  TYPE_PIT_DEFAULT: 0x00800000,
  TYPE_PIT_ANY: 0x0080ffff,
  /** Block device zero ROD token (SBC-3 4.26.4): writing it writes zeros. */
  TYPE_BLOCK_ZERO: 0xffff0001,
  /** RECEIVE ROD TOKEN INFORMATION response: ROD token descriptors start after sense data plus 4+2 bytes. */
} as const;

/** POPULATE TOKEN / WRITE USING TOKEN parameter lists (SBC-3 5.9 tables 43-44, 5.35 tables 120-121). */
export const Token = {
  PT_HEADER_LENGTH: 16,
  PT_OFF_FLAGS: 2, // RTV 0x02, IMMED 0x01
  PT_OFF_INACTIVITY_TIMEOUT: 4,
  PT_OFF_ROD_TYPE: 8,
  PT_OFF_RANGE_LIST_LENGTH: 14,
  WUT_HEADER_LENGTH: 536,
  WUT_OFF_FLAGS: 2, // DEL_TKN 0x02, IMMED 0x01
  WUT_OFF_OFFSET_INTO_ROD: 8,
  WUT_OFF_TOKEN: 16,
  WUT_OFF_RANGE_LIST_LENGTH: 534,
  RANGE_DESCRIPTOR_LENGTH: 16,
} as const;

/**
 * ROD type descriptor flags byte (SPC-4 7.8.17.7, Supported ROD Types descriptor, byte 4 of each
 * 64-byte ROD type descriptor). TOKEN_IN: the copy manager accepts a ROD token of this type (WRITE
 * USING TOKEN); TOKEN_OUT: it creates ROD tokens of this type (POPULATE TOKEN); ECPY_INT: the type
 * is usable in EXTENDED COPY ROD CSCD descriptors.
 */
export const RodTypeFlag = { ECPY_INT: 0x80, TOKEN_IN: 0x02, TOKEN_OUT: 0x01 } as const;

/** Third-party copy VPD descriptor types (SPC-4 7.8.17; SBC-3 6.5.5). */
export const TpcVpdDesc = {
  BLOCK_DEVICE_ROD_LIMITS: 0x0000,
  SUPPORTED_COMMANDS: 0x0001,
  PARAMETER_DATA: 0x0004,
  SUPPORTED_DESCRIPTORS: 0x0008,
  SUPPORTED_CSCD_IDS: 0x000c,
  SUPPORTED_ROD_TYPES: 0x0108,
  /** ROD Token Features (SPC-4 7.8.17, descriptor type 0106h): token lifetimes and the block ROD device type specific features. */
  ROD_TOKEN_FEATURES: 0x0106,
  GENERAL_COPY_OPERATIONS: 0x8001,
} as const;

/** Version descriptors for standard INQUIRY data (SPC-4 6.6.2 table 179). */
export const VersionDescriptor = { SAM5: 0x00a0, SPC4: 0x0460, SBC3: 0x04c0 } as const;

/** Identification strings (SPC-4 6.6.2: T10 vendor id 8, product id 16, revision 4, ASCII). */
export const INQUIRY_VENDOR = 'COPYLAB ';
export const INQUIRY_PRODUCT = 'VIRTUAL-DISK    ';
export const INQUIRY_REVISION = '0001';
