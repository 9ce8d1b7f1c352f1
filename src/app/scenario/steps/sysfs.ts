/** The sysfs step: read or write one attribute, expecting a value or an errno. */
import { errnoOk } from '../expect.js';
import type { StepDef } from '../types.js';
import { k, type ObjSpec } from '../keys.js';

const SYSFS_EXPECT: ObjSpec = {
  description: 'the value read back and/or the errno',
  keys: { errno: k.errno('the errno the read or write must fail with', { example: 'EINVAL' }), value: k.text('the value the attribute must read') },
};
export const SYSFS_SPEC: ObjSpec = {
  description: 'reads or writes one sysfs attribute',
  example: { read: '/sys/block/nullb0/queue/copy_max_hw_bytes', expect: '1048576' },
  keys: {
    read: k.str('the attribute to read (a path under /sys/)', { example: '/sys/block/nullb0/queue/copy_max_hw_bytes' }),
    write: k.str('the attribute to write (a path under /sys/)', { example: '/sys/block/nullb0/queue/copy_max_bytes' }),
    value: k.text('with write: the value to write', { example: '65536' }),
    expect: k.anyOf([k.text('the value as text'), k.obj(SYSFS_EXPECT)], 'text, or a mapping with errno and value', 'the value as text, or { errno, value }', { example: '1048576' }),
  },
};

export const sysfsStep: StepDef = {
  kind: 'sysfs',
  spec: SYSFS_SPEC,
  parse(body) {
    body.obj(SYSFS_SPEC);
    const hasRead = body.key('read').present;
    if (hasRead === body.key('write').present) body.fail('give exactly one of read or write');
    const pathField = hasRead ? body.key('read') : body.key('write');
    const path = pathField.str();
    if (!path.startsWith('/sys/')) pathField.fail('a sysfs path starts with /sys/');
    const e = body.key('expect');
    const expect: { errno?: number; value?: string } = {};
    if (e.present) {
      if (typeof e.value === 'string' || typeof e.value === 'number') expect.value = e.text();
      else {
        e.obj(SYSFS_EXPECT);
        if (e.key('errno').present) expect.errno = e.key('errno').errno();
        if (e.key('value').present) expect.value = e.key('value').text();
      }
    }
    let value: string | undefined;
    if (hasRead) {
      if (body.key('value').present) body.key('value').fail('value goes with write, not read');
    } else {
      value = body.key('value').required().text();
    }
    return {
      kind: 'sysfs',
      async run(lab) {
        const r = value === undefined ? lab.readSysfs(path) : lab.writeSysfs(path, value);
        const problems: string[] = [];
        const base = errnoOk(r.res, expect.errno);
        if (!base.ok) problems.push(r.message ? `${base.message}: ${r.message}` : base.message!);
        if (expect.value !== undefined && r.value?.trim() !== expect.value.trim()) {
          problems.push(`expected ${JSON.stringify(expect.value)}, got ${JSON.stringify(r.value ?? null)}`);
        }
        const message = problems.length ? problems.join('; ') : r.message;
        return { target: path, res: r.res, ok: problems.length === 0, ...(r.value !== undefined ? { value: r.value } : {}), ...(message ? { message } : {}) };
      },
    };
  },
};
