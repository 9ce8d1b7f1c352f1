/** The copy step: ranges onto one destination through the copy engine, with expectations on how it went. */
import { COPY_STRATEGIES, type CopyPath, type CopyStrategy } from '../../block/copy-types.js';
import { errnoOk } from '../expect.js';
import type { StepDef } from '../types.js';

/** Ranges one copy step may list. */
export const COPY_STEP_MAX_RANGES = 65536;

export const copyStep: StepDef = {
  kind: 'copy',
  parse(body, ctx) {
    body.obj(['dev', 'ranges', 'fallback', 'strategy', 'expect']);
    const dev = ctx.devPath(body.key('dev'));
    const ranges = body.key('ranges').required().list(COPY_STEP_MAX_RANGES).map((r) => {
      r.obj(['src_dev', 'src', 'dst', 'length']);
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
      e.obj(['path', 'pieces', 'bytes', 'host_bytes', 'errno']);
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
        if (!base.ok) problems.push(base.message!);
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
