/** The copy step: ranges onto one destination through the copy engine, with expectations on how it went. */
import { COPY_STRATEGIES, type CopyPath, type CopyStrategy } from '../../../core/block/copy/types.js';
import { errnoOk } from '../expect.js';
import { spaceHint } from '../space-hint.js';
import { Errno } from '../../../core/util/errno.js';
import type { StepDef } from '../types.js';
import { k, type ObjSpec } from '../keys.js';

/** Ranges one copy step may list. */
export const COPY_STEP_MAX_RANGES = 65536;

const RANGE_SPEC: ObjSpec = {
  description: 'one copy range: length bytes from src (on src_dev) to dst on the destination device',
  keys: {
    src_dev: k.dev('the source device', { default: 'dev' }),
    src: k.size('source byte offset', { required: true, example: 0 }),
    dst: k.size('destination byte offset', { required: true, example: '32MiB' }),
    length: k.size('bytes', { required: true, example: '4MiB' }),
  },
};
const COPY_EXPECT: ObjSpec = {
  description: 'how the copy should go (default: success)',
  keys: {
    path: k.oneOf(['offload', 'emulated', 'mixed', 'none'], 'offload, emulated, mixed (some pieces each way) or none (nothing copied)'),
    pieces: k.int(0, 2 ** 31, 'how many pieces the engine made'),
    bytes: k.size('bytes copied'),
    host_bytes: k.size('bytes moved through host buffers: 0 offloaded, 2 × length emulated'),
    errno: k.errno('the errno the copy must fail with', { example: 'EINVAL' }),
  },
};
export const COPY_SPEC: ObjSpec = {
  description: 'copies ranges onto dev through the copy engine (REQ_OP_COPY): offloaded where the devices can, emulated otherwise',
  keys: {
    dev: k.dev('the destination device', { required: true, example: '/dev/nullb0' }),
    ranges: k.list(k.obj(RANGE_SPEC), COPY_STEP_MAX_RANGES, 'the ranges', { required: true, example: [{ src: 0, dst: '32MiB', length: '4MiB' }] }),
    fallback: k.bool('overrides the lab\'s fallback for this step'),
    strategy: k.oneOf(COPY_STRATEGIES, 'overrides the lab\'s copy strategy for this step'),
    expect: k.obj(COPY_EXPECT, { example: { path: 'offload', pieces: 4 } }),
  },
};


export const copyStep: StepDef = {
  kind: 'copy',
  spec: COPY_SPEC,
  parse(body, ctx) {
    body.obj(COPY_SPEC);
    const dev = ctx.devPath(body.key('dev'));
    const ranges = body.key('ranges').required().list(COPY_STEP_MAX_RANGES).map((r) => {
      r.obj(RANGE_SPEC);
      return {
        src: r.key('src_dev').present ? ctx.devPath(r.key('src_dev')) : dev,
        srcOffset: r.key('src').required().size(),
        dstOffset: r.key('dst').required().size(),
        length: r.key('length').required().size(),
      };
    });
    const fallback = body.key('fallback').present ? body.key('fallback').bool() : undefined;
    const strategy = body.key('strategy').present ? body.key('strategy').oneOf<CopyStrategy>(COPY_STRATEGIES) : undefined;
    const e = body.key('expect');
    const expect: { path?: CopyPath; pieces?: number; bytes?: number; host_bytes?: number; errno?: number } = {};
    if (e.present) {
      e.obj(COPY_EXPECT);
      if (e.key('path').present) expect.path = e.key('path').oneOf<CopyPath>(['offload', 'emulated', 'mixed', 'none']);
      if (e.key('pieces').present) expect.pieces = e.key('pieces').int(0, 2 ** 31);
      if (e.key('bytes').present) expect.bytes = e.key('bytes').size();
      if (e.key('host_bytes').present) expect.host_bytes = e.key('host_bytes').size();
      if (e.key('errno').present) expect.errno = e.key('errno').errno();
    }
    return {
      kind: 'copy',
      async run(lab, trace) {
        const r = await lab.copy(dev, ranges, { ...(fallback === undefined ? {} : { fallback }), ...(strategy ? { strategy } : {}) }, trace);
        const problems: string[] = [];
        const base = errnoOk(r.res, expect.errno);
        if (!base.ok) {
          const hint = r.res === -Errno.ENOSPC ? spaceHint(lab, [dev]) : undefined;
          problems.push([base.message, r.message, hint].filter(Boolean).join(': '));
        }
        if (expect.path !== undefined && r.path !== expect.path) problems.push(`expected path ${expect.path}, got ${r.path}`);
        if (expect.pieces !== undefined && r.pieces.length !== expect.pieces) problems.push(`expected ${expect.pieces} pieces, got ${r.pieces.length}`);
        if (expect.bytes !== undefined && r.bytes !== expect.bytes) problems.push(`expected ${expect.bytes} bytes, got ${r.bytes}`);
        if (expect.host_bytes !== undefined && r.host_bytes !== expect.host_bytes) problems.push(`expected ${expect.host_bytes} host bytes, got ${r.host_bytes}`);
        const reason = r.reasons.join('; ') || undefined;
        return {
          target: dev,
          res: r.res,
          ok: problems.length === 0,
          path: r.path,
          pieces: r.pieces.length,
          offloaded_pieces: r.pieces.filter((p) => p.path === 'offload' && p.res >= 0).length,
          bytes: r.bytes,
          host_bytes: r.host_bytes,
          ...(reason ? { reason } : {}),
          details: { strategy: r.strategy, offloaded_bytes: r.offloaded_bytes, emulated_bytes: r.emulated_bytes, reasons: r.reasons },
          ...(problems.length ? { message: problems.join('; ') } : r.message ? { message: r.message } : {}),
        };
      },
    };
  },
};
