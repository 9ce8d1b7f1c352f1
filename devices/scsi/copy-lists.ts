/**
 * The copy manager's records of copy operations (SPC-4 5.17.4.3: a list identifier names one
 * operation per I_T nexus; RECEIVE COPY STATUS, RECEIVE COPY FAILURE DETAILS and RECEIVE ROD
 * TOKEN INFORMATION report it), with a bound on everything:
 *
 * - operations in progress: MAXIMUM CONCURRENT COPIES per I_T nexus and TOTAL CONCURRENT COPIES
 *   per array (the numbers RECEIVE COPY OPERATING PARAMETERS and VPD 8Fh advertise); one more is
 *   refused with ILLEGAL REQUEST, INSUFFICIENT RESOURCES (55h/03h) before anything moves;
 * - a list identifier held by an operation in progress is refused with OPERATION IN PROGRESS
 *   (00h/16h, SPC-4 5.17.4.3); one held by an ended operation is reused (the old record goes);
 * - ended operations: the newest `maxFinishedListsPerNexus` per I_T nexus and
 *   `maxFinishedListsPerArray` per array are kept, the oldest dropped first (SPC-4 lets the copy
 *   manager discard status it needs the resources of); a dropped identifier is unknown.
 *
 * An operation ends through `finish` whatever way its command ends (copy-manager.ts runs every
 * tracked operation under a `finally`), so no record stays in progress after its command.
 */
import { ASC } from './constants.js';
import { illegal } from './sense.js';
import { TPC_LIMITS } from './tpc-limits.js';

/** What RECEIVE COPY RESULTS / RECEIVE ROD TOKEN INFORMATION report about one copy operation. */
export interface ListRecord {
  /** Service action of the command that started it (83h/xx). */
  readonly sa: number;
  /** COPY OPERATION STATUS (SPC-4 6.18 table 263). */
  status: number;
  /** The SCSI status its command ended with, or would have (EXTENDED COPY COMPLETION STATUS, SPC-4 6.18). */
  commandStatus: number;
  segmentsProcessed: number;
  /** Bytes (XCOPY) or logical blocks (token commands) transferred. */
  transferCount: number;
  readonly units: 'bytes' | 'blocks';
  sense: Uint8Array | null;
  /** POPULATE TOKEN: the token made. */
  token?: Uint8Array;
  /** While the operation runs on the clock: milliseconds until its next step ends (copy-operations.ts). */
  estimatedDelayMs?: number;
}

/** One record in the table; `running` until its operation ends, `gone` once dropped. */
export interface ListEntry {
  readonly key: string;
  readonly nexus: string;
  readonly rec: ListRecord;
  state: 'running' | 'finished' | 'gone';
}

interface Nexus {
  readonly entries: Set<ListEntry>;
  /** Ended operations of this nexus, oldest first. */
  readonly finished: Set<ListEntry>;
  running: number;
}

export class ListTable {
  private readonly entries = new Map<string, ListEntry>();
  /** Ended operations of the array, oldest first. */
  private readonly finished = new Set<ListEntry>();
  private readonly nexuses = new Map<string, Nexus>();
  private runningCount = 0;

  constructor(
    private readonly limits: {
      readonly maxRunningPerNexus: number;
      readonly maxRunningPerArray: number;
      readonly maxFinishedPerNexus: number;
      readonly maxFinishedPerArray: number;
    } = {
      maxRunningPerNexus: TPC_LIMITS.maxConcurrentCopies,
      maxRunningPerArray: TPC_LIMITS.totalConcurrentCopies,
      maxFinishedPerNexus: TPC_LIMITS.maxFinishedListsPerNexus,
      maxFinishedPerArray: TPC_LIMITS.maxFinishedListsPerArray,
    },
  ) {}

  /** Records held (in progress and ended). */
  get size(): number {
    return this.entries.size;
  }

  /** Operations in progress. */
  get running(): number {
    return this.runningCount;
  }

  /** I_T nexuses with a record. */
  get nexusCount(): number {
    return this.nexuses.size;
  }

  get(key: string): ListRecord | undefined {
    return this.entries.get(key)?.rec;
  }

  /**
   * Starts tracking an operation in progress; throws OPERATION IN PROGRESS when the identifier
   * is held by one, INSUFFICIENT RESOURCES past the limits of operations in progress.
   */
  open(nexus: string, key: string, rec: ListRecord): ListEntry {
    this.checkFree(key);
    const n = this.nexuses.get(nexus);
    if ((n?.running ?? 0) >= this.limits.maxRunningPerNexus || this.runningCount >= this.limits.maxRunningPerArray) {
      throw illegal(ASC.INSUFFICIENT_RESOURCES);
    }
    return this.insert(nexus, key, rec);
  }

  /**
   * Records an operation that ended inside its command (POPULATE TOKEN, which completes before
   * its answer): the identifier must not be held by one in progress.
   */
  add(nexus: string, key: string, rec: ListRecord): void {
    this.checkFree(key);
    this.finish(this.insert(nexus, key, rec));
  }

  /** The operation ended: its record is kept among the ended ones, the oldest beyond the limits dropped. */
  finish(e: ListEntry): void {
    if (e.state !== 'running') return;
    const n = this.nexuses.get(e.nexus)!;
    e.state = 'finished';
    n.running--;
    this.runningCount--;
    n.finished.add(e);
    this.finished.add(e);
    while (n.finished.size > this.limits.maxFinishedPerNexus) this.remove(first(n.finished));
    while (this.finished.size > this.limits.maxFinishedPerArray) this.remove(first(this.finished));
  }

  /** Forgets a record (an operation refused before it started). */
  drop(e: ListEntry): void {
    this.remove(e);
  }

  /** I_T nexus loss: every record of the nexus goes, in progress or ended. */
  dropNexus(nexus: string): void {
    const n = this.nexuses.get(nexus);
    if (n) for (const e of [...n.entries]) this.remove(e);
  }

  /** SPC-4 5.17.4.3: an identifier held by an operation in progress may not be reused. */
  private checkFree(key: string): void {
    if (this.entries.get(key)?.state === 'running') throw illegal(ASC.OPERATION_IN_PROGRESS);
  }

  /** A new record in progress; an ended operation's record under the same identifier goes. */
  private insert(nexus: string, key: string, rec: ListRecord): ListEntry {
    const old = this.entries.get(key);
    if (old) this.remove(old);
    const e: ListEntry = { key, nexus, rec, state: 'running' };
    const n = this.nexusOf(nexus);
    n.entries.add(e);
    n.running++;
    this.runningCount++;
    this.entries.set(key, e);
    return e;
  }

  private nexusOf(nexus: string): Nexus {
    let n = this.nexuses.get(nexus);
    if (!n) {
      n = { entries: new Set(), finished: new Set(), running: 0 };
      this.nexuses.set(nexus, n);
    }
    return n;
  }

  private remove(e: ListEntry): void {
    if (e.state === 'gone') return;
    const n = this.nexuses.get(e.nexus)!;
    if (e.state === 'running') {
      n.running--;
      this.runningCount--;
    }
    e.state = 'gone';
    if (this.entries.get(e.key) === e) this.entries.delete(e.key);
    this.finished.delete(e);
    n.finished.delete(e);
    n.entries.delete(e);
    if (n.entries.size === 0) this.nexuses.delete(e.nexus);
  }
}

function first<T>(s: Set<T>): T {
  return s.values().next().value as T;
}
