/**
 * The ring step: prototype a submission batch without code. SQEs are described in YAML, put on
 * a fresh ring, submitted (in batches of the SQ size, so chains end at batch boundaries as they
 * do in io_uring), and the CQEs are checked against `expect` by user_data: a listed CQE that
 * never arrives, or one that arrives unlisted, fails the step.
 */
import { allocBuffer, type Ring } from '../../../core/ring/ring.js';
import { IOSQE } from '../../../core/ring/opcodes.js';
import { prepCopy, prepDiscard, prepFsync, prepNop, prepRead, prepWrite, prepWriteZeroes, setCopyRange, sqeSetData, sqeSetFlags } from '../../../core/ring/prep.js';
import { COPY_RANGE } from '../../../core/ring/layout.js';
import { fillPattern } from '../../../core/util/pattern.js';
import { Errno, errnoName } from '../../../core/util/errno.js';
import type { Field } from '../fields.js';
import type { StepDef } from '../types.js';
import { k, type ObjSpec } from '../keys.js';

/** Limits of one ring step. */
export const RING_STEP_LIMITS = { sqes: 4096, dataBytes: 256 * 1024 * 1024, rangesPerCopy: 1024 };

const FLAG_NAMES: Readonly<Record<string, number>> = {
  link: IOSQE.IO_LINK,
  hardlink: IOSQE.IO_HARDLINK,
  drain: IOSQE.IO_DRAIN,
  async: IOSQE.ASYNC,
  cqe_skip_success: IOSQE.CQE_SKIP_SUCCESS,
};

const OPS = ['nop', 'read', 'write', 'fsync', 'flush', 'discard', 'write_zeroes', 'copy'] as const;
type OpName = (typeof OPS)[number];

const RING_RANGE_SPEC: ObjSpec = {
  description: 'a COPY range entry',
  keys: {
    src_dev: k.dev('the source device', { default: 'dev' }),
    src: k.size('source byte offset', { required: true }),
    dst: k.size('destination byte offset', { required: true }),
    length: k.size('bytes', { required: true }),
  },
};
const SQE_SPEC: ObjSpec = {
  description: 'one SQE',
  keys: {
    op: k.oneOf(OPS, 'the operation', { required: true, example: 'read' }),
    dev: k.dev('the device (not for nop)', { example: '/dev/nullb0' }),
    offset: k.size('device byte offset', { default: 0 }),
    length: k.size('bytes (read, write, discard, write_zeroes)'),
    user_data: k.int(0, Number.MAX_SAFE_INTEGER, 'user_data, copied to the CQE', { default: 0 }),
    flags: k.list(k.oneOf(Object.keys(FLAG_NAMES), 'flag'), 8, 'IOSQE flags', { example: ['link'] }),
    seed: k.int(0, 2 ** 32 - 1, 'write: the seeded pattern written', { default: 1 }),
    ranges: k.list(k.obj(RING_RANGE_SPEC), RING_STEP_LIMITS.rangesPerCopy, 'copy: the ranges'),
  },
};
const CQE_SPEC: ObjSpec = {
  description: 'an expected CQE',
  keys: {
    user_data: k.int(0, Number.MAX_SAFE_INTEGER, 'the SQE\'s user_data', { required: true }),
    res: k.anyOf([k.int(-(2 ** 31), 2 ** 31 - 1, 'res'), k.errno('an errno name')], 'integer or errno name', 'the CQE\'s res: bytes, 0, or a negative errno (-ECANCELED)', { required: true, example: 4096 }),
  },
};
export const RING_SPEC: ObjSpec = {
  description: 'a submission batch on an io_uring-style ring; CQEs are checked by user_data (docs/ring.md)',
  keys: {
    entries: k.int(1, 32768, 'SQ size', { default: 8 }),
    cq_entries: k.int(1, 65536, 'CQ size', { default: '2 × entries' }),
    submit: k.list(k.obj(SQE_SPEC), RING_STEP_LIMITS.sqes, 'the SQEs, in order; more than entries go in several submits', { required: true, example: [{ op: 'read', dev: '/dev/nullb0', offset: 0, length: '4KiB', user_data: 1 }] }),
    expect: k.list(k.obj(CQE_SPEC), RING_STEP_LIMITS.sqes, 'the CQEs that must arrive (and no others)', { example: [{ user_data: 1, res: 4096 }] }),
  },
};

interface SqeSpec {
  readonly op: OpName;
  readonly dev: string | null;
  readonly offset: number;
  readonly length: number;
  readonly userData: number;
  readonly flags: number;
  readonly seed: number;
  readonly ranges: readonly { srcDev: string | null; src: number; dst: number; length: number }[];
}

/** A CQE value written as a number or an errno name (`-ECANCELED`, `ECANCELED`). */
function resValue(f: Field): number {
  if (typeof f.value === 'number' && Number.isInteger(f.value)) return f.value;
  return -f.errno();
}

export const ringStep: StepDef = {
  kind: 'ring',
  spec: RING_SPEC,
  parse(body, ctx) {
    body.obj(RING_SPEC);
    const entries = body.key('entries').present ? body.key('entries').int(1, 32768) : 8;
    const cqEntries = body.key('cq_entries').present ? body.key('cq_entries').int(1, 65536) : undefined;
    let dataBytes = 0;
    const sqes: SqeSpec[] = body.key('submit').required().list(RING_STEP_LIMITS.sqes).map((f) => {
      f.obj(SQE_SPEC);
      const op = f.key('op').required().oneOf(OPS);
      const dev = op === 'nop' ? null : ctx.devPath(f.key('dev'));
      if (op === 'nop' && f.key('dev').present) f.key('dev').fail('a nop names no device');
      let flags = 0;
      if (f.key('flags').present) {
        for (const x of f.key('flags').list(8)) flags |= FLAG_NAMES[x.oneOf(Object.keys(FLAG_NAMES))]!;
      }
      const length = f.key('length').present ? f.key('length').size() : 0;
      if (op === 'read' || op === 'write') {
        if (!f.key('length').present) f.key('length').fail('is required');
        dataBytes += length;
        if (length > 2 ** 32 - 1) f.key('length').fail('at most 4 GiB per SQE (len is a u32)');
      }
      const ranges = op === 'copy'
        ? f.key('ranges').required().list(RING_STEP_LIMITS.rangesPerCopy).map((r) => {
            r.obj(RING_RANGE_SPEC);
            return { srcDev: r.key('src_dev').present ? ctx.devPath(r.key('src_dev')) : null, src: r.key('src').required().size(), dst: r.key('dst').required().size(), length: r.key('length').required().size() };
          })
        : [];
      if (op !== 'copy' && f.key('ranges').present) f.key('ranges').fail('ranges go with op: copy');
      return {
        op,
        dev,
        offset: f.key('offset').present ? f.key('offset').size() : 0,
        length,
        userData: f.key('user_data').present ? f.key('user_data').int(0, Number.MAX_SAFE_INTEGER) : 0,
        flags,
        seed: f.key('seed').present ? f.key('seed').int(0, 2 ** 32 - 1) : 1,
        ranges,
      };
    });
    if (dataBytes > RING_STEP_LIMITS.dataBytes) body.key('submit').fail(`read and write data of one ring step is limited to ${RING_STEP_LIMITS.dataBytes} bytes`);
    let expect: { userData: number; res: number }[] | null = null;
    if (body.key('expect').present) {
      expect = body.key('expect').list(RING_STEP_LIMITS.sqes).map((e) => {
        e.obj(CQE_SPEC);
        return { userData: e.key('user_data').required().int(0, Number.MAX_SAFE_INTEGER), res: resValue(e.key('res').required()) };
      });
    }
    const target = sqes.find((s) => s.dev)?.dev ?? 'ring';
    return {
      kind: 'ring',
      async run(lab) {
        let ring: Ring;
        try {
          ring = lab.createRing({ entries, ...(cqEntries ? { cqEntries } : {}) });
        } catch (err) {
          return { target, res: -Errno.EINVAL, ok: false, message: (err as Error).message };
        }
        const fds = new Map<string, number>();
        const fdOf = (p: string): number => {
          let fd = fds.get(p);
          if (fd === undefined) fds.set(p, (fd = lab.open(p)));
          return fd;
        };
        const nRanges = sqes.reduce((n, s) => n + s.ranges.length, 0);
        const data = allocBuffer(Math.max(1, dataBytes));
        const rangeBuf = allocBuffer(Math.max(1, nRanges * COPY_RANGE.SIZE));
        const [dataBase, rangeBase] = ring.registerBuffers([data, rangeBuf]);
        const cqes: { user_data: number; res: number }[] = [];
        const reap = (): void => {
          for (let c = ring.peekCqe(); c; c = ring.peekCqe()) {
            cqes.push({ user_data: c.user_data, res: c.res });
            ring.cqeSeen(c);
          }
        };
        let dataAt = 0;
        let rangeAt = 0;
        try {
          for (let i = 0; i < sqes.length; ) {
            let queued = 0;
            while (i < sqes.length && queued < ring.sqEntries) {
              const s = sqes[i++]!;
              const sqe = ring.getSqe()!;
              const fd = s.dev ? fdOf(s.dev) : -1;
              switch (s.op) {
                case 'nop': prepNop(sqe); break;
                case 'read': prepRead(sqe, fd, dataBase! + dataAt, s.length, s.offset); dataAt += s.length; break;
                case 'write':
                  fillPattern(data.subarray(dataAt, dataAt + s.length), s.seed, s.offset);
                  prepWrite(sqe, fd, dataBase! + dataAt, s.length, s.offset);
                  dataAt += s.length;
                  break;
                case 'fsync': case 'flush': prepFsync(sqe, fd); break;
                case 'discard': prepDiscard(sqe, fd, s.offset, s.length); break;
                case 'write_zeroes': prepWriteZeroes(sqe, fd, s.offset, s.length); break;
                case 'copy': {
                  s.ranges.forEach((r, k) => setCopyRange(rangeBuf, rangeAt + k, r.srcDev ? fdOf(r.srcDev) : -1, r.src, r.dst, r.length));
                  prepCopy(sqe, fd, rangeBase! + rangeAt * COPY_RANGE.SIZE, s.ranges.length);
                  rangeAt += s.ranges.length;
                  break;
                }
              }
              sqeSetData(sqe, s.userData);
              sqeSetFlags(sqe, s.flags);
              queued++;
            }
            const submitted = ring.submit();
            if (submitted < 0) return { target, res: submitted, ok: false, message: `submit failed with ${errnoName(submitted)}` };
            // Wait for everything in flight (io_uring would block in io_uring_enter with GETEVENTS).
            while (ring.consumer.busy) {
              reap();
              if (ring.consumer.busy) await ring.consumer.nextEvent();
            }
            reap();
          }
        } finally {
          ring.close();
          for (const fd of fds.values()) lab.closeFd(fd);
        }
        const problems: string[] = [];
        if (expect) {
          const left = [...cqes];
          for (const e of expect) {
            const k = left.findIndex((c) => c.user_data === e.userData);
            if (k < 0) problems.push(`no CQE for user_data ${e.userData}`);
            else {
              const got = left.splice(k, 1)[0]!;
              if (got.res !== e.res) problems.push(`user_data ${e.userData}: expected res ${fmt(e.res)}, got ${fmt(got.res)}`);
            }
          }
          for (const c of left) problems.push(`unexpected CQE user_data ${c.user_data} res ${fmt(c.res)}`);
        } else {
          for (const c of cqes) if (c.res < 0) problems.push(`user_data ${c.user_data} failed with ${fmt(c.res)}`);
        }
        return {
          target,
          res: cqes.length,
          ok: problems.length === 0,
          message: problems.length ? problems.join('; ') : `${sqes.length} SQE(s), ${cqes.length} CQE(s): ${cqes.map((c) => `${c.user_data}→${fmt(c.res)}`).join(' ')}`,
          details: { cqes },
        };
      },
    };
  },
};

function fmt(res: number): string {
  return res < 0 ? `-${errnoName(res)}` : String(res);
}
