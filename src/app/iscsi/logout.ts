/**
 * Logout Request (RFC 7143 11.14, 11.15): close the session (every connection of it), close a
 * connection by CID (this one or another of the session), or remove one for recovery (not
 * supported at ErrorRecoveryLevel 0). This connection closes after its response has left.
 */
import { FLAG_FINAL, Logout, Off, Op, RejectReason } from './constants.js';
import { newBhs, type Pdu } from './pdu.js';
import { be16, putBe16 } from '../../core/util/bytes.js';
import type { PhaseContext } from './phase-context.js';

export function onLogout(io: PhaseContext, p: Pdu): void {
  const bhs = p.bhs;
  const reason = bhs[Off.FLAGS]! & Logout.REASON_MASK;
  const cid = be16(bhs, Logout.OFF_CID);
  const s = io.session;
  let response: number = Logout.SUCCESS;
  let closeSelf = false;
  if (reason === Logout.CLOSE_SESSION) {
    for (const c of [...s.connections]) if (c !== io.self) c.close('session logout');
    closeSelf = true;
  } else if (reason === Logout.CLOSE_CONNECTION) {
    const c = [...s.connections].find((x) => x.cid === cid);
    if (!c) response = Logout.CID_NOT_FOUND;
    else if (c === io.self) closeSelf = true;
    else c.close('connection logout');
  } else if (reason === Logout.REMOVE_FOR_RECOVERY) {
    response = Logout.RECOVERY_NOT_SUPPORTED;
  } else return io.reject(bhs, RejectReason.INVALID_PDU_FIELD);
  const b = newBhs(Op.LOGOUT_RESPONSE, FLAG_FINAL);
  b[Logout.OFF_RESPONSE] = response;
  b.set(bhs.subarray(Off.ITT, Off.ITT + 4), Off.ITT);
  io.stamp(b);
  putBe16(b, Logout.OFF_TIME2WAIT, 0);
  putBe16(b, Logout.OFF_TIME2RETAIN, 0);
  io.send(b);
  if (closeSelf) io.closeAfterFlush('logout');
}
