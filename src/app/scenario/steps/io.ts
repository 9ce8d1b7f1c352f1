/** Data steps: fill (seeded pattern), verify (against a pattern or zeros), read, discard, write_zeroes, flush. */
import { ReqOp } from '../../../core/block/ops.js';
import { errnoName } from '../../../core/util/errno.js';
import { fillPattern, findPatternMismatch } from '../../../core/util/pattern.js';
import type { Field } from '../fields.js';
import { errnoOk, ioHint, ioOk, parseErrnoExpect } from '../expect.js';
import type { ParseContext, StepDef } from '../types.js';
import { k, type ObjSpec } from '../keys.js';
import { expectErrnoKey } from '../expect.js';

const dev = k.dev('the block device', { required: true, example: '/dev/nullb0' });
const offset = k.size('byte offset on the device', { default: 0 });
const seed = k.int(0, 2 ** 32 - 1, 'pattern seed: each byte depends only on the seed and its pattern offset', { example: 7 });
const patternOffset = k.size('pattern offset of the first byte (a copy\'s destination is checked against its source\'s pattern)', { default: 'offset' });

export const FILL_SPEC: ObjSpec = {
  description: 'writes a seeded pattern',
  keys: { dev, offset, length: k.size('bytes to write', { required: true, example: '4MiB' }), seed: { ...seed, required: true }, pattern_offset: patternOffset },
};
export const VERIFY_SPEC: ObjSpec = {
  description: 'reads a range and checks it against the pattern at pattern_offset, or against zeros',
  keys: { dev, offset, length: k.size('bytes to check', { required: true, example: '4MiB' }), seed, pattern_offset: patternOffset, zero: k.bool('check for zeros instead of a pattern'), expect: expectErrnoKey },
};
export const READ_SPEC: ObjSpec = {
  description: 'reads a range',
  keys: { dev, offset, length: k.size('bytes to read', { required: true, example: '4KiB' }), expect: expectErrnoKey },
};
const rangeSpec = (what: string): ObjSpec => ({
  description: what,
  keys: { dev, offset, length: k.size('bytes', { required: true, example: '1MiB' }), expect: expectErrnoKey },
});
export const FLUSH_SPEC: ObjSpec = { description: 'a FLUSH bio', keys: { dev, expect: expectErrnoKey } };
import type { Lab } from '../../lab.js';
import type { Trace } from '../../../core/block/trace.js';
import type { VerifyTask } from '../verify-chunk.js';

/** Bytes one fill/verify/read step may touch. */
export const IO_STEP_MAX_BYTES = 64 * 1024 ** 3;
/** Data moves in chunks of this size (bounded memory whatever the step length). */
const CHUNK = 4 * 1024 * 1024;
/** Verify steps at least this long check chunks on the lab's worker pool, in parallel. */
export const PARALLEL_VERIFY_BYTES = 16 * 1024 * 1024;

/**
 * Reads [offset, offset+length) chunk by chunk and has the pool compare each against the pattern
 * (seed null: zeros) while the next chunk is read. Returns the device offset of the first
 * mismatch, -1, or a negative errno from a read.
 */
async function verifyOnPool(lab: Lab, dev: string, offset: number, length: number, seed: number | null, patternOffset: number, trace: Trace): Promise<{ res: number; mismatch: number }> {
  // At most `window` chunks are being checked while one more is read: window + 1 buffers, reused
  // for the whole step, so memory does not grow with the step's length (nor wait for the GC).
  const window = lab.pool.threads * 2;
  const free: SharedArrayBuffer[] = [];
  const checks: { sab: SharedArrayBuffer; done: Promise<{ at: number; bad: number }> }[] = [];
  let first = -1;
  const settle = async (c: (typeof checks)[number]): Promise<void> => {
    const { at, bad } = await c.done;
    if (bad >= 0 && (first < 0 || at + bad < first)) first = at + bad;
    free.push(c.sab);
  };
  for (let done = 0; done < length; ) {
    const n = Math.min(CHUNK, length - done);
    const sab = free.pop() ?? new SharedArrayBuffer(CHUNK);
    const res = await lab.submit(dev, { op: ReqOp.READ, offset: offset + done, length: n, data: new Uint8Array(sab, 0, n) }, trace);
    if (res < 0) {
      await Promise.all(checks.map(settle));
      return { res, mismatch: -1 };
    }
    const at = done;
    checks.push({ sab, done: lab.pool.run<VerifyTask, number>('verify.task', { sab, length: n, seed, patternOffset: patternOffset + at }).then((bad) => ({ at, bad })) });
    if (checks.length >= window) await settle(checks.shift()!);
    done += n;
  }
  await Promise.all(checks.map(settle));
  return { res: length, mismatch: first < 0 ? -1 : offset + first };
}

function ioLength(f: Field): number {
  const n = f.required().size();
  if (n > IO_STEP_MAX_BYTES) f.fail(`at most ${IO_STEP_MAX_BYTES} bytes per step`);
  return n;
}

const offsetOf = (body: Field): number => (body.key('offset').present ? body.key('offset').size() : 0);
const seedOf = (f: Field): number => f.int(0, 2 ** 32 - 1);

export const fillStep: StepDef = {
  kind: 'fill',
  spec: FILL_SPEC,
  parse(body: Field, ctx: ParseContext) {
    body.obj(FILL_SPEC);
    const dev = ctx.devPath(body.key('dev'));
    const offset = offsetOf(body);
    const length = ioLength(body.key('length'));
    const seed = seedOf(body.key('seed').required());
    const patternOffset = body.key('pattern_offset').present ? body.key('pattern_offset').size() : offset;
    return {
      kind: 'fill',
      async run(lab, trace) {
        let done = 0;
        const chunk = new Uint8Array(Math.min(CHUNK, length));
        while (done < length) {
          const n = Math.min(CHUNK, length - done);
          const buf = chunk.subarray(0, n);
          fillPattern(buf, seed, patternOffset + done);
          const res = await lab.submit(dev, { op: ReqOp.WRITE, offset: offset + done, length: n, data: buf }, trace);
          if (res < 0) {
            const hint = ioHint(lab, dev, offset + done, n, res);
            return { target: dev, res, ok: false, bytes: done, message: `write at ${offset + done} failed with ${errnoName(res)}${hint ? `: ${hint}` : ''}` };
          }
          done += n;
        }
        return { target: dev, res: done, ok: true, bytes: done, host_bytes: done };
      },
    };
  },
};

function readLike(kind: 'verify' | 'read'): StepDef {
  const spec = kind === 'verify' ? VERIFY_SPEC : READ_SPEC;
  return {
    kind,
    spec,
    parse(body, ctx) {
      body.obj(spec);
      const dev = ctx.devPath(body.key('dev'));
      const offset = offsetOf(body);
      const length = ioLength(body.key('length'));
      let seed: number | null = null;
      let patternOffset = offset;
      if (kind === 'verify') {
        const zero = body.key('zero').present && body.key('zero').bool();
        if (zero === body.key('seed').present) body.fail('give either seed (a pattern) or zero: true');
        if (!zero) seed = seedOf(body.key('seed'));
        if (body.key('pattern_offset').present) patternOffset = body.key('pattern_offset').size();
      }
      const expectErrno = parseErrnoExpect(body);
      return {
        kind,
        async run(lab, trace) {
          if (kind === 'verify' && length >= PARALLEL_VERIFY_BYTES) {
            const r = await verifyOnPool(lab, dev, offset, length, seed, patternOffset, trace);
            if (r.res < 0) return { target: dev, res: r.res, ...ioOk(lab, dev, offset, length, r.res, expectErrno) };
            if (r.mismatch >= 0) {
              const what = seed === null ? 'zeros' : `pattern seed ${seed}`;
              return { target: dev, res: r.mismatch - offset, ok: false, bytes: r.mismatch - offset, message: `mismatch against ${what} at device offset ${r.mismatch}` };
            }
            return { target: dev, res: length, bytes: length, host_bytes: length, message: `verified on ${lab.pool.threads} pool thread(s)`, ...errnoOk(length, expectErrno) };
          }
          let done = 0;
          const chunk = new Uint8Array(Math.min(CHUNK, length));
          while (done < length) {
            const n = Math.min(CHUNK, length - done);
            const buf = chunk.subarray(0, n);
            const res = await lab.submit(dev, { op: ReqOp.READ, offset: offset + done, length: n, data: buf }, trace);
            if (res < 0) return { target: dev, res, bytes: done, ...ioOk(lab, dev, offset + done, n, res, expectErrno) };
            if (kind === 'verify') {
              const bad = seed === null ? buf.findIndex((b) => b !== 0) : findPatternMismatch(buf, seed, patternOffset + done);
              if (bad >= 0) {
                const what = seed === null ? 'zeros' : `pattern seed ${seed}`;
                return { target: dev, res: done + bad, ok: false, bytes: done + bad, message: `mismatch against ${what} at device offset ${offset + done + bad}` };
              }
            }
            done += n;
          }
          return { target: dev, res: done, bytes: done, host_bytes: done, ...errnoOk(done, expectErrno) };
        },
      };
    },
  };
}

export const verifyStep = readLike('verify');
export const readStep = readLike('read');

function rangeOp(kind: 'discard' | 'write_zeroes', op: ReqOp): StepDef {
  const spec = rangeSpec(kind === 'discard' ? 'a DISCARD bio over a range' : 'a WRITE_ZEROES bio over a range');
  return {
    kind,
    spec,
    parse(body, ctx) {
      body.obj(spec);
      const dev = ctx.devPath(body.key('dev'));
      const offset = offsetOf(body);
      const length = body.key('length').required().size();
      const expectErrno = parseErrnoExpect(body);
      return {
        kind,
        async run(lab, trace) {
          const res = await lab.submit(dev, { op, offset, length }, trace);
          return { target: dev, res, bytes: res < 0 ? 0 : length, ...ioOk(lab, dev, offset, length, res, expectErrno) };
        },
      };
    },
  };
}

export const discardStep = rangeOp('discard', ReqOp.DISCARD);
export const writeZeroesStep = rangeOp('write_zeroes', ReqOp.WRITE_ZEROES);

export const flushStep: StepDef = {
  kind: 'flush',
  spec: FLUSH_SPEC,
  parse(body, ctx) {
    body.obj(FLUSH_SPEC);
    const dev = ctx.devPath(body.key('dev'));
    const expectErrno = parseErrnoExpect(body);
    return {
      kind: 'flush',
      async run(lab, trace) {
        const res = await lab.submit(dev, { op: ReqOp.FLUSH, offset: 0, length: 0 }, trace);
        return { target: dev, res, ...errnoOk(res, expectErrno) };
      },
    };
  },
};
