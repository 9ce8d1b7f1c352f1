/**
 * Per-request trace events in blktrace's vocabulary (blkparse(1) "Trace actions"):
 * Q queued, X split, A remapped, D issued to the driver, C completed; copylab adds
 * E emulated (with the reason the copy engine did not offload) and M, a message from a layer
 * above the block layer (blktrace's `m`, blk_add_trace_msg): the file system's copy decisions,
 * whose sector and length are the destination file's.
 */
import { OP_RWBS, SECTOR_SIZE, type ReqOp } from './ops.js';
import { errnoName } from '../util/errno.js';
import type { TraceSink } from '../trace/record.js';

/** What a trace reads modeled time from (the lab's Clock). */
export interface ModeledTimeSource {
  now(): number;
}

export type TraceAction = 'Q' | 'X' | 'A' | 'D' | 'C' | 'E' | 'M';

export interface TraceEvent {
  /** Wall nanoseconds since the request was queued. */
  readonly ns: number;
  /** Modeled nanoseconds since the request was queued (docs/timing.md); 0 on an untimed lab. */
  readonly mns: number;
  readonly action: TraceAction;
  readonly dev: string;
  readonly op: ReqOp;
  /** Start and length in 512-byte sectors, as blktrace prints them. */
  readonly sector: number;
  readonly sectors: number;
  /** Completion result for C (bytes or negative errno). */
  readonly res?: number;
  /** Free text: split piece, remap origin, emulation reason. */
  readonly info?: string;
  /** A remap (A): the device and sector it came from (blktrace's blk_io_trace_remap). */
  readonly from?: string;
  readonly fromSector?: number;
}

/** What an event may carry beside its position. */
export interface TraceExtra {
  readonly res?: number;
  readonly info?: string;
  readonly from?: string;
  readonly fromSector?: number;
}

/** Events kept per request; beyond it only a count is kept (a limit on everything). */
export const TRACE_MAX_EVENTS = 65536;

export class Trace {
  readonly events: TraceEvent[] = [];
  dropped = 0;
  /** C events recorded (whether the request reached a completion in the block layer). */
  completions = 0;
  /** The last C recorded: its device, extent (sectors) and result. */
  private lastC?: { readonly dev: string; readonly sector: number; readonly sectors: number; readonly res: number | undefined };
  private readonly t0 = process.hrtime.bigint();
  private readonly m0: number;

  /**
   * `clock`: the lab's clock, so events carry modeled time next to wall time. With a `sink`,
   * every event also streams to it (trace files), tagged with request `req`; `keep` false then
   * keeps none in memory (a request of a long run whose events only go to the file).
   */
  constructor(private readonly clock?: ModeledTimeSource, private readonly sink?: TraceSink, readonly req?: number, private readonly keep = true) {
    this.m0 = clock ? clock.now() : 0;
  }

  /** Modeled nanoseconds since the request was queued. */
  modeledNs(): number {
    return this.clock ? this.clock.now() - this.m0 : 0;
  }

  add(action: TraceAction, dev: string, op: ReqOp, offset: number, length: number, extra?: TraceExtra): void {
    const sector = Math.floor(offset / SECTOR_SIZE);
    const sectors = Math.ceil(length / SECTOR_SIZE);
    this.sink?.event({ ...(this.req !== undefined ? { req: this.req } : {}), ...(this.clock ? { mns: this.clock.now() } : {}), dev, action, op, sector, sectors, ...extra });
    if (action === 'C') {
      this.completions++;
      this.lastC = { dev, sector, sectors, res: extra?.res };
    }
    if (!this.keep) return;
    if (this.events.length >= TRACE_MAX_EVENTS) {
      this.dropped++;
      return;
    }
    this.events.push({
      ns: Number(process.hrtime.bigint() - this.t0),
      mns: this.clock ? this.clock.now() - this.m0 : 0,
      action,
      dev,
      op,
      sector,
      sectors,
      ...extra,
    });
  }

  /**
   * Whether the last completion recorded was `dev`'s of exactly this extent with result `res`:
   * a request the device carried out as one command (or one emulated write) completed there, and
   * a second C for it would count it twice (blkparse's "Writes Completed", btt's pairs).
   */
  lastCompletionIs(dev: string, offset: number, length: number, res: number): boolean {
    const c = this.lastC;
    return c !== undefined && c.dev === dev && c.sector === Math.floor(offset / SECTOR_SIZE) && c.sectors === Math.ceil(length / SECTOR_SIZE) && c.res === res;
  }

  /**
   * blkparse-like lines: `nullb0  0.000012345  Q  CP 0 + 8192 [info]`. With `modeled`, the time
   * column is modeled time and wall time follows in braces.
   */
  format(modeled = false): string {
    const width = Math.max(6, ...this.events.map((e) => e.dev.length));
    const lines = this.events.map((e) => formatTraceLine(e, modeled ? e.mns : e.ns, width, modeled ? e.ns : undefined));
    if (this.dropped) lines.push(`(${this.dropped} more events not kept)`);
    return lines.join('\n');
  }
}

/** One blkparse-like line: device, seconds, action, RWBS, sector + sectors, [result], [info]. */
export function formatTraceLine(e: Pick<TraceEvent, 'action' | 'dev' | 'op' | 'sector' | 'sectors' | 'res' | 'info'>, ns: number, devWidth = 6, wallInBraces?: number): string {
  const t = (ns / 1e9).toFixed(9).padStart(12) + (wallInBraces !== undefined ? ` {${(wallInBraces / 1e9).toFixed(6)}}` : '');
  const rwbs = OP_RWBS[e.op].padEnd(3);
  let tail = '';
  if (e.res !== undefined) tail = e.res < 0 ? ` [${e.res} ${errnoName(e.res)}]` : ` [${e.res}]`;
  if (e.info) tail += ` [${e.info}]`;
  return `${e.dev.padEnd(devWidth)} ${t}  ${e.action}  ${rwbs} ${e.sector} + ${e.sectors}${tail}`;
}
