/**
 * Ring SQEs: batches of 1-4 submission queue entries, each an opcode the ring knows (NOP, READ,
 * WRITE, READ_FIXED, WRITE_FIXED, FSYNC, DISCARD, WRITE_ZEROES, COPY with a range list,
 * URING_CMD) or any byte, with valid-looking fds, addresses inside and outside registered
 * buffers, lengths, offsets and flags (links, drain, skip-success), then mutated; a final
 * drained NOP (a chain of its own) marks the batch's end. Invariants: submission never throws; the batch completes
 * (its sentinel CQE arrives before the deadline); every CQE's res is an errno (negative) or a
 * byte count no larger than the request; a failed WRITE leaves the device unchanged; a canary
 * device the ring never opened is never touched.
 */
import { createHash } from 'node:crypto';
import { Lab } from '../../src/app/lab.js';
import { allocBuffer, type Ring, type Sqe } from '../../src/core/ring/ring.js';
import { IORING_OP, IOSQE } from '../../src/core/ring/opcodes.js';
import { SQE } from '../../src/core/ring/layout.js';
import { setCopyRange } from '../../src/core/ring/prep.js';
import type { Prng } from '../../src/core/util/prng.js';
import { invariant, type FuzzTarget } from '../engine.js';
import { chance, patterned, pick } from '../mutate.js';

const SIZE = 1 << 20;
const BUF = 256 * 1024;
const SENTINEL = 2 ** 52;

interface State {
  readonly lab: Lab;
  readonly ring: Ring;
  readonly fd: number;
  readonly base: number;
  readonly buf: Uint8Array;
  readonly canaryDigest: string;
  lastSqe: Sqe | null;
}

async function digest(lab: Lab, dev: string): Promise<string> {
  return createHash('sha1').update(await lab.read(dev, 0, SIZE)).digest('hex');
}

function fillSqe(s: State, rng: Prng, v: DataView, at: number, userData: number): { op: number; len: number } {
  const ops = Object.values(IORING_OP);
  const op = chance(rng, 0.9) ? pick(rng, ops) : rng.below(256);
  const len = chance(rng, 0.8) ? pick(rng, [0, 512, 4096, 8192, 65536]) : rng.nextU32();
  for (let i = 0; i < SQE.SIZE; i += 4) v.setUint32(at + i, chance(rng, 0.1) ? rng.nextU32() : 0, true);
  v.setUint8(at + SQE.OPCODE, op);
  v.setUint8(at + SQE.FLAGS, chance(rng, 0.7) ? 0 : chance(rng, 0.8) ? pick(rng, [IOSQE.IO_LINK, IOSQE.IO_HARDLINK, IOSQE.IO_DRAIN, IOSQE.CQE_SKIP_SUCCESS, IOSQE.ASYNC, IOSQE.FIXED_FILE]) : rng.below(256));
  v.setInt32(at + SQE.FD, chance(rng, 0.85) ? s.fd : pick(rng, [-1, 0, 99, s.fd + 1, 0x7fffffff]), true);
  const off = chance(rng, 0.85) ? rng.below(SIZE / 512 + 8) * 512 : rng.nextU32() * 4096;
  v.setUint32(at + SQE.OFF, off >>> 0, true);
  v.setUint32(at + SQE.OFF + 4, Math.floor(off / 2 ** 32), true);
  const addr = chance(rng, 0.85) ? s.base + rng.below(BUF) : pick(rng, [0, 1, s.base + BUF, 2 ** 52]);
  v.setUint32(at + SQE.ADDR, addr >>> 0, true);
  v.setUint32(at + SQE.ADDR + 4, Math.floor(addr / 2 ** 32), true);
  if (op === IORING_OP.COPY) {
    const nr = 1 + rng.below(3);
    const at0 = rng.below(BUF - 64 * nr);
    for (let i = 0; i < nr; i++) setCopyRange(s.buf.subarray(at0), i, chance(rng, 0.9) ? s.fd : rng.below(16), rng.below(SIZE / 512) * 512, rng.below(SIZE / 512) * 512, pick(rng, [512, 4096, 65536, rng.nextU32()]));
    const a = s.base + at0;
    v.setUint32(at + SQE.ADDR, a >>> 0, true);
    v.setUint32(at + SQE.ADDR + 4, Math.floor(a / 2 ** 32), true);
    v.setUint32(at + SQE.LEN, chance(rng, 0.9) ? nr : rng.nextU32(), true);
  } else v.setUint32(at + SQE.LEN, len >>> 0, true);
  v.setUint16(at + SQE.BUF_INDEX, chance(rng, 0.9) ? 0 : rng.below(4), true);
  v.setUint32(at + SQE.USER_DATA, userData >>> 0, true);
  v.setUint32(at + SQE.USER_DATA + 4, Math.floor(userData / 2 ** 32), true);
  return { op, len: op === IORING_OP.COPY ? Number.MAX_SAFE_INTEGER : len >>> 0 };
}

export const ringSqes: FuzzTarget<State> = {
  name: 'ring-sqe',
  what: 'ring SQEs: opcodes, flags, fds, addresses, lengths, copy range lists',
  weight: 2.5,
  async setup() {
    const lab = new Lab();
    lab.addNullBlk({ name: 'nullb0', size: SIZE, lbs: 512, backing: 'memory', copy_max_hw_bytes: SIZE });
    lab.addNullBlk({ name: 'nullb1', size: SIZE, lbs: 512, backing: 'memory' });
    await lab.write('/dev/nullb1', 0, patterned(SIZE, 33));
    const fd = lab.open('/dev/nullb0');
    const ring = lab.createRing({ entries: 16 });
    const buf = allocBuffer(BUF);
    buf.set(patterned(BUF, 34));
    const [base] = ring.registerBuffers([buf]);
    return { lab, ring, fd, base: base!, buf, canaryDigest: await digest(lab, '/dev/nullb1'), lastSqe: null };
  },
  async one(s, rng, index) {
    const n = 1 + rng.below(4);
    const shapes = new Map<number, { op: number; len: number }>();
    for (let i = 0; i < n; i++) {
      const sqe = s.ring.getSqe();
      invariant(sqe, 'no free SQE with the ring idle');
      const ud = index * 8 + i;
      shapes.set(ud, fillSqe(s, rng, sqe.view, sqe.offset, ud));
      s.lastSqe = sqe;
    }
    const first = shapes.get(index * 8)!;
    // The batch's last SQE ends its chain, so the drained sentinel is a chain of its own (a
    // failed chain completes at once, drain or not, as in io_uring).
    const last = s.lastSqe!;
    last.view.setUint8(last.offset + SQE.FLAGS, last.view.getUint8(last.offset + SQE.FLAGS) & ~(IOSQE.IO_LINK | IOSQE.IO_HARDLINK));
    const only = n === 1 && (first.op === IORING_OP.WRITE || first.op === IORING_OP.WRITE_FIXED) ? await digest(s.lab, '/dev/nullb0') : null;
    const end = s.ring.getSqe()!;
    for (let i = 0; i < SQE.SIZE; i++) end.view.setUint8(end.offset + i, 0);
    end.view.setUint8(end.offset + SQE.OPCODE, IORING_OP.NOP);
    end.view.setUint8(end.offset + SQE.FLAGS, IOSQE.IO_DRAIN);
    end.view.setUint32(end.offset + SQE.USER_DATA, SENTINEL >>> 0, true);
    end.view.setUint32(end.offset + SQE.USER_DATA + 4, Math.floor(SENTINEL / 2 ** 32), true);
    let done = false;
    const results: number[] = [];
    for (let round = 0; !done && round < 64; round++) {
      await s.ring.submitAndWait(1);
      for (let c = s.ring.peekCqe(); c; c = s.ring.peekCqe()) {
        if (c.user_data === SENTINEL) done = true;
        else {
          // Every CQE belongs to an SQE of this batch: the drained sentinel completes last.
          const shape = shapes.get(c.user_data);
          invariant(shape, `CQE for user_data ${c.user_data} arrived after its batch's drained NOP (case ${index})`);
          invariant(Number.isInteger(c.res) && c.res >= -4095 && c.res <= shape.len, `CQE res ${c.res} for opcode 0x${shape.op.toString(16)} of length ${shape.len}`);
          results.push(c.res);
        }
        s.ring.cqeSeen(c);
      }
    }
    invariant(done, 'the batch never completed');
    if (only !== null && results.length === 1 && results[0]! < 0) invariant((await digest(s.lab, '/dev/nullb0')) === only, `a WRITE that failed with ${results[0]} changed the device`);
  },
  async check(s) {
    invariant((await digest(s.lab, '/dev/nullb1')) === s.canaryDigest, 'the canary device changed');
  },
  async teardown(s) {
    s.ring.close();
    await s.lab.close();
  },
};
