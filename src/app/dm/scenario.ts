/**
 * The `stack` section of scenario files: dm devices built after `devices` and before `steps`,
 * in order (a table may name devices of earlier entries). Steps reach them as
 * /dev/mapper/NAME or /dev/dm-N.
 *
 *   stack:
 *     - dm: mirror
 *       table: |
 *         0 16384 raid raid1 1 0 2 - /dev/nullb0 - /dev/nullb1
 */
import type { Lab } from '../lab.js';
import type { Field } from '../scenario/fields.js';
import { k, type ObjSpec } from '../scenario/keys.js';

/** dm devices per scenario (a limit on everything). */
export const STACK_MAX_ENTRIES = 64;

export const STACK_ENTRY_SPEC: ObjSpec = {
  description: 'one dm device: /dev/mapper/NAME and /dev/dm-N (N counts from 0 in order)',
  keys: {
    dm: k.str('the dm device name (1-127 characters of [A-Za-z0-9_.+-])', { required: true, example: 'lin' }),
    table: k.str('its table in dmsetup syntax: one "start length target args…" line per target, sectors of 512 bytes', { required: true, example: '0 8192 linear /dev/nullb1 0' }),
  },
};

export interface StackDef {
  readonly name: string;
  readonly table: string;
}

export function parseStack(f: Field): StackDef[] {
  if (!f.present) return [];
  const seen = new Set<string>();
  return f.list(STACK_MAX_ENTRIES).map((e) => {
    e.obj(STACK_ENTRY_SPEC);
    const name = e.key('dm').required().str();
    if (!/^[A-Za-z0-9_.+-]{1,127}$/.test(name)) e.key('dm').fail('expected 1-127 characters of [A-Za-z0-9_.+-]');
    if (seen.has(name)) e.key('dm').fail(`duplicate dm device ${name}`);
    seen.add(name);
    return { name, table: e.key('table').required().str() };
  });
}

/** Block device names the stack provides: mapper/NAME and dm-N, in creation order. */
export function stackNames(defs: readonly StackDef[]): string[] {
  return defs.flatMap((d, i) => [`mapper/${d.name}`, `dm-${i}`]);
}

/** Creates the stack; returns a message naming the entry when a table is refused. */
export function createStack(lab: Lab, defs: readonly StackDef[]): string | null {
  for (const [i, d] of defs.entries()) {
    const r = lab.dm.create(d.name, d.table);
    if (r.res < 0) return `stack[${i}] (${d.name}): ${r.message}`;
  }
  return null;
}
