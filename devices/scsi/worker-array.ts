/**
 * An array that runs on its fabric's worker thread (`execution: worker`), as the lab's thread
 * sees it: the members of ScsiArray that sd, its URING_CMD path, the scsi CLI and step, and the
 * iSCSI target use, with the same meaning. Commands go to the thread (worker-thread.ts); what
 * the lab reads synchronously and never changes (name, domain, the LUs' names, block lengths,
 * capacities and NAA designators) is a snapshot taken when the thread built the array.
 */
import type { ScsiResult } from './sense.js';
import type { ArraySnapshot, LuSnapshot } from './worker-protocol.js';
import type { ScsiFabricThread } from './worker-thread.js';
import type { TimingModel } from '../timing/model.js';

/** Copies of the thread's timing models, for what the lab shows (their parameters); the thread's own time the commands. */
export interface ShownTiming {
  readonly array: TimingModel | null;
  lu(index: number): TimingModel | null;
}

/** An LU of a worker-run array: what the lab reads of it. */
export interface WorkerLu extends Omit<LuSnapshot, 'timing'> {
  readonly arrayName: string;
  /** A copy of its model (parameters to show; the thread's model times its commands), or null. */
  readonly timing: TimingModel | null;
  readonly block: undefined;
}

export class WorkerScsiArray {
  readonly name: string;
  readonly domain: string;
  readonly copyManagerEnabled: boolean;
  readonly lus: readonly WorkerLu[];
  /** A copy of the array's shared model, or null. */
  readonly timing: TimingModel | null;
  /** Some LU has a timing model: its commands complete on the lab's clock. */
  readonly timed: boolean;

  constructor(readonly thread: ScsiFabricThread, s: ArraySnapshot, shown: ShownTiming) {
    this.name = s.name;
    this.domain = s.domain;
    this.copyManagerEnabled = s.copyManagerEnabled;
    this.timing = shown.array;
    this.lus = s.lus.map((l, i) => ({ ...l, arrayName: s.name, timing: l.timing === 'own' ? shown.lu(i) : l.timing === 'array' ? shown.array : null, block: undefined }));
    this.timed = this.lus.some((l) => l.timing !== null);
  }

  lu(nameOrLun: string | number): WorkerLu | undefined {
    return typeof nameOrLun === 'number' ? this.lus[nameOrLun] : this.lus.find((l) => l.name === nameOrLun);
  }

  /** With the thread gone the array shows no LU (its commands fail with INTERNAL TARGET FAILURE). */
  visibleLuns(initiator: string, exported: readonly number[] | null = null): number[] {
    return this.whileAlive([], () => this.thread.call({ op: 'visibleLuns', array: this.name, initiator, exported: exported ? [...exported] : null }) as number[]);
  }

  /** A read of the thread's state, or `gone` when the thread is dead or dies during the call. */
  private whileAlive<T>(gone: T, read: () => T): T {
    if (!this.thread.alive) return gone;
    try {
      return read();
    } catch (err) {
      if (!this.thread.alive) return gone;
      throw err;
    }
  }

  /**
   * With the thread gone the copy manager reaches nothing: a copy's planning asks this, and a
   * copy on a dead array then ends with EIO from its reads instead of throwing (found by the
   * worker-kill fault campaign).
   */
  reaches(arrayName: string, viaTransport = false): boolean {
    return this.whileAlive(false, () => this.thread.call({ op: 'reaches', array: this.name, target: arrayName, viaTransport }) as boolean);
  }

  /** Transport events: with the thread gone there is no state left to drop, so they never throw. */
  nexusLoss(initiator: string): void {
    if (this.thread.alive) this.thread.notify({ op: 'nexusLoss', array: this.name, initiator });
  }

  logicalUnitReset(lun: number, nexuses: Iterable<string>): void {
    if (this.thread.alive) this.thread.notify({ op: 'logicalUnitReset', array: this.name, lun, nexuses: [...nexuses] });
  }

  /** As ScsiArray.onClock: the LU has a model, or no LU is there and the array has one. */
  onClock(lun: number): boolean {
    if (!this.timed) return false;
    const lu = Number.isSafeInteger(lun) && lun >= 0 ? this.lus[lun] : undefined;
    return lu ? lu.timing !== null : this.timing !== null;
  }

  execute(initiator: string, lun: number, cdb: Uint8Array, dataOut?: Uint8Array, allocLen = 0, exported: readonly number[] | null = null): ScsiResult {
    return this.thread.execute({ array: this.name, initiator, lun, cdb, dataOut: dataOut ?? null, allocLen, exported });
  }

  /** Always null: the answer comes from another thread, through executeAsync. */
  executeNow(): ScsiResult | null {
    return null;
  }

  executeAsync(initiator: string, lun: number, cdb: Uint8Array, dataOut?: Uint8Array, allocLen = 0, exported: readonly number[] | null = null): Promise<ScsiResult> {
    return this.thread.executeAsync({ array: this.name, initiator, lun, cdb, dataOut: dataOut ?? null, allocLen, exported });
  }
}
