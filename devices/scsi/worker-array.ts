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

/** An LU of a worker-run array: what the lab reads of it (no timing model: refused on workers). */
export interface WorkerLu extends LuSnapshot {
  readonly arrayName: string;
  readonly timing: null;
  readonly block: undefined;
}

export class WorkerScsiArray {
  readonly name: string;
  readonly domain: string;
  readonly copyManagerEnabled: boolean;
  readonly lus: readonly WorkerLu[];
  /** Worker-run arrays have no timing model (refused at attach): commands never wait on the lab's clock. */
  readonly timing = null;
  readonly timed = false;

  constructor(readonly thread: ScsiFabricThread, s: ArraySnapshot) {
    this.name = s.name;
    this.domain = s.domain;
    this.copyManagerEnabled = s.copyManagerEnabled;
    this.lus = s.lus.map((l) => ({ ...l, arrayName: s.name, timing: null, block: undefined }));
  }

  lu(nameOrLun: string | number): WorkerLu | undefined {
    return typeof nameOrLun === 'number' ? this.lus[nameOrLun] : this.lus.find((l) => l.name === nameOrLun);
  }

  visibleLuns(initiator: string, exported: readonly number[] | null = null): number[] {
    return this.thread.call({ op: 'visibleLuns', array: this.name, initiator, exported: exported ? [...exported] : null }) as number[];
  }

  reaches(arrayName: string, viaTransport = false): boolean {
    return this.thread.call({ op: 'reaches', array: this.name, target: arrayName, viaTransport }) as boolean;
  }

  /** Transport events: with the thread gone there is no state left to drop, so they never throw. */
  nexusLoss(initiator: string): void {
    if (this.thread.alive) this.thread.notify({ op: 'nexusLoss', array: this.name, initiator });
  }

  logicalUnitReset(lun: number, nexuses: Iterable<string>): void {
    if (this.thread.alive) this.thread.notify({ op: 'logicalUnitReset', array: this.name, lun, nexuses: [...nexuses] });
  }

  onClock(): boolean {
    return false;
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
