/**
 * Messages between the lab's thread and the worker thread that runs a SCSI fabric's arrays
 * (`execution: worker`, worker-thread.ts and worker-entry.ts). Every request travels on one
 * port, so the thread sees them in the order the lab sent them; a synchronous request is
 * answered on a port the lab reads with receiveMessageOnPort after an Atomics.wait on the
 * shared flag, an asynchronous one on a port with a listener. Buffers are copies of exactly
 * the bytes of the command (a view into a larger buffer would clone all of it).
 */
import type { ScsiResult } from './sense.js';
import type { ScsiArrayOptions } from './array.js';
import type { CrashHow } from '../../src/core/thread/crash.js';

/** Words of the shared flag buffer. */
export const SYNC = {
  /** Bumped by the thread after it posted a synchronous answer; the lab waits on it. */
  ANSWERED: 0,
  WORDS: 1,
} as const;

/** Limits of the worker link (a limit on everything). */
export const SCSI_WORKER_LIMITS = {
  /** Longest wait for a synchronous answer before the thread counts as hung (ms). */
  syncTimeoutMs: 30_000,
  /** One Atomics.wait slice (ms). */
  waitSliceMs: 50,
  /** Asynchronous commands outstanding per fabric thread. */
  maxOutstanding: 4096,
} as const;

/** One command: the arguments of ScsiArray.execute / executeAsync. */
export interface CommandArgs {
  readonly array: string;
  readonly initiator: string;
  readonly lun: number;
  readonly cdb: Uint8Array;
  readonly dataOut: Uint8Array | null;
  readonly allocLen: number;
  readonly exported: readonly number[] | null;
}

/** What the lab keeps of an LU of an array on the worker (everything it reads synchronously). */
export interface LuSnapshot {
  readonly name: string;
  readonly lun: number;
  readonly lbs: 512 | 4096;
  readonly capacity: number;
  readonly naa: Uint8Array;
  readonly timing: LuTiming;
}

export interface ArraySnapshot {
  readonly name: string;
  readonly domain: string;
  readonly copyManagerEnabled: boolean;
  readonly lus: readonly LuSnapshot[];
}

/** An LU's timing on the worker: its own model, the array's, or none (the lab builds a copy of each to show). */
export type LuTiming = 'own' | 'array' | 'none';

export type Request =
  | { readonly op: 'addArray'; readonly options: ScsiArrayOptions }
  | { readonly op: 'execute'; readonly args: CommandArgs }
  /** `now`: the lab clock's time when the command was sent (its arrival on the worker's models). */
  | { readonly op: 'executeAsync'; readonly id: number; readonly now: number; readonly args: CommandArgs }
  /** An event the thread scheduled on the lab's clock (worker-clock.ts) is due at `now`. */
  | { readonly op: 'fire'; readonly id: number; readonly now: number }
  | { readonly op: 'visibleLuns'; readonly array: string; readonly initiator: string; readonly exported: readonly number[] | null }
  | { readonly op: 'reaches'; readonly array: string; readonly target: string; readonly viaTransport: boolean }
  | { readonly op: 'nexusLoss'; readonly array: string; readonly initiator: string }
  | { readonly op: 'logicalUnitReset'; readonly array: string; readonly lun: number; readonly nexuses: readonly string[] }
  /** Fault injection (tests only): the thread dies, `how`, inside the next synchronous request it gets. */
  | { readonly op: 'crashOnNextCall'; readonly how: CrashHow };


/** A synchronous answer: the value, or the message of the RangeError the thread threw. */
export type SyncAnswer = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/**
 * What the thread tells the lab on its one asynchronous port, in order: a command's answer, an
 * event to schedule on (or take off) the lab's clock, and `idle` once everything a request
 * (executeAsync or fire) set off at its instant has been posted: the lab holds its virtual clock
 * from sending the request until then.
 */
export type WorkerEvent =
  | { readonly kind: 'answer'; readonly id: number; readonly result: ScsiResult }
  | { readonly kind: 'at'; readonly id: number; readonly t: number }
  | { readonly kind: 'cancel'; readonly id: number }
  | { readonly kind: 'idle' };

/** A result whose buffers are exactly its bytes, ready to be transferred. */
export function ownResult(r: ScsiResult): { result: ScsiResult; transfer: ArrayBuffer[] } {
  const senseData = r.senseData.slice();
  const dataIn = r.dataIn.slice();
  return { result: { status: r.status, senseData, dataIn }, transfer: [senseData.buffer as ArrayBuffer, dataIn.buffer as ArrayBuffer] };
}
