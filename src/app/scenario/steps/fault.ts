/** The fault step: make the block layer fail the next matching bios of a device. */
import { ReqOp } from '../../../core/block/ops.js';
import { MAX_FAULT_RULES } from '../../../core/block/fault.js';
import { ScenarioError } from '../fields.js';
import { Errno, errnoName } from '../../../core/util/errno.js';
import type { StepDef } from '../types.js';
import { k, type ObjSpec } from '../keys.js';

const FAULT_OPS: Readonly<Record<string, ReqOp>> = {
  read: ReqOp.READ,
  write: ReqOp.WRITE,
  flush: ReqOp.FLUSH,
  discard: ReqOp.DISCARD,
  write_zeroes: ReqOp.WRITE_ZEROES,
  copy: ReqOp.COPY,
};

export const FAULT_SPEC: ObjSpec = {
  description: 'makes the block layer fail the next count bios of op on a device (after skip matching ones)',
  keys: {
    dev: k.dev('the device', { required: true, example: '/dev/nullb0' }),
    op: k.oneOf(Object.keys(FAULT_OPS), 'the operation to fail', { required: true, example: 'copy' }),
    errno: k.errno('the errno the bios complete with', { default: 'EIO' }),
    count: k.int(1, 1_000_000, 'how many bios fail', { default: 1 }),
    skip: k.int(0, 1_000_000, 'matching bios to let through first', { default: 0 }),
  },
};

export const faultStep: StepDef = {
  kind: 'fault',
  spec: FAULT_SPEC,
  parse(body, ctx) {
    body.obj(FAULT_SPEC);
    const dev = ctx.devPath(body.key('dev'));
    const op = FAULT_OPS[body.key('op').required().oneOf(Object.keys(FAULT_OPS))]!;
    const errno = body.key('errno').present ? body.key('errno').errno() : Errno.EIO;
    const count = body.key('count').present ? body.key('count').int(1, 1_000_000) : 1;
    const skip = body.key('skip').present ? body.key('skip').int(0, 1_000_000) : 0;
    return {
      kind: 'fault',
      async run(lab) {
        const faults = lab.device(dev).faults;
        // Rules are used up as bios fail, so only the run can tell when a device has too many:
        // the scenario is then unusable (exit 2), as a bad key would be.
        if (faults.active >= MAX_FAULT_RULES) throw new ScenarioError(`${body.where}: ${dev} already has ${MAX_FAULT_RULES} fault rules that have not fired (at most ${MAX_FAULT_RULES} per device)`);
        faults.add(op, errno, count, skip);
        return { target: dev, res: 0, ok: true, message: `next ${count} matching bio(s) after ${skip} fail with ${errnoName(errno)}` };
      },
    };
  },
};
