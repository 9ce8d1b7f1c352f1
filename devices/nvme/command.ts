/**
 * What an NVMe command handler sees and returns: the request (controller, submission queue,
 * parsed SQE) and the result (status, CQE dwords 0-1, DNR). The controller dispatches to the
 * handlers (admin.ts, io.ts, copy.ts); the handlers import this module, never the controller.
 */
import type { Sqe } from './codec.js';
import { Status } from './spec.js';
import type { NvmeController } from './controller.js';

/** What a handler returns: a status ((SCT << 8) | SC) and the result dwords. */
export interface CmdResult {
  readonly status: number;
  readonly dw0?: number;
  readonly dw1?: number;
  /** Do Not Retry; set on every failure the command would meet again. */
  readonly dnr?: boolean;
  /** A Copy's source extents (byte offsets), for its modeled time (devices/timing/). */
  readonly copySources?: readonly { readonly nsid: number; readonly offset: number; readonly length: number }[];
}

export const ok = (dw0 = 0, dw1 = 0): CmdResult => ({ status: Status.SUCCESS, dw0, dw1 });
export const fail = (status: number, dw0 = 0): CmdResult => ({ status, dw0, dnr: true });

/** One command as a handler sees it. */
export interface Request {
  readonly ctrl: NvmeController;
  readonly sqid: number;
  readonly cmd: Sqe;
}
