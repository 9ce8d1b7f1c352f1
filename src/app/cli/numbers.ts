/**
 * Numbers from the command line, checked against the field they go into before anything is
 * built: a value that does not fit is refused (exit 2, the message names the option), never
 * masked or truncated into the field.
 */

/** A command line the subcommand cannot use; the CLI prints the message and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Largest value of an unsigned field `bits` wide that a JavaScript number holds exactly. */
export const fieldMax = (bits: number): number => Math.min(2 ** bits - 1, Number.MAX_SAFE_INTEGER);

/** Common field widths. */
export const U8 = fieldMax(8);
export const U16 = fieldMax(16);
export const U32 = fieldMax(32);
export const U64 = fieldMax(64);

/**
 * An unsigned integer written in decimal or as 0x hex, in `min..max`; `option` names where it
 * came from (`--cdw10`, `--segment blocks`).
 */
export function cliInt(value: unknown, option: string, max: number, min = 0): number {
  const s = String(value ?? '').trim();
  if (!/^(?:0x[0-9a-f]+|\d+)$/i.test(s)) throw new UsageError(`${option}: expected an integer (decimal or 0x hex), got ${JSON.stringify(String(value ?? ''))}`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${option}: ${s} does not fit (${min}..${max}${max === U32 ? ', a 32-bit field' : max === U16 ? ', a 16-bit field' : max === U8 ? ', an 8-bit field' : ''})`);
  }
  return n;
}

/** A comma-separated list of such integers. */
export function cliIntList(value: string | undefined, option: string, max: number, min = 0): number[] {
  return value ? value.split(',').map((x) => cliInt(x, option, max, min)) : [];
}
