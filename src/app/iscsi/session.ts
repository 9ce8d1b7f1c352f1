/**
 * A session (RFC 7143 3.4): the I_T nexus between one initiator port (InitiatorName + ISID) and
 * one target (or a discovery session), its negotiated parameters and the command numbering
 * shared by its connections: ExpCmdSN advances as commands arrive in order; commands ahead of it
 * inside the window wait; the rest are silently ignored (RFC 7143 4.2.2.1).
 */
import { ISCSI_LIMITS } from './constants.js';
import { snAdd, snLess } from './pdu.js';
import {  } from '../../core/util/bytes.js';
import type { SessionParams } from './params.js';
import type { ExportedTarget } from './target-config.js';

/** Something a connection delivers when its CmdSN comes up. */
export interface Queued {
  readonly cmdSN: number;
  deliver(): void;
}

export class Session {
  expCmdSN: number;
  private readonly waiting = new Map<number, Queued>();
  readonly connections = new Set<SessionMember>();

  constructor(
    readonly tsih: number,
    readonly isid: string,
    readonly initiatorName: string,
    readonly target: ExportedTarget | null,
    readonly params: SessionParams,
    firstCmdSN: number,
  ) {
    this.expCmdSN = firstCmdSN >>> 0;
  }

  get discovery(): boolean {
    return this.target === null;
  }

  get maxCmdSN(): number {
    return snAdd(this.expCmdSN, ISCSI_LIMITS.cmdWindow - 1);
  }

  /** The I_T nexus name the SCSI model sees (SAM-5 4.6.4: the initiator port name). */
  get initiatorPort(): string {
    return this.initiatorName;
  }

  /**
   * Orders a non-immediate command: delivers it (and any that were waiting for it) when it is
   * ExpCmdSN, queues it inside the window, drops it otherwise. Returns false when dropped.
   */
  order(q: Queued): boolean {
    if (q.cmdSN === this.expCmdSN) {
      this.expCmdSN = snAdd(this.expCmdSN, 1);
      q.deliver();
      for (let next = this.waiting.get(this.expCmdSN); next; next = this.waiting.get(this.expCmdSN)) {
        this.waiting.delete(next.cmdSN);
        this.expCmdSN = snAdd(this.expCmdSN, 1);
        next.deliver();
      }
      return true;
    }
    const inWindow = snLess(this.expCmdSN, q.cmdSN) && !snLess(this.maxCmdSN, q.cmdSN);
    if (!inWindow || this.waiting.has(q.cmdSN)) return false;
    this.waiting.set(q.cmdSN, q);
    return true;
  }

  /** Forgets commands still waiting for their turn (task management, connection loss). */
  dropWaiting(pred: (q: Queued) => boolean = () => true): number {
    let n = 0;
    for (const [sn, q] of this.waiting) {
      if (pred(q)) {
        this.waiting.delete(sn);
        n++;
      }
    }
    return n;
  }
}

/** What a session needs of its connections. */
export interface SessionMember {
  readonly cid: number;
  /** Drops tasks matching the filter (TMF): returns how many. */
  abortTasks(filter: (lun: number, itt: number) => boolean): number;
  hasTask(itt: number): boolean;
  close(reason: string): void;
}
