/**
 * What the iSCSI target exports: targets by IQN, each the front of one SCSI array (its LUNs
 * are the array's LUNs), with the initiators allowed to log in and optional CHAP.
 */
import type { ScsiArray } from '../../devices/scsi/array.js';
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
}

/** RFC 7143 4.2.7.2 iqn format (and eui./naa. names, 4.2.7.3-4). */
export const ISCSI_NAME = /^(iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:[\x21-\x7e]*)?|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16}([0-9A-Fa-f]{16})?)$/;
export const MAX_ISCSI_NAME = 223;

export function validIscsiName(n: string): boolean {
  return n.length <= MAX_ISCSI_NAME && ISCSI_NAME.test(n);
}
