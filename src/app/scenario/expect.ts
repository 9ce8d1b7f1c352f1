/** Shared expectation helpers for steps. */
import { createHash } from 'node:crypto';
import { Errno, errnoName } from '../../core/util/errno.js';
import { formatSize } from '../../core/util/size.js';
import type { Lab } from '../lab.js';
import type { Field } from './fields.js';
import { k, type KeySpec, type ObjSpec } from './keys.js';
import { spaceHint } from './space-hint.js';

/** `expect: { errno }` of steps that only succeed or fail. */
export const ERRNO_EXPECT: ObjSpec = {
  description: 'what the step should end with (default: success)',
  keys: { errno: k.errno('the errno the step must fail with', { example: 'EINVAL' }) },
};
export const expectErrnoKey: KeySpec = k.obj(ERRNO_EXPECT, { example: { errno: 'EIO' } });

/** ok when the result is what the step expected: the named errno, or success. */
export function errnoOk(res: number, expectErrno: number | undefined): { ok: boolean; message?: string } {
  if (expectErrno !== undefined) {
    if (res === -expectErrno) return { ok: true };
    return { ok: false, message: `expected ${errnoName(expectErrno)}, got ${res < 0 ? errnoName(res) : `success (${res})`}` };
  }
  return res < 0 ? { ok: false, message: `failed with ${errnoName(res)}` } : { ok: true };
}

/** Why an I/O at offset+length of dev was refused, with what would pass; undefined when no rule applies. */
export function ioHint(lab: Lab, dev: string, offset: number, length: number, res: number): string | undefined {
  const d = lab.findDevice(dev);
  if (!d) return undefined;
  const lbs = d.limits.logical_block_size;
  if (res === -Errno.EINVAL) {
    const near = (n: number): string => `${formatSize(Math.floor(n / lbs) * lbs)} or ${formatSize(Math.ceil(n / lbs) * lbs)}`;
    if (offset % lbs) return `offset ${offset} is not a multiple of ${dev}'s logical block size (${lbs}): use ${near(offset)}`;
    if (length % lbs) return `length ${length} is not a multiple of ${dev}'s logical block size (${lbs}): use ${near(length)}`;
  }
  if (res < 0 && offset + length > d.capacity) return `${offset} + ${length} goes past the end of ${dev} (${formatSize(d.capacity)}, ${d.capacity} bytes)`;
  if (res === -Errno.ENOSPC) return spaceHint(lab, [dev]);
  return undefined;
}

/** errnoOk for an I/O, with ioHint's reason appended to a failure. */
export function ioOk(lab: Lab, dev: string, offset: number, length: number, res: number, expectErrno: number | undefined): { ok: boolean; message?: string } {
  const c = errnoOk(res, expectErrno);
  if (c.ok) return c;
  const hint = ioHint(lab, dev, offset, length, res);
  return hint ? { ok: false, message: `${c.message}: ${hint}` } : c;
}

/** Parses an optional `expect: { errno }` (plus other allowed keys the caller reads itself). */
export function parseErrnoExpect(body: Field, allowed: readonly string[] = ['errno']): number | undefined {
  const e = body.key('expect');
  if (!e.present) return undefined;
  e.obj(allowed.length === 1 && allowed[0] === 'errno' ? ERRNO_EXPECT : allowed);
  return e.key('errno').present ? e.key('errno').errno() : undefined;
}

/**
 * How returned data differs from the bytes a step expected (`first differs at byte 12: got …`) (`prefix`: only the expected bytes'
 * length is compared), or undefined when it does not. Names the first differing offset, both
 * lengths and a digest of what came back, never the bytes: the data may be a file's contents.
 */
export function dataDifference(got: Uint8Array, want: Uint8Array, prefix: boolean): string | undefined {
  const n = Math.min(got.length, want.length);
  let at = 0;
  while (at < n && got[at] === want[at]) at++;
  if (at === want.length && (prefix || got.length === want.length)) return undefined;
  const digest = createHash('sha256').update(got).digest('hex').slice(0, 16);
  const where = at < n ? `first differs at byte ${at}` : `${got.length < want.length ? 'shorter' : 'longer'} than expected`;
  const bytes = (n: number): string => `${n} byte${n === 1 ? '' : 's'}`;
  return `${where}: got ${bytes(got.length)} (sha256 ${digest}…), expected ${prefix ? 'a prefix of ' : ''}${bytes(want.length)}`;
}
