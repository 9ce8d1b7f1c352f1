/**
 * iSCSI protocol numbers (RFC 7143), in one place: opcodes, BHS field offsets and flags, login
 * stages and status, Reject reasons, task management functions and responses, and the limits
 * this target puts on everything it accepts.
 */

/** Basic Header Segment length (RFC 7143 11.2.1). */
export const BHS_LENGTH = 48;
/** Digest length (CRC32C, RFC 7143 11.2.1 and 13.1). */
export const DIGEST_LENGTH = 4;
/** Reserved tag value (RFC 7143 11.2.1.8 / 11.18.3). */
export const RESERVED_TAG = 0xffffffff;

/** Initiator opcodes (RFC 7143 11.2.1.2). */
export const Op = {
  NOP_OUT: 0x00,
  SCSI_COMMAND: 0x01,
  TASK_MGMT_REQUEST: 0x02,
  LOGIN_REQUEST: 0x03,
  TEXT_REQUEST: 0x04,
  DATA_OUT: 0x05,
  LOGOUT_REQUEST: 0x06,
  SNACK_REQUEST: 0x10,
  /** Target opcodes. */
  NOP_IN: 0x20,
  SCSI_RESPONSE: 0x21,
  TASK_MGMT_RESPONSE: 0x22,
  LOGIN_RESPONSE: 0x23,
  TEXT_RESPONSE: 0x24,
  DATA_IN: 0x25,
  LOGOUT_RESPONSE: 0x26,
  R2T: 0x31,
  ASYNC_MESSAGE: 0x32,
  REJECT: 0x3f,
} as const;

/** Byte 0 (RFC 7143 11.2.1.1-2). */
export const BHS_IMMEDIATE = 0x40;
export const BHS_OPCODE_MASK = 0x3f;
/** Byte 1 final bit, common to most PDUs. */
export const FLAG_FINAL = 0x80;

/** Common BHS offsets (RFC 7143 11.2.1). */
export const Off = {
  OPCODE: 0,
  FLAGS: 1,
  TOTAL_AHS_LENGTH: 4,
  DATA_SEGMENT_LENGTH: 5,
  LUN: 8,
  ITT: 16,
  TTT: 20,
  /** Initiator PDUs. */
  CMDSN: 24,
  EXP_STATSN: 28,
  /** Target PDUs. */
  STATSN: 24,
  EXP_CMDSN: 28,
  MAX_CMDSN: 32,
} as const;

/** SCSI Command (RFC 7143 11.3). */
export const Cmd = {
  FLAG_READ: 0x40,
  FLAG_WRITE: 0x20,
  ATTR_MASK: 0x07,
  OFF_EDTL: 20,
  OFF_CDB: 32,
  CDB_LENGTH: 16,
  /** AHS type 1: extended CDB (RFC 7143 11.2.2.3). */
  AHS_EXTENDED_CDB: 0x01,
  AHS_BIDI_READ_LENGTH: 0x02,
} as const;

/** SCSI Response (RFC 7143 11.4). */
export const Rsp = {
  FLAG_BIDI_OVERFLOW: 0x10,
  FLAG_BIDI_UNDERFLOW: 0x08,
  FLAG_OVERFLOW: 0x04,
  FLAG_UNDERFLOW: 0x02,
  OFF_RESPONSE: 2,
  OFF_STATUS: 3,
  OFF_EXP_DATASN: 36,
  OFF_BIDI_RESIDUAL: 40,
  OFF_RESIDUAL: 44,
  /** Response codes (11.4.3). */
  COMMAND_COMPLETED: 0x00,
  TARGET_FAILURE: 0x01,
} as const;

/** Data-In / Data-Out (RFC 7143 11.7). */
export const Data = {
  FLAG_ACK: 0x40,
  FLAG_OVERFLOW: 0x04,
  FLAG_UNDERFLOW: 0x02,
  FLAG_STATUS: 0x01,
  OFF_STATUS: 3,
  OFF_DATASN: 36,
  OFF_BUFFER_OFFSET: 40,
  OFF_RESIDUAL: 44,
} as const;

/** R2T (RFC 7143 11.8). */
export const R2t = {
  OFF_R2TSN: 36,
  OFF_BUFFER_OFFSET: 40,
  OFF_DESIRED_LENGTH: 44,
} as const;

/** Task Management Function Request/Response (RFC 7143 11.5, 11.6). */
export const Tmf = {
  FUNCTION_MASK: 0x7f,
  OFF_REFERENCED_TASK_TAG: 20,
  OFF_REF_CMDSN: 32,
  OFF_RESPONSE: 2,
  ABORT_TASK: 1,
  ABORT_TASK_SET: 2,
  CLEAR_ACA: 3,
  CLEAR_TASK_SET: 4,
  LOGICAL_UNIT_RESET: 5,
  TARGET_WARM_RESET: 6,
  TARGET_COLD_RESET: 7,
  TASK_REASSIGN: 8,
} as const;

/** TMF response codes (RFC 7143 11.6.1). */
export const TmfResponse = {
  FUNCTION_COMPLETE: 0,
  TASK_DOES_NOT_EXIST: 1,
  LUN_DOES_NOT_EXIST: 2,
  TASK_STILL_ALLEGIANT: 3,
  REASSIGNMENT_NOT_SUPPORTED: 4,
  NOT_SUPPORTED: 5,
  AUTHORIZATION_FAILED: 6,
  REJECTED: 255,
} as const;

/** Login Request/Response (RFC 7143 11.12, 11.13). */
export const Login = {
  FLAG_TRANSIT: 0x80,
  FLAG_CONTINUE: 0x40,
  CSG_SHIFT: 2,
  STAGE_MASK: 0x03,
  OFF_VERSION_MAX: 2,
  OFF_VERSION_MIN: 3,
  OFF_VERSION_ACTIVE: 3,
  OFF_ISID: 8,
  ISID_LENGTH: 6,
  OFF_TSIH: 14,
  OFF_CID: 20,
  OFF_STATUS_CLASS: 36,
  OFF_STATUS_DETAIL: 37,
  /** Version 0x00 (RFC 7143 11.12.4). */
  VERSION: 0x00,
} as const;

/** Login stages (RFC 7143 11.12.3). */
export const Stage = {
  SECURITY_NEGOTIATION: 0,
  OPERATIONAL_NEGOTIATION: 1,
  FULL_FEATURE_PHASE: 3,
} as const;

/** Login status class << 8 | detail (RFC 7143 11.13.5). */
export const LoginStatus = {
  SUCCESS: 0x0000,
  INITIATOR_ERROR: 0x0200,
  AUTHENTICATION_FAILURE: 0x0201,
  AUTHORIZATION_FAILURE: 0x0202,
  NOT_FOUND: 0x0203,
  UNSUPPORTED_VERSION: 0x0205,
  TOO_MANY_CONNECTIONS: 0x0206,
  MISSING_PARAMETER: 0x0207,
  CANT_INCLUDE_IN_SESSION: 0x0208,
  SESSION_TYPE_NOT_SUPPORTED: 0x0209,
  SESSION_DOES_NOT_EXIST: 0x020a,
  INVALID_DURING_LOGIN: 0x020b,
  TARGET_ERROR: 0x0300,
  SERVICE_UNAVAILABLE: 0x0301,
  OUT_OF_RESOURCES: 0x0302,
} as const;

/** Text Request/Response (RFC 7143 11.10, 11.11). */
export const Text = {
  FLAG_CONTINUE: 0x40,
} as const;

/** Logout Request/Response (RFC 7143 11.14, 11.15). */
export const Logout = {
  REASON_MASK: 0x7f,
  CLOSE_SESSION: 0,
  CLOSE_CONNECTION: 1,
  REMOVE_FOR_RECOVERY: 2,
  OFF_CID: 20,
  OFF_RESPONSE: 2,
  OFF_TIME2WAIT: 40,
  OFF_TIME2RETAIN: 42,
  /** Responses (11.15.1). */
  SUCCESS: 0,
  CID_NOT_FOUND: 1,
  RECOVERY_NOT_SUPPORTED: 2,
} as const;

/** Reject reasons (RFC 7143 11.17.1). */
export const RejectReason = {
  DATA_DIGEST_ERROR: 0x02,
  SNACK_REJECT: 0x03,
  PROTOCOL_ERROR: 0x04,
  COMMAND_NOT_SUPPORTED: 0x05,
  IMMEDIATE_COMMAND_REJECT: 0x06,
  TASK_IN_PROGRESS: 0x07,
  INVALID_DATA_ACK: 0x08,
  INVALID_PDU_FIELD: 0x09,
  LONG_OPERATION_REJECT: 0x0a,
  NEGOTIATION_RESET: 0x0b,
  WAITING_FOR_LOGOUT: 0x0c,
} as const;

/** Limits this target puts on everything it accepts (a limit on everything). */
export const ISCSI_LIMITS = {
  /** Our declared MaxRecvDataSegmentLength (RFC 7143 13.12): 256 KiB. */
  maxRecvDataSegmentLength: 262144,
  /** Largest data segment accepted during login and in Text requests. */
  maxTextSegment: 8192,
  /** Largest accumulated text of one login/text exchange (C bit continuations). */
  maxTextBytes: 65536,
  /** Upper bound of the negotiated MaxBurstLength / FirstBurstLength (RFC 7143 13.13-14 allow 2^24-1). */
  maxBurstLength: 16 * 1024 * 1024 - 1,
  /** The CmdSN window: commands the target accepts ahead of ExpCmdSN. */
  cmdWindow: 64,
  /** Tasks (waiting for Data-Out or for a CmdSN gap) per connection. */
  maxTasksPerConnection: 128,
  /** Expected Data Transfer Length of one command (the SCSI model takes 64 MiB of Data-Out). */
  maxTransferLength: 64 * 1024 * 1024,
  /** Bytes of Data-Out buffered across the tasks of one connection. */
  maxBufferedDataOut: 128 * 1024 * 1024,
  /** Connections per session (MaxConnections we accept). */
  maxConnectionsPerSession: 8,
  /** Sessions the whole target holds. */
  maxSessions: 256,
  /** Total connections (logged in or logging in). */
  maxConnections: 512,
  /** AHS bytes accepted (TotalAHSLength is in words: at most 255 * 4). */
  maxAhsBytes: 1020,
  /** Bytes of unsent responses before the connection stops reading (socket backpressure). */
  maxPendingWriteBytes: 32 * 1024 * 1024,
} as const;

export const ISCSI_PORT = 3260;
