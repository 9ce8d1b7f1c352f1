/**
 * What the iSCSI target exports: targets by IQN, each the front of one SCSI array (its LUNs
 * are the array's LUNs), with the initiators allowed to log in and optional CHAP.
 */
import type { ScsiArray } from '../../../devices/scsi/array.js';
import type { ChapConfig } from './chap.js';

export interface ExportedTarget {
  /** iSCSI name (RFC 7143 4.2.7.2: iqn.YYYY-MM.reversed-domain[:id]). */
  readonly iqn: string;
  readonly alias?: string;
  readonly array: ScsiArray;
  /** LUNs exported; others of the array answer LOGICAL UNIT NOT SUPPORTED. */
  readonly luns: readonly number[];
  /** Initiator names allowed to log in; absent: any. */
  readonly initiators?: readonly string[];
  readonly chap?: ChapConfig;
  /**
   * Discovery sessions (SendTargets): `chap` (the default when `chap` is set) lists the target
   * only to a discovery session that authenticated with its CHAP credentials; `none` lists it
   * without authentication.
   */
  readonly discoveryAuth?: DiscoveryAuth;
}

export type DiscoveryAuth = 'chap' | 'none';
export const DISCOVERY_AUTHS: readonly DiscoveryAuth[] = ['chap', 'none'];

/** The CHAP credentials a discovery session needs to learn of the target, or null when it needs none. */
export function discoveryChap(t: ExportedTarget): ChapConfig | null {
  return t.chap && t.discoveryAuth !== 'none' ? t.chap : null;
}

/**
 * iSCSI names (RFC 7143 4.2.7): "iqn." date "." reversed domain name [":" unique part]
 * (4.2.7.2), "eui." 16 hex digits (4.2.7.3) or "naa." 16 or 32 hex digits (4.2.7.4). A name is
 * sent in its normalized form (RFC 3722 stringprep profile): ASCII letters lowercase, and of the
 * ASCII punctuation only '-', '.' and ':' (non-ASCII characters are allowed; 0x80-0x9f and
 * U+FFFD are not). The month is 01-12; the whole name is at most 223 bytes of UTF-8.
 */
export const ISCSI_NAME = /^(iqn\.\d{4}-(0[1-9]|1[0-2])\.[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(:[a-z0-9.:\u00a0-\ufffc-]*)?|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16}([0-9A-Fa-f]{16})?)$/u;
export const MAX_ISCSI_NAME = 223;

export function validIscsiName(n: string): boolean {
  return Buffer.byteLength(n, 'utf8') <= MAX_ISCSI_NAME && ISCSI_NAME.test(n);
}
