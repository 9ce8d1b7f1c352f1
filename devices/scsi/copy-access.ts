/**
 * Who a copy manager may act for (SPC-4 5.17.1; the SNIA paper's section 3, "copy manager
 * security"): a copy manager works on behalf of the I_T nexus that sent the command, so it may
 * touch only what that nexus could touch through its own path.
 *
 * - An LU of the copy manager's own array is addressable when the nexus may address it through
 *   its own transport: the LUN is in the LUN map of the target the command came through (an iSCSI
 *   target's `luns`) — or, for the lab's own host (no transport map), the array's LUN list.
 * - An LU of another array is addressable only when the operator made that array reachable for
 *   third-party copy (the array's `reach` list). Without a list, the lab's host (sd) reaches every
 *   array of the fabric, as before; a command that came through a transport reaches none: the
 *   designator search never crosses a target unless an operator said it may.
 * - Either way the LU's own array access list must let the initiator in (else 20h/02h).
 *
 * A CSCD naming an LU outside this view resolves to nothing: COPY ABORTED, COPY TARGET DEVICE NOT
 * REACHABLE (0Dh/02h), exactly as for a designator that names no LU, so a nexus learns nothing
 * about LUs it cannot see (a designator computed offline finds nothing either).
 *
 * A ROD token is usable only by a nexus that may read the token's LU through its own target
 * (else ILLEGAL REQUEST, ACCESS DENIED - NO ACCESS RIGHTS 20h/02h, field pointer on the token;
 * whoever holds the token's bytes knows it exists); with the array's `token_scope: initiator` it
 * is moreover usable only by the initiator that made it.
 */
import type { CmdContext } from './context.js';
import type { LogicalUnit } from './lu.js';

/** Whether a ROD token may be used by another initiator than its creator (scenario `token_scope`). */
export type TokenScope = 'access' | 'initiator';
export const TOKEN_SCOPES: readonly TokenScope[] = ['access', 'initiator'];

/** The LU is inside what the command's nexus may address through its own path (not the ACL). */
export function nexusReaches(c: CmdContext, lu: LogicalUnit): boolean {
  if (lu.arrayName === c.array.name) return c.exported === null || c.exported.includes(lu.lun);
  return c.array.reaches(lu.arrayName, c.exported !== null);
}

/** The LU is addressable and its array's access list admits the initiator. */
export function nexusMayAccess(c: CmdContext, lu: LogicalUnit): boolean {
  return nexusReaches(c, lu) && c.array.fabric.mayAccess(c.initiator, lu);
}

/** A token (made for `lu` by `creator`) may serve this command. */
export function tokenUsable(c: CmdContext, lu: LogicalUnit, creator: string): boolean {
  if (!nexusMayAccess(c, lu)) return false;
  return c.array.tokenScope === 'access' || creator === c.initiator;
}
