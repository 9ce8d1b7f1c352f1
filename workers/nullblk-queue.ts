/**
 * A device on its own thread: polls its submission ring while busy, spins for the next command
 * only as long as that pays (adaptive: not when work is sparse or the CPU is shared), then sleeps
 * with Atomics.wait (announcing NEED_WAKEUP first, as io_uring's SQPOLL thread does), runs
 * each command through the same device model the inline mode uses, and posts completions,
 * bumping the lab's doorbell (and waking it only when it waits).
 */
import { workerData, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { CMD, CPL, CTRL, QUEUE_FLAG, QUEUE_STATE, SRC, queueLayout, type DeviceWorkerData, type ShmMessage } from '../devices/worker/queue-layout.js';
import { DOORBELL } from '../src/core/block/completion-poller.js';
import { AdaptiveSpin } from '../src/core/block/adaptive-spin.js';
import { spinThenPark, type Parking } from '../src/core/thread/park.js';
import { MemoryBacking } from '../devices/backing/memory.js';
import { NullBlkModel, type ModelSource } from '../devices/nullblk/model.js';
import { Errno } from '../src/core/util/errno.js';

const data = workerData as DeviceWorkerData & { port: MessagePort };
const layout = queueLayout(data);
const ctrl = new Int32Array(data.queue, 0, CTRL.WORDS);
const view = new DataView(data.queue);
const doorbell = new Int32Array(data.doorbell);
const shm = new Map<number, SharedArrayBuffer>([[data.mediaId, data.media]]);
const backings = new Map<number, MemoryBacking>();
const model = new NullBlkModel(new MemoryBacking(data.mediaSize, data.media));
backings.set(data.mediaId, model.backing as MemoryBacking);
/** Longest single sleep; the loop re-checks STOP after it. */
const PARK_MS = 1000;

/** Shared memory by id, reading the port for ids not seen yet (posted before their command). */
function sharedMemory(id: number): SharedArrayBuffer | undefined {
  let sab = shm.get(id);
  while (!sab) {
    const m = receiveMessageOnPort(data.port);
    if (!m) return undefined;
    const msg = m.message as ShmMessage;
    shm.set(msg.id, msg.sab);
    if (msg.id === id) sab = msg.sab;
  }
  return sab;
}

function backingOf(id: number): MemoryBacking | undefined {
  let b = backings.get(id);
  if (!b) {
    const sab = sharedMemory(id);
    if (!sab) return undefined;
    b = new MemoryBacking(sab.byteLength, sab);
    backings.set(id, b);
  }
  return b;
}

function execute(at: number): number {
  const op = view.getUint8(at + CMD.OP);
  const nsrc = view.getUint16(at + CMD.NSRC, true);
  const tag = view.getUint32(at + CMD.TAG, true);
  const offset = view.getFloat64(at + CMD.OFFSET, true);
  const length = view.getFloat64(at + CMD.LENGTH, true);
  const bufId = view.getUint32(at + CMD.BUF_ID, true);
  let buf: Uint8Array | undefined;
  if (bufId !== 0) {
    const sab = sharedMemory(bufId);
    if (!sab) return -Errno.EFAULT;
    buf = new Uint8Array(sab, view.getFloat64(at + CMD.BUF_OFFSET, true), length);
  }
  let sources: ModelSource[] | undefined;
  if (nsrc > 0) {
    sources = [];
    let s = layout.srcOffset + tag * data.maxSources * SRC.SIZE;
    for (let i = 0; i < nsrc; i++, s += SRC.SIZE) {
      const backing = backingOf(view.getUint32(s + SRC.MEDIA_ID, true));
      if (!backing) return -Errno.EXDEV;
      sources.push({ backing, offset: view.getFloat64(s + SRC.OFFSET, true), length: view.getFloat64(s + SRC.LENGTH, true) });
    }
  }
  return model.execute(op, offset, length, buf, sources);
}

let sqHead = 0;
let cqTail = 0;
// Spin for the next command at most idle_us, as long as spinning pays (src/core/block/adaptive-spin.ts).
const spin = new AdaptiveSpin(Math.max(0, data.idleMicros));
const stopping = (): boolean => Atomics.load(ctrl, CTRL.STATE) === QUEUE_STATE.STOP;
const hasWork = (): boolean => Atomics.load(ctrl, CTRL.SQ_TAIL) !== sqHead || stopping();
const parking: Parking = { flag: { words: ctrl, index: CTRL.FLAGS, value: QUEUE_FLAG.NEED_WAKEUP }, on: { words: ctrl, index: CTRL.SQ_TAIL }, seen: () => sqHead, maxMs: PARK_MS };

for (;;) {
  const tail = Atomics.load(ctrl, CTRL.SQ_TAIL);
  if (tail !== sqHead) {
    while (sqHead !== tail) {
      const at = layout.sqOffset + (sqHead % data.depth) * CMD.SIZE;
      const tag = view.getUint32(at + CMD.TAG, true);
      let res: number;
      try {
        res = execute(at);
      } catch {
        res = -Errno.EIO;
      }
      const c = layout.cqOffset + (cqTail % data.depth) * CPL.SIZE;
      view.setUint32(c + CPL.TAG, tag, true);
      view.setInt32(c + CPL.RES, res, true);
      cqTail++;
      sqHead++;
    }
    Atomics.store(ctrl, CTRL.SQ_HEAD, sqHead);
    Atomics.store(ctrl, CTRL.CQ_TAIL, cqTail);
    Atomics.add(doorbell, DOORBELL.COUNTER, 1);
    if (Atomics.load(doorbell, DOORBELL.WAITING)) Atomics.notify(doorbell, DOORBELL.COUNTER);
    continue;
  }
  if (stopping()) break;
  // Spin, then announce NEED_WAKEUP and sleep on the SQ tail until a submit notifies.
  spinThenPark(spin, hasWork, parking);
}
data.port.close();
