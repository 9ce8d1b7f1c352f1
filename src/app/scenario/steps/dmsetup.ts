/** The `dmsetup` step: one dmsetup command against the lab (`message mirror 0 fail 1`, `suspend x`…). */
import { dmsetup, dmsetupUsageError } from '../../dm/dmsetup.js';
import { errnoOk, expectErrnoKey, parseErrnoExpect } from '../expect.js';
import type { StepDef } from '../types.js';
import { k, type ObjSpec } from '../keys.js';

export const DMSETUP_SPEC: ObjSpec = {
  description: 'one dmsetup command on the lab (create, table, status, info, reload, suspend, resume, remove, ls, message); the output is the step\'s value',
  keys: {
    cmd: k.str('the dmsetup command line without the table (the table only with create and reload)', { required: true, example: 'reload lin' }),
    table: k.str('the table for create or reload (dmsetup syntax, sectors of 512 bytes)', { example: '0 8192 linear /dev/nullb1 0' }),
    expect: expectErrnoKey,
  },
};

export const dmsetupStep: StepDef = {
  kind: 'dmsetup',
  spec: DMSETUP_SPEC,
  parse(body) {
    body.obj(DMSETUP_SPEC);
    const argv = body.key('cmd').required().str().trim().split(/\s+/);
    if (body.key('table').present) argv.push('--table', body.key('table').str());
    const bad = dmsetupUsageError(argv);
    if (bad) body.key('cmd').fail(bad);
    const expectErrno = parseErrnoExpect(body);
    return {
      kind: 'dmsetup',
      async run(lab) {
        const r = await dmsetup(lab, argv);
        const check = errnoOk(r.res, expectErrno);
        return {
          target: argv.slice(0, 2).join(' '),
          res: r.res,
          ok: check.ok,
          ...(r.output ? { value: r.output } : {}),
          ...(check.message ? { message: `${check.message}${r.message ? `: ${r.message}` : ''}` } : r.message ? { message: r.message } : {}),
        };
      },
    };
  },
};
