/**
 * Files a scenario names (`data_file` of the nvme and scsi steps): resolved against the folder of
 * the scenario file (the working directory for a scenario from standard input or text, and for
 * shell lines), and refused when they lead out of it — by `..` or by a symbolic link anywhere on
 * the way, checked on the real path (realpath) that is then read — unless the user allowed it
 * (`--allow-outside-paths`). A scenario from someone else cannot make copylab read /etc/shadow
 * into a device and back out in a report.
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { BoundedReadError, isStdin, readFileBounded } from '../../core/util/read-bounded.js';
import type { Field } from './fields.js';

export interface DataFilePolicy {
  /** The folder data files resolve against and may not leave. */
  readonly base: string;
  /** Let paths leave `base` (`--allow-outside-paths`). */
  readonly allowOutside: boolean;
  /** Why no data file is read at all (a scenario that came off a queue names no file to read), or undefined. */
  readonly refuse?: string;
}

/** How a scenario is loaded: where its files live, and whether they may lie elsewhere. */
export interface ScenarioFileOptions {
  /** The folder data_file paths resolve against (default: the working directory). */
  readonly baseDir?: string;
  readonly allowOutsidePaths?: boolean;
  /** Refuse every data file, saying why (a scenario in a queued task: a worker reads no file a task names). */
  readonly noDataFiles?: string;
}

export function dataFilePolicy(o: ScenarioFileOptions = {}): DataFilePolicy {
  return { base: resolve(o.baseDir ?? process.cwd()), allowOutside: o.allowOutsidePaths === true, ...(o.noDataFiles !== undefined ? { refuse: o.noDataFiles } : {}) };
}

/** The folder of a scenario file (the working directory for standard input). */
export function scenarioFolder(file: string): string {
  return isStdin(file) ? process.cwd() : dirname(resolve(file));
}

const inside = (base: string, p: string): boolean => {
  const r = relative(base, p);
  return r === '' || (!isAbsolute(r) && r !== '..' && !r.startsWith(`..${sep}`));
};

/** The path to read for `name`, or why it may not be read (a ScenarioError from the field). */
function confined(f: Field, name: string, policy: DataFilePolicy): string {
  const full = resolve(policy.base, name);
  if (policy.allowOutside) return full;
  const hint = `(${policy.base}; --allow-outside-paths allows it)`;
  if (!inside(policy.base, full)) f.fail(`${name}: outside the scenario's folder ${hint}`);
  let real: string;
  let realBase: string;
  try {
    real = realpathSync(full);
    realBase = realpathSync(policy.base);
  } catch (err) {
    return f.fail(`${name}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!inside(realBase, real)) f.fail(`${name}: a symbolic link on its path leads outside the scenario's folder ${hint}`);
  // The real path is read, so a link swapped in after this check is not followed.
  return real;
}

/** The bytes of the file the field names, at most `maxBytes`; every problem fails the field. */
export function readDataFile(f: Field, policy: DataFilePolicy, maxBytes: number): Uint8Array {
  const name = f.str();
  if (policy.refuse !== undefined) return f.fail(`${name.slice(0, 100)}: ${policy.refuse}`);
  const path = confined(f, name, policy);
  try {
    return readFileBounded(path, maxBytes);
  } catch (err) {
    if (!(err instanceof BoundedReadError)) throw err;
    return f.fail(`${name}: ${err.message}`);
  }
}
