/**
 * The plug-in shapes of the scenario format: a device kind and a step kind each live in a file
 * of their own (src/app/scenario/devices/, src/app/scenario/steps/) and are listed in registry.ts.
 * Parsing turns YAML into runnable steps; running never throws for I/O errors.
 */
import type { Lab } from '../lab.js';
import type { Trace } from '../../core/block/trace.js';
import type { Field } from './fields.js';
import type { ObjSpec } from './keys.js';

/** What a step reports; the runner adds step number, kind, errno name, wall time and trace. */
export interface StepOutcome {
  /** Device or sysfs path the step acted on. */
  readonly target: string;
  readonly ok: boolean;
  /** Bytes, 0 or a negative errno. */
  readonly res: number;
  readonly path?: string;
  readonly pieces?: number;
  readonly offloaded_pieces?: number;
  readonly bytes?: number;
  readonly host_bytes?: number;
  readonly value?: string;
  readonly reason?: string;
  readonly message?: string;
  /** Extra, step-specific fields for --json (CQEs of a ring step, NVMe status, …). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface ParsedStep {
  readonly kind: string;
  run(lab: Lab, trace: Trace): Promise<StepOutcome>;
}

export interface ParseContext {
  /** Block device names the scenario's devices provide (for /dev/NAME references). */
  readonly devices: ReadonlySet<string>;
  /** Resolves a device path key, failing with a message naming the key when it is unknown. */
  devPath(f: Field): string;
  /** The kind of device (nullblk, nvme, scsi; dm for the stack) that provides a /dev/NAME path. */
  kindOf(path: string): string | undefined;
  /** The bytes of the file a key names (data_file), at most maxBytes, within the scenario's folder (data-file.ts). */
  dataFile(f: Field, maxBytes: number): Uint8Array;
}

export interface StepDef {
  readonly kind: string;
  /** The step's keys: what the parser allows, the schema and `copylab explain` print. */
  readonly spec: ObjSpec;
  /** `body` is the step's mapping (the value under its kind). */
  parse(body: Field, ctx: ParseContext): ParsedStep;
}

export interface ParsedDevice {
  /** Block device names this entry creates (`nullb0`; a controller may create several). */
  readonly provides: readonly string[];
  create(lab: Lab): void;
}

export interface DeviceDef {
  readonly kind: string;
  /** The device's keys (with `kind`): what the parser allows, the schema and `copylab explain` print. */
  readonly spec: ObjSpec;
  parse(f: Field): ParsedDevice;
}
