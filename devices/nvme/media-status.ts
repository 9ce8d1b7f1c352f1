/** How a backing store's result maps to an NVMe status, for every handler that writes media. */
import { Status } from './spec.js';
import { Errno } from '../../src/core/util/errno.js';

/** A media write result: 0, or the status a backing store failure maps to. */
export function mediaStatus(res: number): number {
  if (res === 0) return Status.SUCCESS;
  // A sparse store that cannot grow is out of capacity (thin provisioning, Base Figure 94 81h).
  return res === -Errno.ENOSPC ? Status.CAPACITY_EXCEEDED : Status.WRITE_FAULT;
}
