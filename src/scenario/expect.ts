/** Shared expectation helpers for steps. */
import { errnoName } from '../util/errno.js';
import type { Field } from './fields.js';
import { k, type KeySpec, type ObjSpec } from './keys.js';

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

/** Parses an optional `expect: { errno }` (plus other allowed keys the caller reads itself). */
export function parseErrnoExpect(body: Field, allowed: readonly string[] = ['errno']): number | undefined {
  const e = body.key('expect');
  if (!e.present) return undefined;
  e.obj(allowed.length === 1 && allowed[0] === 'errno' ? ERRNO_EXPECT : allowed);
  return e.key('errno').present ? e.key('errno').errno() : undefined;
}
