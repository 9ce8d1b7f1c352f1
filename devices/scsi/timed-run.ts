/**
 * Command execution on the lab's clock, for arrays with a timing model (docs/scsi.md "Timing
 * and background copies"). What a command costs:
 *
 * | command | model call |
 * |---|---|
 * | READ, VERIFY, COMPARE AND WRITE's read | `read(offset, length)` per media read |
 * | WRITE, WRITE SAME, ORWRITE | `write(offset, length)` per media write |
 * | UNMAP, WRITE SAME with UNMAP, zero token | `discard` (a mapping update) |
 * | SYNCHRONIZE CACHE | `flush()` |
 * | POPULATE TOKEN | `populateToken()` |
 * | EXTENDED COPY segment, WRITE USING TOKEN piece | `copyManagerSegment` (the data mover), and `copy(source, dst)` per 1 MiB chunk as the mover reaches it (the media) |
 * | anything else (INQUIRY, MODE SENSE, errors) | `discard(0, 0)`: link latency + controller time |
 *
 * Offsets are the LU's `timingBase` plus the byte offset, so LUs sharing the array's model
 * contend for its dies, channels, link and copy manager. A plain command's bytes move when it
 * is dispatched (in arrival order, as executeAsync always ran them) and its answer comes at the
 * latest completion time of its media steps. A copy operation's steps instead run one after
 * the other: each waits for its modeled completion, then its bytes move (copy-operations.ts);
 * with IMMED the command is answered when the operation starts and the steps go on in the
 * background; an aborted foreground operation ends its command with TASK ABORTED (FreeBSD CTL
 * ctl_tpc.c does the same).
 */
import type { TimingModel } from '../timing/model.js';
import { Op, Status, TpcOutSa } from './constants.js';
import { failed, good, type ScsiResult } from './sense.js';
import { TPC_LIMITS } from './tpc-limits.js';
import type { LogicalUnit } from './lu.js';
import { blockOp, involvesBlockDevice, isMediaRun, storeOp, type MediaOp, type MediaRun, type StoreOrBlockOp } from './media.js';
import type { ScsiArray } from './array.js';
import type { RunningCopy } from './copy-operations.js';

type Dispatched = ScsiResult | { run: unknown };

/** Runs one command of a timed array; resolves with its answer at its modeled completion time. */
export function executeOnClock(array: ScsiArray, initiator: string, lu: LogicalUnit | null, cdb: Uint8Array, allocLen: number, dispatch: () => Dispatched): Promise<ScsiResult> {
  const model = lu?.timing ?? array.anyTiming()!;
  const clock = model.clock;
  return new Promise<ScsiResult>((resolve) => {
    let answered = false;
    const answer = (r: ScsiResult, t: number): void => {
      if (answered) return;
      answered = true;
      clock.at(t, () => resolve(r));
    };
    let out: Dispatched;
    try {
      out = dispatch();
    } catch (err) {
      return answer(failed(err), model.discard(0, 0));
    }
    if ('status' in out) return answer(out, model.discard(0, 0));
    if (!isMediaRun(out.run)) return answer(good((out.run as Uint8Array | void) ?? undefined, allocLen), plainCost(model, cdb));
    drive(array, initiator, out.run, model, allocLen, answer);
  });
}

/** What a command without media steps costs. */
function plainCost(model: TimingModel, cdb: Uint8Array): number {
  const op = cdb[0]!;
  if (op === Op.SYNCHRONIZE_CACHE_10 || op === Op.SYNCHRONIZE_CACHE_16) return model.flush();
  if (op === Op.THIRD_PARTY_COPY_OUT && (cdb[1]! & 0x1f) === TpcOutSa.POPULATE_TOKEN) return model.populateToken();
  return model.discard(0, 0); // controller time only
}

/**
 * Drives a command's media program on the clock. Callback-driven: a copy step's bytes move
 * inside the clock event of its modeled completion, and the next step is reserved from that
 * event's time, so steps follow each other at their modeled pace (in realtime too, whatever the
 * host's lateness). Never throws: every outcome is an answer.
 */
function drive(array: ScsiArray, initiator: string, g: MediaRun<Uint8Array | void>, model: TimingModel, allocLen: number, answer: (r: ScsiResult, t: number) => void): void {
  const clock = model.clock;
  let done = clock.now();
  let op: RunningCopy | null = null;
  const end = (r: ScsiResult, t: number): void => {
    if (op) array.copyOps.finish(op);
    answer(r, t);
  };
  const aborted = (): void => {
    try {
      g.return(undefined);
    } catch {
      // a handler's cleanup failing changes nothing: the operation is over
    }
    end({ status: Status.TASK_ABORTED, senseData: new Uint8Array(0), dataIn: new Uint8Array(0) }, clock.now());
  };
  /** Resumes the program with `input` (or throws `error` into it) and runs it until it must wait. */
  const resume = (input: unknown, error?: unknown): void => {
    try {
      let r = error !== undefined ? g.throw(error) : g.next(input);
      while (!r.done) {
        const m: MediaOp = r.value;
        if (m.kind === 'operation') {
          try {
            op = array.copyOps.start(initiator, m.rec, m.immed, clock);
          } catch (err) {
            r = g.throw(err);
            continue;
          }
          // IMMED: the command is done once the operation is under way (SPC-4 6.4.3.2).
          if (m.immed) answer(good(undefined, allocLen), Math.max(done, model.discard(0, 0)));
          r = g.next();
          continue;
        }
        if (op?.aborted) return aborted();
        if (involvesBlockDevice(m)) {
          // Another array's block device medium: its own timing (or none) applies.
          void blockOp(m).then((res) => {
            done = Math.max(done, clock.now());
            if (op?.aborted) return aborted();
            resume(res);
          }, (err: unknown) => resume(undefined, err));
          return;
        }
        // A copy operation's step waits for its modeled time unless aborted first; so does a move.
        const running = op;
        const wait = running ? (t: number, fn: () => void): void => void running.schedule(t, fn, aborted) : (t: number, fn: () => void): void => void clock.at(t, fn);
        if (m.kind === 'move') {
          const moverEnd = reserveMove(array, m, model, wait, (t) => {
            wait(t, () => {
              done = clock.now();
              apply(m);
            });
          });
          // ESTIMATED STATUS UPDATE DELAY: the status changes when this step ends (about when the mover does).
          if (running) running.rec.estimatedDelayMs = Math.max(1, Math.ceil((moverEnd - clock.now()) / 1e6));
          return;
        }
        const t = stepCost(m, model);
        if (running) {
          running.rec.estimatedDelayMs = Math.max(1, Math.ceil((t - clock.now()) / 1e6));
          wait(t, () => {
            done = clock.now();
            apply(m);
          });
          return;
        }
        if (t > done) done = t;
        let out: ReturnType<typeof storeOp>;
        try {
          out = storeOp(m);
        } catch (err) {
          r = g.throw(err); // a defect of the model: into the program, so its cleanup runs
          continue;
        }
        r = g.next(out);
      }
      end(good(r.value ?? undefined, allocLen), done);
    } catch (err) {
      end(failed(err), Math.max(done, clock.now()));
    }
  };
  /** Moves a step's bytes and resumes the program with the result, or throws the op's error into it (runSync). */
  const apply = (m: StoreOrBlockOp): void => {
    let out: ReturnType<typeof storeOp>;
    try {
      out = storeOp(m);
    } catch (err) {
      return resume(undefined, err);
    }
    resume(out);
  };
  resume(undefined);
}

/** Reserves a read, write or zero on the LU's model; returns its modeled completion time. */
function stepCost(m: Exclude<StoreOrBlockOp, { kind: 'move' }>, model: TimingModel): number {
  const mm = m.lu.timing ?? model;
  const at = m.lu.timingBase + m.lba * m.lu.lbs;
  switch (m.kind) {
    case 'read':
      return mm.read(at, m.blocks * m.lu.lbs);
    case 'write':
      return mm.write(at, m.data.length);
    case 'zero':
      return mm.discard(at, m.blocks * m.lu.lbs);
  }
}

/**
 * Reserves a move (an EXTENDED COPY segment, a WRITE USING TOKEN piece) at the copy manager's
 * pace: its data mover is booked for the whole move (`copyManagerSegment`: per-segment cost plus
 * bytes at xcopy_mbps), and the media work (`copy`: source reads, destination programs; another
 * model's LU across the fabric) is reserved one chunk (TPC_LIMITS.chunkBytes) at a time as the
 * mover gets to it, so foreground commands interleave with a long segment instead of queueing
 * behind all of it. `done` gets the move's completion: the mover's end or the last media work.
 * Returns when the mover will be done.
 */
function reserveMove(array: ScsiArray, m: Extract<StoreOrBlockOp, { kind: 'move' }>, model: TimingModel, wait: (t: number, fn: () => void) => void, done: (t: number) => void): number {
  const dstM = m.dst.timing ?? m.src.timing ?? model;
  const srcM = m.src.timing ?? dstM;
  const cm = array.timing ?? dstM;
  const start = model.clock.now();
  const moverEnd = cm.copyManagerSegment(m.length, start);
  const chunk = TPC_LIMITS.chunkBytes;
  const pieces = Math.max(1, Math.ceil(m.length / chunk));
  // The mover reaches chunk k after its per-segment cost and k chunks' worth of bytes.
  const first = Math.max(start, moverEnd - (m.length * 1000) / cm.params.xcopy_mbps);
  let mediaEnd = start;
  const reserve = (k: number): void => {
    const off = k * chunk;
    const n = Math.min(chunk, m.length - off);
    if (n > 0) mediaEnd = Math.max(mediaEnd, dstM.copy([{ model: srcM, offset: m.src.timingBase + m.srcOff + off, length: n }], m.dst.timingBase + m.dstOff + off, 0));
    if (k + 1 < pieces) wait(first + ((k + 1) * chunk * 1000) / cm.params.xcopy_mbps, () => reserve(k + 1));
    else done(Math.max(moverEnd, mediaEnd));
  };
  reserve(0);
  return moverEnd;
}
