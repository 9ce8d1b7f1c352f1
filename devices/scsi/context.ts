/** What a command handler sees: the nexus, the LU, the CDB and the Data-Out buffer. */
import type { LogicalUnit } from './lu.js';
import type { ScsiArray } from './array.js';
import type { MediaRun } from './media.js';

export interface CmdContext {
  readonly array: ScsiArray;
  readonly initiator: string;
  readonly lun: number;
  /** The addressed LU, or null when the LUN has none (only INQUIRY, REPORT LUNS, REQUEST SENSE get here then). */
  readonly lu: LogicalUnit | null;
  readonly cdb: Uint8Array;
  readonly dataOut: Uint8Array;
  /** LUNs the transport exports to this nexus (an iSCSI target's LUN map); null: the array's ACL alone. */
  readonly exported: readonly number[] | null;
}

/**
 * A handler returns its Data-In (full length; the dispatcher cuts it) or nothing; one that
 * touches the media is a generator of media ops (media.ts) returning the same.
 */
export type Handler = (c: CmdContext) => Uint8Array | void | MediaRun<Uint8Array | void>;

/** The LU of a context that the dispatcher guaranteed to exist. */
export function luOf(c: CmdContext): LogicalUnit {
  if (!c.lu) throw new Error('handler needs a logical unit');
  return c.lu;
}
