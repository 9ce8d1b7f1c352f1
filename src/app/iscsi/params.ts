/**
 * Operational parameter negotiation (RFC 7143 13): each key's kind (list, boolean AND/OR,
 * numeric min/max, declarative), its range and default, and the answer the target gives.
 * The negotiated values live in SessionParams / ConnectionParams.
 */
import { ISCSI_LIMITS } from './constants.js';

export interface SessionParams {
  initialR2T: boolean;
  immediateData: boolean;
  maxBurstLength: number;
  firstBurstLength: number;
  maxOutstandingR2T: number;
  dataPduInOrder: boolean;
  dataSequenceInOrder: boolean;
  errorRecoveryLevel: number;
  maxConnections: number;
  defaultTime2Wait: number;
  defaultTime2Retain: number;
}

export interface ConnectionParams {
  headerDigest: boolean;
  dataDigest: boolean;
  /** What the initiator can receive in one data segment (its declaration). */
  initiatorMaxRecvDataSegmentLength: number;
}

/** RFC 7143 defaults (13.x). */
export function defaultSessionParams(): SessionParams {
  return {
    initialR2T: true, // 13.10
    immediateData: true, // 13.11
    maxBurstLength: 262144, // 13.13
    firstBurstLength: 65536, // 13.14
    maxOutstandingR2T: 1, // 13.17
    dataPduInOrder: true, // 13.18
    dataSequenceInOrder: true, // 13.19
    errorRecoveryLevel: 0, // 13.20
    maxConnections: 1, // 13.2
    defaultTime2Wait: 2, // 13.15
    defaultTime2Retain: 20, // 13.16
  };
}

export function defaultConnectionParams(): ConnectionParams {
  return { headerDigest: false, dataDigest: false, initiatorMaxRecvDataSegmentLength: 8192 }; // 13.12
}

/** Target preferences. */
export interface TargetPrefs {
  /** Offer CRC32C digests (RFC 7143 13.1); default true. */
  readonly digests: boolean;
  readonly maxBurstLength: number;
  readonly firstBurstLength: number;
  readonly maxOutstandingR2T: number;
}

export const DEFAULT_PREFS: TargetPrefs = { digests: true, maxBurstLength: 1024 * 1024, firstBurstLength: 65536, maxOutstandingR2T: 8 };

const yes = (b: boolean): string => (b ? 'Yes' : 'No');

/** Outcome of one key: the answer to send (or null for none) and whether it was bad. */
export interface KeyAnswer {
  readonly answer: string | null;
  readonly reject?: boolean;
}

function numeric(v: string, lo: number, hi: number): number | null {
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= lo && n <= hi ? n : null;
}

function bool(v: string): boolean | null {
  return v === 'Yes' ? true : v === 'No' ? false : null;
}

/**
 * Negotiates one operational key offered by the initiator, updating s/c. Returns the answer
 * value, "Reject" for a value out of range (13: the responder answers Reject), "Irrelevant" or
 * "NotUnderstood".
 */
export function negotiateKey(key: string, value: string, s: SessionParams, c: ConnectionParams, prefs: TargetPrefs, discovery: boolean): string | null {
  switch (key) {
    case 'HeaderDigest':
    case 'DataDigest': {
      const offered = value.split(',');
      const mine = prefs.digests ? ['CRC32C', 'None'] : ['None'];
      // List negotiation (RFC 7143 6.2.1): the first value of the initiator's list we support.
      const pick = offered.find((m) => mine.includes(m));
      if (!pick) return 'Reject';
      if (key === 'HeaderDigest') c.headerDigest = pick === 'CRC32C';
      else c.dataDigest = pick === 'CRC32C';
      return pick;
    }
    case 'MaxRecvDataSegmentLength': {
      // Declarative (13.12): the initiator's own receive limit; we declare ours separately.
      const n = numeric(value, 512, 16777215);
      if (n === null) return 'Reject';
      c.initiatorMaxRecvDataSegmentLength = n;
      return null;
    }
    case 'MaxConnections': {
      const n = numeric(value, 1, 65535);
      if (n === null) return 'Reject';
      s.maxConnections = Math.min(n, ISCSI_LIMITS.maxConnectionsPerSession);
      return String(s.maxConnections);
    }
    case 'InitialR2T': {
      const b = bool(value);
      if (b === null) return 'Reject';
      if (discovery) return 'Irrelevant';
      s.initialR2T = b || false; // OR: the result is Yes if either side wants it; we accept No
      return yes(s.initialR2T);
    }
    case 'ImmediateData': {
      const b = bool(value);
      if (b === null) return 'Reject';
      if (discovery) return 'Irrelevant';
      s.immediateData = b && true; // AND
      return yes(s.immediateData);
    }
    case 'MaxBurstLength': {
      const n = numeric(value, 512, 16777215);
      if (n === null) return 'Reject';
      if (discovery) return 'Irrelevant';
      s.maxBurstLength = Math.min(n, prefs.maxBurstLength);
      if (s.firstBurstLength > s.maxBurstLength) s.firstBurstLength = s.maxBurstLength;
      return String(s.maxBurstLength);
    }
    case 'FirstBurstLength': {
      const n = numeric(value, 512, 16777215);
      if (n === null) return 'Reject';
      if (discovery) return 'Irrelevant';
      s.firstBurstLength = Math.min(n, prefs.firstBurstLength, s.maxBurstLength);
      return String(s.firstBurstLength);
    }
    case 'MaxOutstandingR2T': {
      const n = numeric(value, 1, 65535);
      if (n === null) return 'Reject';
      if (discovery) return 'Irrelevant';
      s.maxOutstandingR2T = Math.min(n, prefs.maxOutstandingR2T);
      return String(s.maxOutstandingR2T);
    }
    case 'DataPDUInOrder':
    case 'DataSequenceInOrder': {
      const b = bool(value);
      if (b === null) return 'Reject';
      if (discovery) return 'Irrelevant';
      // OR (13.18-19): we need in-order data, so the result is Yes whatever is offered.
      if (key === 'DataPDUInOrder') s.dataPduInOrder = true;
      else s.dataSequenceInOrder = true;
      return 'Yes';
    }
    case 'ErrorRecoveryLevel': {
      const n = numeric(value, 0, 2);
      if (n === null) return 'Reject';
      s.errorRecoveryLevel = 0; // min(offer, 0): recovery levels 1 and 2 are not implemented
      return '0';
    }
    case 'DefaultTime2Wait': {
      const n = numeric(value, 0, 3600);
      if (n === null) return 'Reject';
      s.defaultTime2Wait = Math.max(n, 2);
      return String(s.defaultTime2Wait);
    }
    case 'DefaultTime2Retain': {
      const n = numeric(value, 0, 3600);
      if (n === null) return 'Reject';
      s.defaultTime2Retain = 0; // min(offer, 0): no connection recovery, so nothing is retained
      return '0';
    }
    case 'IFMarker':
    case 'OFMarker':
      return 'No'; // RFC 3720 markers; RFC 7143 dropped them (boolean AND: No)
    case 'IFMarkInt':
    case 'OFMarkInt':
      return 'Irrelevant';
    case 'TargetAlias':
    case 'InitiatorAlias':
    case 'TargetAddress':
    case 'TargetPortalGroupTag':
      return null;
    default:
      return 'NotUnderstood';
  }
}
