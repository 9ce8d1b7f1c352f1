import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/app/lab.js';
import { Ring, allocBuffer, type Cqe } from '../../src/core/ring/ring.js';
import { IOSQE, IORING_OP } from '../../src/core/ring/opcodes.js';
import { prepNop, prepRead, prepWrite, prepReadFixed, prepCopy, prepFsync, prepDiscard, prepUringCmd, prepRw, sqeSetData, sqeSetFlags, setCopyRange } from '../../src/core/ring/prep.js';
import { ReqOp } from '../../src/core/block/ops.js';
import { Errno } from '../../src/core/util/errno.js';
import { pattern, MiB } from '../helpers.js';

function setup(entries = 8, cqEntries?: number) {
  const lab = new Lab();
  lab.addNullBlk({ name: 'nullb0', size: MiB, lbs: 4096, backing: 'memory', copy_max_hw_bytes: MiB });
  const fd = lab.open('/dev/nullb0');
  const ring = lab.createRing({ entries, ...(cqEntries ? { cqEntries } : {}) });
  const buf = allocBuffer(256 * 1024);
  const [base] = ring.registerBuffers([buf]);
  return { lab, fd, ring, buf, base: base! };
}

/** Reaps every ready CQE as { user_data, res }. */
function reap(ring: Ring): { user_data: number; res: number }[] {
  const out: { user_data: number; res: number }[] = [];
  let c: Cqe | null;
  while ((c = ring.peekCqe())) {
    out.push({ user_data: c.user_data, res: c.res });
    ring.cqeSeen(c);
  }
  return out;
}

function add(ring: Ring, prep: (s: NonNullable<ReturnType<Ring['getSqe']>>) => void, userData: number, flags = 0) {
  const sqe = ring.getSqe();
  if (!sqe) throw new Error('SQ full');
  prep(sqe);
  sqeSetData(sqe, userData);
  sqeSetFlags(sqe, flags);
}

describe('ring basics', () => {
  it('NOP completes with res 0 and the user_data it was given (up to 2^53)', async () => {
    const { ring } = setup();
    add(ring, prepNop, 2 ** 53 - 1);
    add(ring, prepNop, 7);
    expect(await ring.submitAndWait(2)).toBe(2);
    expect(reap(ring)).toEqual([{ user_data: 2 ** 53 - 1, res: 0 }, { user_data: 7, res: 0 }]);
  });

  it('writes and reads through registered buffers; data round-trips', async () => {
    const { lab, ring, fd, buf, base } = setup();
    buf.set(pattern(8192, 3), 0);
    add(ring, (s) => prepWrite(s, fd, base, 8192, 64 * 1024), 1);
    add(ring, (s) => prepReadFixed(s, fd, base + 16384, 8192, 64 * 1024, 0), 2);
    await ring.submitAndWait(2);
    expect(reap(ring)).toEqual([{ user_data: 1, res: 8192 }, { user_data: 2, res: 8192 }]);
    expect(buf.subarray(16384, 16384 + 8192)).toEqualBytes(pattern(8192, 3));
    expect(await lab.read('nullb0', 64 * 1024, 8192)).toEqualBytes(pattern(8192, 3));
  });

  it('a read crossing the end of the device is short; at the end it returns 0; a write there is -ENOSPC', async () => {
    const { ring, fd, base } = setup();
    add(ring, (s) => prepRead(s, fd, base, 8192, MiB - 4096), 1);
    add(ring, (s) => prepRead(s, fd, base, 4096, MiB), 2);
    add(ring, (s) => prepWrite(s, fd, base, 4096, MiB), 3);
    await ring.submitAndWait(3);
    expect(reap(ring)).toEqual([{ user_data: 1, res: 4096 }, { user_data: 2, res: 0 }, { user_data: 3, res: -Errno.ENOSPC }]);
  });

  it('getSqe returns null when the SQ is full, and SQEs are free again after submit', () => {
    const { ring } = setup(4);
    for (let i = 0; i < 4; i++) expect(ring.getSqe()).not.toBeNull();
    expect(ring.getSqe()).toBeNull();
    expect(ring.sqSpaceLeft()).toBe(0);
    expect(ring.submit()).toBe(4);
    expect(ring.getSqe()).not.toBeNull();
  });

  it('copies through a COPY SQE whose range list lives in a registered buffer', async () => {
    const { lab, ring, fd, buf, base } = setup();
    await lab.write('nullb0', 0, pattern(64 * 1024, 9));
    setCopyRange(buf, 0, -1, 0, 512 * 1024, 32 * 1024);
    setCopyRange(buf, 1, fd, 32 * 1024, 512 * 1024 + 32 * 1024, 32 * 1024);
    add(ring, (s) => prepCopy(s, fd, base, 2), 5);
    await ring.submitAndWait(1);
    expect(reap(ring)).toEqual([{ user_data: 5, res: 64 * 1024 }]);
    expect(await lab.read('nullb0', 512 * 1024, 64 * 1024)).toEqualBytes(pattern(64 * 1024, 9));
    expect(lab.device('nullb0').stats.ios.copy).toBe(1);
  });

  it('refuses bad ring parameters with EINVAL', () => {
    const lab = new Lab();
    expect(() => lab.createRing({ entries: 0 })).toThrow(/EINVAL/);
    expect(() => lab.createRing({ entries: 65536 })).toThrow(/EINVAL/);
    expect(() => lab.createRing({ entries: 8, cqEntries: 4 })).toThrow(/EINVAL/);
    expect(lab.createRing({ entries: 5 }).sqEntries).toBe(8);
  });
});

describe('bad SQEs complete with an errno and touch nothing', () => {
  it('unknown opcode, bad fd, bad fixed index, buffer out of range, bad flags, no passthrough', async () => {
    const { lab, ring, fd, base, buf } = setup(16);
    buf.fill(0xee);
    add(ring, (s) => prepRw(s, 0x7f, fd, base, 4096, 0), 1); // unknown opcode
    add(ring, (s) => prepWrite(s, 99, base, 4096, 0), 2); // fd not open
    add(ring, (s) => prepWrite(s, 5, base, 4096, 0), 3, IOSQE.FIXED_FILE); // no registered file 5
    add(ring, (s) => prepWrite(s, fd, base + 256 * 1024 - 4096, 8192, 0), 4); // runs past the buffer
    add(ring, (s) => prepWrite(s, fd, 12345, 4096, 0), 5); // not in any registered buffer
    add(ring, (s) => prepReadFixed(s, fd, base, 4096, 0, 3), 6); // buf_index 3 not registered
    add(ring, (s) => prepWrite(s, fd, base, 4096, 0), 7, IOSQE.BUFFER_SELECT); // unsupported flag
    add(ring, (s) => prepWrite(s, fd, base, 4096, 0), 8, 0x80); // unknown flag bit
    add(ring, (s) => prepUringCmd(s, fd, 0, new Uint8Array(16)), 9); // nullblk has no passthrough
    await ring.submitAndWait(9);
    expect(reap(ring)).toEqual([
      { user_data: 1, res: -Errno.EINVAL },
      { user_data: 2, res: -Errno.EBADF },
      { user_data: 3, res: -Errno.EBADF },
      { user_data: 4, res: -Errno.EFAULT },
      { user_data: 5, res: -Errno.EFAULT },
      { user_data: 6, res: -Errno.EFAULT },
      { user_data: 7, res: -Errno.EINVAL },
      { user_data: 8, res: -Errno.EINVAL },
      { user_data: 9, res: -Errno.ENOTSUP },
    ]);
    expect((await lab.read('nullb0', 0, 8192)).every((b) => b === 0)).toBe(true);
    expect(lab.device('nullb0').stats.ios.write).toBe(0);
  });

  it('a bad SQE inside a link chain fails it, and the rest of the chain is cancelled without running', async () => {
    const { lab, ring, fd, base, buf } = setup();
    buf.fill(1);
    add(ring, (s) => prepWrite(s, fd, base, 4096, 0), 1, IOSQE.IO_LINK);
    add(ring, (s) => prepWrite(s, 99, base, 4096, 4096), 2, IOSQE.IO_LINK);
    add(ring, (s) => prepWrite(s, fd, base, 4096, 8192), 3);
    await ring.submitAndWait(3);
    expect(reap(ring)).toEqual([
      { user_data: 1, res: -Errno.ECANCELED },
      { user_data: 2, res: -Errno.EBADF },
      { user_data: 3, res: -Errno.ECANCELED },
    ]);
    expect((await lab.read('nullb0', 0, 12288)).every((b) => b === 0)).toBe(true);
  });
});

describe('link, hardlink, drain, skip-success', () => {
  it('IO_LINK: a failure cancels the rest of the chain with -ECANCELED', async () => {
    const { lab, ring, fd, base } = setup();
    lab.device('nullb0').faults.add(ReqOp.WRITE, Errno.EIO);
    add(ring, (s) => prepWrite(s, fd, base, 4096, 0), 1, IOSQE.IO_LINK);
    add(ring, (s) => prepWrite(s, fd, base, 4096, 4096), 2, IOSQE.IO_LINK);
    add(ring, prepNop, 3);
    add(ring, prepNop, 4); // not in the chain
    await ring.submitAndWait(4);
    expect(reap(ring)).toEqual([
      { user_data: 1, res: -Errno.EIO },
      { user_data: 2, res: -Errno.ECANCELED },
      { user_data: 3, res: -Errno.ECANCELED },
      { user_data: 4, res: 0 },
    ]);
    expect(lab.device('nullb0').stats.ios.write).toBe(0);
  });

  it('IO_LINK: a short read breaks the chain', async () => {
    const { ring, fd, base } = setup();
    add(ring, (s) => prepRead(s, fd, base, 8192, MiB - 4096), 1, IOSQE.IO_LINK);
    add(ring, prepNop, 2);
    await ring.submitAndWait(2);
    expect(reap(ring)).toEqual([{ user_data: 1, res: 4096 }, { user_data: 2, res: -Errno.ECANCELED }]);
  });

  it('IO_HARDLINK: the chain goes on after a failure', async () => {
    const { lab, ring, fd, base } = setup();
    lab.device('nullb0').faults.add(ReqOp.WRITE, Errno.EIO);
    add(ring, (s) => prepWrite(s, fd, base, 4096, 0), 1, IOSQE.IO_HARDLINK);
    add(ring, (s) => prepWrite(s, fd, base, 4096, 4096), 2);
    await ring.submitAndWait(2);
    expect(reap(ring)).toEqual([{ user_data: 1, res: -Errno.EIO }, { user_data: 2, res: 4096 }]);
  });

  it('a chain ends at the submit boundary even when its last SQE has IO_LINK', async () => {
    const { lab, ring, fd, base } = setup();
    lab.device('nullb0').faults.add(ReqOp.WRITE, Errno.EIO);
    add(ring, (s) => prepWrite(s, fd, base, 4096, 0), 1, IOSQE.IO_LINK);
    ring.submit();
    add(ring, prepNop, 2);
    ring.submit();
    expect(reap(ring)).toEqual([{ user_data: 1, res: -Errno.EIO }, { user_data: 2, res: 0 }]);
  });

  it('IO_DRAIN starts only after earlier SQEs complete, and later SQEs wait for it', async () => {
    const { ring } = setup();
    add(ring, prepNop, 1, IOSQE.ASYNC); // completes on a later turn
    add(ring, prepNop, 2, IOSQE.ASYNC);
    add(ring, prepNop, 3, IOSQE.IO_DRAIN);
    add(ring, prepNop, 4);
    await ring.submitAndWait(4);
    expect(reap(ring).map((c) => c.user_data)).toEqual([1, 2, 3, 4]);
    // Without the drain, the inline NOP overtakes the async ones.
    add(ring, prepNop, 1, IOSQE.ASYNC);
    add(ring, prepNop, 2);
    await ring.submitAndWait(2);
    expect(reap(ring).map((c) => c.user_data)).toEqual([2, 1]);
  });

  it('CQE_SKIP_SUCCESS: no CQE on success, a CQE on failure', async () => {
    const { ring, fd, base } = setup();
    add(ring, prepNop, 1, IOSQE.CQE_SKIP_SUCCESS);
    add(ring, (s) => prepWrite(s, fd, base, 4096, MiB), 2, IOSQE.CQE_SKIP_SUCCESS);
    add(ring, prepNop, 3);
    await ring.submitAndWait(2);
    expect(reap(ring)).toEqual([{ user_data: 2, res: -Errno.ENOSPC }, { user_data: 3, res: 0 }]);
  });

  it('waiting with nothing in flight rejects instead of hanging', async () => {
    const { ring } = setup();
    await expect(ring.waitCqe()).rejects.toThrow(/EAGAIN/);
  });
});

describe('CQ overflow', () => {
  it('a CQ smaller than the work: completions wait aside, nothing is lost, each is reaped once', async () => {
    const { ring } = setup(4, 4);
    const seen: number[] = [];
    let next = 0;
    // Submit 4 batches of 4 without reaping: the CQ holds 4, the rest overflow.
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < 4; i++) add(ring, prepNop, next++);
      expect(ring.submit()).toBe(4);
    }
    expect(ring.overflowed).toBe(true);
    for (let i = 0; i < 4; i++) add(ring, prepNop, next++);
    expect(ring.submit()).toBe(-Errno.EBUSY); // overflow entries cannot be flushed: nothing consumed
    for (const c of reap(ring)) seen.push(c.user_data);
    expect(ring.overflowed).toBe(false);
    expect(ring.submit()).toBe(4);
    for (let i = 0; i < 4; i++) add(ring, prepNop, next++);
    ring.submit();
    for (let k = 0; k < 10 && seen.length < next; k++) for (const c of reap(ring)) seen.push(c.user_data);
    expect(seen).toEqual(Array.from({ length: next }, (_, i) => i));
  });
});

describe('IORING_OP values are io_uring\'s', () => {
  it('NOP 0, FSYNC 3, READ_FIXED 4, WRITE_FIXED 5, READ 22, WRITE 23, URING_CMD 46', () => {
    expect([IORING_OP.NOP, IORING_OP.FSYNC, IORING_OP.READ_FIXED, IORING_OP.WRITE_FIXED, IORING_OP.READ, IORING_OP.WRITE, IORING_OP.URING_CMD]).toEqual([0, 3, 4, 5, 22, 23, 46]);
    expect([IOSQE.FIXED_FILE, IOSQE.IO_DRAIN, IOSQE.IO_LINK, IOSQE.IO_HARDLINK, IOSQE.ASYNC, IOSQE.BUFFER_SELECT, IOSQE.CQE_SKIP_SUCCESS]).toEqual([1, 2, 4, 8, 16, 32, 64]);
  });

  it('fsync and discard through the ring', async () => {
    const { lab, ring, fd } = setup();
    await lab.write('nullb0', 0, pattern(8192, 1));
    add(ring, (s) => prepFsync(s, fd), 1);
    add(ring, (s) => prepDiscard(s, fd, 0, 8192), 2);
    await ring.submitAndWait(2);
    expect(reap(ring)).toEqual([{ user_data: 1, res: 0 }, { user_data: 2, res: 0 }]);
    expect((await lab.read('nullb0', 0, 8192)).every((b) => b === 0)).toBe(true);
  });
});
