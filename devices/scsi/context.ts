/** What a command handler sees: the nexus, the LU, the CDB and the Data-Out buffer. */
import type { LogicalUnit } from './lu.js';
import type { ScsiArray } from './array.js';

export interface CmdContext {
  readonly array: ScsiArray;
  readonly initiator: string;
  readonly lun: number;
  /** The addressed LU, or null when the LUN has none (only INQUIRY, REPORT LUNS, REQUEST SENSE get here then). */
  readonly lu: LogicalUnit | null;
  readonly cdb: Uint8Array;
  readonly dataOut: Uint8Array;
}

/** A handler returns its Data-In (full length; the dispatcher cuts it) or nothing. */
export type Handler = (c: CmdContext) => Uint8Array | void;

/** The LU of a context that the dispatcher guaranteed to exist. */
export function luOf(c: CmdContext): LogicalUnit {
  if (!c.lu) throw new Error('handler needs a logical unit');
  return c.lu;
}
