/**
 * Task Management Function Request (RFC 7143 11.5): ABORT TASK, ABORT TASK SET, CLEAR TASK SET,
 * LOGICAL UNIT RESET, TARGET WARM/COLD RESET; CLEAR ACA and TASK REASSIGN are not supported
 * (ErrorRecoveryLevel 0). Tasks are aborted on every connection the function reaches: the
 * session's for task and task-set functions, every session of the target for resets.
 */
import { FLAG_FINAL, Off, Op, Tmf, TmfResponse } from './constants.js';
import { newBhs, type Pdu } from './pdu.js';
import { be32 } from '../../core/util/bytes.js';
import { decodeLun } from './lun.js';
import type { PhaseContext } from './phase-context.js';

/** Runs the function and answers with a Task Management Function Response (RFC 7143 11.6). */
export function onTaskManagement(io: PhaseContext, p: Pdu): void {
  const bhs = p.bhs;
  const fn = bhs[Off.FLAGS]! & Tmf.FUNCTION_MASK;
  const lun = decodeLun(bhs);
  const s = io.session;
  const target = s.target!;
  const lunExists = lun >= 0 && target.luns.includes(lun) && !!target.array.lus[lun];
  let response: number = TmfResponse.FUNCTION_COMPLETE;
  const mine = [...s.connections];
  const everyConnection = (): { abortTasks(f: (lun: number, itt: number) => boolean): number; close(reason: string): void }[] =>
    io.host.sessionsOf(target).flatMap((o) => [...o.connections]);
  switch (fn) {
    case Tmf.ABORT_TASK: {
      const ref = be32(bhs, Tmf.OFF_REFERENCED_TASK_TAG);
      let found = 0;
      for (const c of mine) found += c.abortTasks((_l, itt) => itt === ref);
      // Already completed or never seen (RFC 7143 11.5.1): the task does not exist.
      if (!found) response = TmfResponse.TASK_DOES_NOT_EXIST;
      break;
    }
    case Tmf.ABORT_TASK_SET:
    case Tmf.CLEAR_TASK_SET:
      if (!lunExists) {
        response = TmfResponse.LUN_DOES_NOT_EXIST;
        break;
      }
      for (const c of mine) c.abortTasks((l) => l === lun);
      break;
    case Tmf.LOGICAL_UNIT_RESET:
      if (!lunExists) {
        response = TmfResponse.LUN_DOES_NOT_EXIST;
        break;
      }
      for (const c of everyConnection()) c.abortTasks((l) => l === lun);
      target.array.logicalUnitReset(lun, io.host.sessionsOf(target).map((o) => o.initiatorPort));
      break;
    case Tmf.TARGET_WARM_RESET:
    case Tmf.TARGET_COLD_RESET:
      for (const c of everyConnection()) c.abortTasks(() => true);
      break;
    case Tmf.CLEAR_ACA:
      response = TmfResponse.NOT_SUPPORTED;
      break;
    case Tmf.TASK_REASSIGN:
      response = TmfResponse.REASSIGNMENT_NOT_SUPPORTED; // ErrorRecoveryLevel 0 (RFC 7143 11.5.1)
      break;
    default:
      response = TmfResponse.REJECTED;
  }
  const b = newBhs(Op.TASK_MGMT_RESPONSE, FLAG_FINAL);
  b[Tmf.OFF_RESPONSE] = response;
  b.set(bhs.subarray(Off.ITT, Off.ITT + 4), Off.ITT);
  io.stamp(b);
  io.send(b);
  if (fn === Tmf.TARGET_COLD_RESET && response === TmfResponse.FUNCTION_COMPLETE) {
    // A cold reset also ends every connection to the target (RFC 7143 11.5.1).
    for (const c of everyConnection()) if (c !== io.self) c.close('target cold reset');
    io.closeAfterFlush('target cold reset');
  }
}
