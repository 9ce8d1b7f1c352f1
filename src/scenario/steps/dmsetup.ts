/** The `dmsetup` step: one dmsetup command against the lab (`message mirror 0 fail 1`, `suspend x`…). */
import { dmsetup, dmsetupUsageError } from '../../dm/dmsetup.js';
import { errnoOk, parseErrnoExpect } from '../expect.js';
import type { StepDef } from '../types.js';

export const dmsetupStep: StepDef = {
  kind: 'dmsetup',
  parse(body) {
    body.obj(['cmd', 'table', 'expect']);
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
