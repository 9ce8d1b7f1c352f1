/**
 * What a full-feature-phase request handler (task-management.ts, text-exchange.ts, logout.ts)
 * needs of its connection: the session and target server it belongs to, its negotiated
 * parameters, and the connection's own sending, stamping (StatSN, ExpCmdSN, MaxCmdSN), Reject
 * and closing. connection.ts keeps the PDU stream, the login phase and SCSI commands with their
 * Data-Out; each handler answers one request type of RFC 7143 11.x.
 */
import type { Socket } from 'node:net';
import type { LoginState } from './login.js';
import type { Session, SessionMember } from './session.js';
import type { ExportedTarget } from './target-config.js';

/** The target server, as the request handlers see it (connection.ts TargetHost). */
export interface PhaseHost {
  /** Targets an initiator may see (SendTargets). */
  visibleTargets(initiator: string): ExportedTarget[];
  /** "host:port,tpgt" of the portal a connection came in on. */
  portalOf(sock: Socket): string;
  /** Sessions of one target (LUN reset, target reset). */
  sessionsOf(t: ExportedTarget): Session[];
}

export interface PhaseContext {
  /** The connection itself, as its session lists it. */
  readonly self: SessionMember;
  readonly session: Session;
  readonly host: PhaseHost;
  readonly login: LoginState;
  readonly sock: Socket;
  send(bhs: Uint8Array, data?: Uint8Array): void;
  /** Fills StatSN (advancing it), ExpCmdSN and MaxCmdSN. */
  stamp(bhs: Uint8Array): void;
  /** Reject (RFC 7143 11.17) of the PDU with this header. */
  reject(bhs: Uint8Array, reason: number): void;
  /** Sends what is queued, then closes. */
  closeAfterFlush(reason: string): void;
}
