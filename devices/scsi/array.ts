/**
 * Arrays and the fabric. A ScsiArray is a SCSI target device with logical units, per-initiator
 * LUN access lists and one copy manager (the SNIA paper's sections 2.2-2.3): LUs of the same
 * array are internal to its copy manager, LUs of other arrays it reaches are external. The
 * fabric (a SAN) holds the arrays, resolves VPD 83h designators to LUs and answers whether an
 * initiator may access an LU.
 *
 * `execute` is the entry point: initiator, LUN, CDB, Data-Out and allocation length in;
 * status, fixed-format sense and Data-In out. It never throws. It completes at once, so it
 * serves LUs whose medium is a store (the sd driver, unit tests). `executeAsync` is the same
 * command execution for any LU, including one whose medium is a block device of the lab
 * (media.ts); the iSCSI target and the ring's URING_CMD use it. Asynchronous commands of one
 * array run one after the other (each completes before the next starts), so a COMPARE AND
 * WRITE or a copy is atomic against the other commands of the task set, as with `execute`.
 *
 * Modeled time (docs/scsi.md "Timing and background copies"): an array with `timing` (a model
 * its LUs share; an LU may have its own) completes commands on the lab's clock. executeNow
 * declines them, and executeAsync runs them with timed-run.ts: the bytes of a READ or WRITE
 * move when the command is dispatched (in arrival order, so atomicity holds as before), its
 * answer comes at the model's completion time, and copies move segment by segment at their
 * modeled times, in the foreground or (IMMED) in the background (copy-operations.ts).
 */
import { ASC, Op, SenseKey, Status } from './constants.js';
import { ScsiCheck, failed, good, illegal, invalidFieldInCdb, type ScsiResult } from './sense.js';
import { LogicalUnit, type LuOptions } from './lu.js';
import { CopyManager } from './copy-manager.js';
import { TokenStore } from './rod-tokens.js';
import { COMMANDS, SA_OPCODES, type CommandDef } from './commands.js';
import type { CmdContext } from './context.js';
import { isMediaRun, runAsync, runSync } from './media.js';
import type { TokenScope } from './copy-access.js';
import { NS_PER_MS, type Clock } from '../../src/core/time/clock.js';
import { resolveTiming, type TimingSpec } from '../timing/params.js';
import { TimingModel } from '../timing/model.js';
import { CopyOperations } from './copy-operations.js';
import { executeOnClock } from './timed-run.js';

export interface ScsiArrayOptions {
  readonly name: string;
  readonly lus?: readonly LuOptions[];
  /**
   * Per-initiator LUN access lists (LUN masking): initiator name → LUNs it may see. Absent: every
   * initiator sees every LU.
   */
  readonly initiators?: Readonly<Record<string, readonly number[]>>;
  /**
   * Arrays (by name) this array's copy manager can reach besides itself (copy-access.ts). Absent:
   * every array of the fabric for the lab's own host, none for a command through a transport
   * (an iSCSI target); a list applies to both.
   */
  readonly reach?: readonly string[];
  /** Who may use a ROD token of this array besides nexuses that may read its LU (copy-access.ts); default 'access'. */
  readonly tokenScope?: TokenScope;
  /** Offer third-party copy (3PC bit, EXTENDED COPY, tokens); default true. */
  readonly copyManager?: boolean;
  /** Copy domain exported by sd for this array's LUs (default: the array name). */
  readonly domain?: string;
  /**
   * Timing model shared by the array's LUs (docs/timing.md: a preset such as `sas-array`, or
   * `{ preset, …overrides }`); absent or `none`: commands complete at once. Needs a fabric with
   * a clock (a lab's).
   */
  readonly timing?: TimingSpec;
}

/** Limits on arrays (a limit on everything). */
export const ARRAY_LIMITS = { maxLus: 256, maxArrays: 64, maxInitiators: 256, maxCdb: 32, maxDataOut: 64 * 1024 * 1024, maxQueuedCommands: 1024 } as const;

const byKey = new Map<string, CommandDef>(COMMANDS.map((d) => [`${d.op}/${d.sa ?? ''}`, d]));

export class ScsiFabric {
  readonly arrays = new Map<string, ScsiArray>();
  /** The lab's clock, on which timed arrays complete their commands; null outside a lab. */
  constructor(readonly clock: Clock | null = null) {}
  /** Milliseconds; tests replace it to expire ROD tokens without waiting. */
  now: () => number = () => Date.now();
  /** Some LU of the fabric has a block device as its medium (commands may then wait on it). */
  hasBlockMedia = false;
  /** The fabric's arrays run on a worker thread (worker-attach.ts): no array of it runs here. */
  onWorker = false;

  addArray(o: ScsiArrayOptions): ScsiArray {
    if (this.onWorker) throw new RangeError(`array ${o.name}: this lab's SCSI arrays run on a worker thread; every array of the fabric needs execution: worker`);
    if (this.arrays.has(o.name)) throw new RangeError(`array ${o.name} already exists`);
    if (this.arrays.size >= ARRAY_LIMITS.maxArrays) throw new RangeError(`at most ${ARRAY_LIMITS.maxArrays} arrays`);
    const a = new ScsiArray(this, o);
    this.arrays.set(o.name, a);
    if (a.lus.some((lu) => lu.block)) this.hasBlockMedia = true;
    return a;
  }

  /** The LU whose VPD 83h LU designator matches (SPC-4 7.8.6; NAA as LIO requires, or T10 vendor id). */
  findByDesignator(codeSet: number, type: number, value: Uint8Array): LogicalUnit | null {
    for (const a of this.arrays.values()) {
      for (const lu of a.lus) {
        if (type === 0x3 && codeSet === 0x1 && value.length === lu.naa.length && value.every((b, i) => b === lu.naa[i])) return lu;
      }
    }
    return null;
  }

  mayAccess(initiator: string, lu: LogicalUnit): boolean {
    const a = this.arrays.get(lu.arrayName);
    return !!a && a.visibleLuns(initiator).includes(lu.lun);
  }
}

export class ScsiArray {
  readonly name: string;
  readonly lus: LogicalUnit[] = [];
  readonly copyManager: CopyManager;
  readonly tokens: TokenStore;
  readonly copyManagerEnabled: boolean;
  readonly domain: string;
  readonly tokenScope: TokenScope;
  private readonly acl: Map<string, Set<number>> | null;
  private readonly reach: readonly string[] | null;
  /** The model the array's LUs share, or null (untimed, or LUs with models of their own). */
  readonly timing: TimingModel | null = null;
  /** Copy operations running on the clock (background or foreground), with their limits. */
  readonly copyOps = new CopyOperations();
  /** Some LU of the array has a timing model: commands complete on the clock. */
  timed = false;
  private sharedBytes = 0;

  constructor(readonly fabric: ScsiFabric, o: ScsiArrayOptions) {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(o.name)) throw new RangeError('array name must be 1-64 characters of [A-Za-z0-9_.:-]');
    this.name = o.name;
    this.copyManagerEnabled = o.copyManager ?? true;
    this.domain = o.domain ?? `scsi:${o.name}`;
    this.copyManager = new CopyManager(this);
    // A token's inactivity timeout (SBC-3 5.9.2) runs on the array's time: modeled time on a timed
    // array (its copies take modeled time; wall time would expire tokens by the host's speed).
    this.tokens = new TokenStore(() => (this.timed && fabric.clock ? fabric.clock.now() / NS_PER_MS : fabric.now()));
    if (o.initiators) {
      const entries = Object.entries(o.initiators);
      if (entries.length > ARRAY_LIMITS.maxInitiators) throw new RangeError(`at most ${ARRAY_LIMITS.maxInitiators} initiators per array`);
      this.acl = new Map(entries.map(([k, v]) => [k, new Set(v)]));
    } else this.acl = null;
    this.reach = o.reach ?? null;
    this.tokenScope = o.tokenScope ?? 'access';
    const timing = resolveTiming(o.timing);
    if (timing) {
      if (!fabric.clock) throw new RangeError(`array ${o.name}: a timing model needs a lab (its clock)`);
      this.timing = new TimingModel(timing, fabric.clock);
    }
    for (const lu of o.lus ?? []) this.addLu(lu);
  }

  addLu(o: LuOptions): LogicalUnit {
    if (this.lus.length >= ARRAY_LIMITS.maxLus) throw new RangeError(`at most ${ARRAY_LIMITS.maxLus} LUs per array`);
    if (this.lus.some((l) => l.name === o.name)) throw new RangeError(`LU ${o.name} already exists in ${this.name}`);
    const lu = new LogicalUnit(this.name, o);
    lu.lun = this.lus.length;
    const own = resolveTiming(o.timing);
    if ((own || this.timing) && lu.block) throw new RangeError(`LU ${o.name}: a block device medium has its own timing; array and LU timing models apply to store media`);
    if (own) {
      if (!this.fabric.clock) throw new RangeError(`LU ${o.name}: a timing model needs a lab (its clock)`);
      lu.timing = new TimingModel(own, this.fabric.clock);
    } else if (this.timing) {
      // LUs sharing the array's model sit end to end in its address space, so they spread over its dies.
      lu.timing = this.timing;
      lu.timingBase = this.sharedBytes;
      this.sharedBytes += lu.capacity;
    }
    if (lu.timing) this.timed = true;
    lu.onWrite(this.tokens.noteWrite);
    this.lus.push(lu);
    return lu;
  }

  lu(nameOrLun: string | number): LogicalUnit | undefined {
    return typeof nameOrLun === 'number' ? this.lus[nameOrLun] : this.lus.find((l) => l.name === nameOrLun);
  }

  /** LUNs the initiator sees: the array's ACL, narrowed to a transport's LUN map when given. */
  visibleLuns(initiator: string, exported: readonly number[] | null = null): number[] {
    const all = this.lus.map((l) => l.lun).filter((n) => !exported || exported.includes(n));
    if (!this.acl) return all;
    const allowed = this.acl.get(initiator);
    return allowed ? all.filter((n) => allowed.has(n)) : [];
  }

  /**
   * Whether this array's copy manager reaches an array: itself always; others when listed in
   * `reach`, or, without a list, for the lab's own host only (not through a transport).
   */
  reaches(arrayName: string, viaTransport = false): boolean {
    if (arrayName === this.name) return true;
    return this.reach === null ? !viaTransport : this.reach.includes(arrayName);
  }

  /**
   * I_T nexus loss (SAM-5 6.3.4): a transport (an iSCSI session) ended for this initiator; state
   * held per nexus (copy results) goes. Persistent reservations survive (SPC-4 5.13).
   */
  nexusLoss(initiator: string): void {
    this.copyOps.nexusLoss(initiator);
    this.copyManager.nexusLoss(initiator);
    for (const lu of this.lus) lu?.unitAttentions.delete(initiator);
  }

  /**
   * LOGICAL UNIT RESET (SAM-5 6.3.3): a unit attention condition, BUS DEVICE RESET FUNCTION
   * OCCURRED, for every I_T nexus the transport names (its sessions to this array), the one
   * that asked included. The transport aborts the tasks itself.
   */
  logicalUnitReset(lun: number, nexuses: Iterable<string>): void {
    const lu = Number.isSafeInteger(lun) && lun >= 0 ? this.lus[lun] : undefined;
    if (!lu) return;
    for (const n of nexuses) lu.unitAttentions.set(n, ASC.BUS_DEVICE_RESET_FUNCTION_OCCURRED);
  }

  /** Executes one command (SAM-5 5.1 "Execute Command") on store media: never throws. */
  execute(initiator: string, lun: number, cdb: Uint8Array, dataOut?: Uint8Array, allocLen = 0, exported: readonly number[] | null = null): ScsiResult {
    try {
      const out = this.dispatch(initiator, lun, cdb, dataOut ?? new Uint8Array(0), exported);
      if ('status' in out) return out;
      return good((isMediaRun(out.run) ? runSync(out.run) : out.run) ?? undefined, allocLen);
    } catch (err) {
      return failed(err);
    }
  }

  /**
   * Runs the command at once when no step of it can wait (only store media in the fabric, nothing
   * queued), returning its result; null when it must go through executeAsync. Lets a transport
   * answer in the same turn, as before block-device media existed.
   */
  executeNow(initiator: string, lun: number, cdb: Uint8Array, dataOut?: Uint8Array, allocLen = 0, exported: readonly number[] | null = null): ScsiResult | null {
    if (this.queued !== 0 || this.fabric.hasBlockMedia || this.onClock(lun)) return null;
    return this.execute(initiator, lun, cdb, dataOut, allocLen, exported);
  }

  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;

  /**
   * Executes one command on any LU, awaiting a block device medium; never rejects. `exported`
   * narrows the LUNs this nexus sees to a transport's LUN map (REPORT LUNS, addressing).
   */
  executeAsync(initiator: string, lun: number, cdb: Uint8Array, dataOut?: Uint8Array, allocLen = 0, exported: readonly number[] | null = null): Promise<ScsiResult> {
    if (this.queued >= ARRAY_LIMITS.maxQueuedCommands) return Promise.resolve({ status: Status.TASK_SET_FULL, senseData: new Uint8Array(0), dataIn: new Uint8Array(0) });
    if (this.onClock(lun)) {
      // On the clock: dispatched now, answered at its modeled time (timed-run.ts); no queue.
      this.queued++;
      const lu = this.lus[lun]?.timing ? this.lus[lun]! : null;
      const p = executeOnClock(this, initiator, lu, cdb, allocLen, () => this.dispatch(initiator, lun, cdb, dataOut ?? new Uint8Array(0), exported));
      return p.finally(() => this.queued--);
    }
    const now = this.executeNow(initiator, lun, cdb, dataOut, allocLen, exported);
    if (now) return Promise.resolve(now);
    const run = async (): Promise<ScsiResult> => {
      try {
        const out = this.dispatch(initiator, lun, cdb, dataOut ?? new Uint8Array(0), exported);
        if ('status' in out) return out;
        return good((isMediaRun(out.run) ? await runAsync(out.run) : out.run) ?? undefined, allocLen);
      } catch (err) {
        return failed(err);
      } finally {
        this.queued--;
      }
    };
    this.queued++;
    const p = this.queue.then(run);
    this.queue = p;
    return p;
  }

  /**
   * Whether a command to `lun` runs on the clock: the LU has a timing model, or there is no LU
   * there and the array has one (REPORT LUNS, a bad LUN). An untimed LU of an array whose other
   * LUs have models of their own answers at once.
   */
  onClock(lun: number): boolean {
    if (!this.timed) return false;
    const lu = Number.isSafeInteger(lun) && lun >= 0 ? this.lus[lun] : undefined;
    return lu ? lu.timing !== null : this.timing !== null;
  }

  /** The model to charge commands that address no timed LU on (the array's). */
  anyTiming(): TimingModel | null {
    return this.timing ?? this.lus.find((l) => l.timing)?.timing ?? null;
  }

  private dispatch(initiator: string, lun: number, cdb: Uint8Array, dataOut: Uint8Array, exported: readonly number[] | null): ScsiResult | { run: ReturnType<CommandDef['run']> } {
    if (cdb.length < 6 || cdb.length > ARRAY_LIMITS.maxCdb) throw invalidFieldInCdb(0);
    if (dataOut.length > ARRAY_LIMITS.maxDataOut) throw illegal(ASC.PARAMETER_LIST_LENGTH_ERROR);
    const op = cdb[0]!;
    const sa = SA_OPCODES.has(op) ? cdb[1]! & 0x1f : undefined;
    const def = byKey.get(`${op}/${sa ?? ''}`);
    if (!def || (def.tpc && !this.copyManagerEnabled)) {
      if (!def && SA_OPCODES.has(op)) throw invalidFieldInCdb(1, 4); // known opcode, unknown service action
      throw illegal(ASC.INVALID_COMMAND_OPERATION_CODE);
    }
    if (cdb.length < def.cdbLength) throw invalidFieldInCdb(0);
    if (cdb[def.cdbLength - 1]! & 0x04) throw invalidFieldInCdb(def.cdbLength - 1, 2); // NACA
    const visible = Number.isSafeInteger(lun) && lun >= 0 && this.visibleLuns(initiator, exported).includes(lun);
    const lu = visible ? this.lus[lun]! : null;
    if (!lu && !def.noLu) throw illegal(ASC.LOGICAL_UNIT_NOT_SUPPORTED);
    const ua = lu && !UA_TRANSPARENT.has(op) ? lu.unitAttentions.get(initiator) : undefined;
    if (ua) {
      // Reported once, before any reservation check (SAM-5 5.14).
      lu!.unitAttentions.delete(initiator);
      throw new ScsiCheck(SenseKey.UNIT_ATTENTION, ua);
    }
    if (lu && def.access && lu.pr.conflicts(initiator, def.access)) return { status: Status.RESERVATION_CONFLICT, senseData: new Uint8Array(0), dataIn: new Uint8Array(0) };
    const ctx: CmdContext = { array: this, initiator, lun, lu, cdb, dataOut, exported };
    return { run: def.run(ctx) };
  }
}

/**
 * Commands a pending unit attention does not stop (SAM-5 5.14): INQUIRY and REPORT LUNS run and
 * leave it pending; REQUEST SENSE returns it as its sense data and clears it (spc.ts).
 */
const UA_TRANSPARENT: ReadonlySet<number> = new Set([Op.INQUIRY, Op.REPORT_LUNS, Op.REQUEST_SENSE]);
