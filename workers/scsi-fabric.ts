/**
 * The arrays of one SCSI fabric on their own thread (`execution: worker`): the same ScsiFabric,
 * ScsiArray, copy manager, access checks, LUN maps, persistent reservations and ROD tokens as
 * inline, built here from the options the lab sends. The fabric is the SCSI copy domain, so an
 * EXTENDED COPY or a token copy between two of its arrays stays on this thread. Requests arrive
 * on one port in the lab's order (worker-protocol.ts); commands run through ScsiArray.execute or
 * executeAsync exactly as the lab's thread would call them.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { ScsiFabric, type ScsiArray } from '../devices/scsi/array.js';
import { ownResult, SYNC, type CommandArgs, type Request, type ArraySnapshot, type SyncAnswer, type WorkerEvent } from '../devices/scsi/worker-protocol.js';
import { holdLifeline } from '../src/core/thread/lifeline.js';
import { crashThread, type CrashHow } from '../src/core/thread/crash.js';
import { RemoteClock } from '../devices/scsi/worker-clock.js';
import { failed, type ScsiResult } from '../devices/scsi/sense.js';

interface ScsiWorkerData {
  readonly sync: SharedArrayBuffer;
  readonly lifeline: SharedArrayBuffer;
  readonly requests: MessagePort;
  readonly syncAnswers: MessagePort;
  readonly asyncAnswers: MessagePort;
}

const data = workerData as ScsiWorkerData;
const flag = new Int32Array(data.sync);
const post = (e: WorkerEvent, transfer: ArrayBuffer[] = []): void => data.asyncAnswers.postMessage(e, transfer);
const clock = new RemoteClock(post);
// A lab thread waiting for a synchronous answer wakes when this thread exits, and sees why.
holdLifeline(data.lifeline, () => {
  Atomics.add(flag, SYNC.ANSWERED, 1);
  Atomics.notify(flag, SYNC.ANSWERED);
});
/** An injected crash waiting for the next synchronous request (fault-injection tests). */
let crashNext: CrashHow | null = null;
const fabric = new ScsiFabric(clock);

function arrayOf(name: string): ScsiArray {
  const a = fabric.arrays.get(name);
  if (!a) throw new RangeError(`no array ${name} on this thread`);
  return a;
}

function snapshot(a: ScsiArray): ArraySnapshot {
  return {
    name: a.name,
    domain: a.domain,
    copyManagerEnabled: a.copyManagerEnabled,
    lus: a.lus.map((lu) => ({ name: lu.name, lun: lu.lun, lbs: lu.lbs, capacity: lu.capacity, naa: lu.naa.slice(), timing: lu.timing === null ? 'none' : lu.timing === a.timing ? 'array' : 'own' })),
  };
}

const dataOutOf = (c: CommandArgs): Uint8Array | undefined => c.dataOut ?? undefined;

function answerSync(a: SyncAnswer, transfer: ArrayBuffer[] = []): void {
  data.syncAnswers.postMessage(a, transfer);
  Atomics.add(flag, SYNC.ANSWERED, 1);
  Atomics.notify(flag, SYNC.ANSWERED);
}

/** After the microtasks a request set off (answers, events) have run: tells the lab the instant is done here. */
const idle = (): void => void setImmediate(() => post({ kind: 'idle' }));

function handle(m: Request): void {
  if (m.op === 'executeAsync') {
    const c = m.args;
    clock.publish(m.now);
    let p: Promise<ScsiResult>;
    try {
      p = arrayOf(c.array).executeAsync(c.initiator, c.lun, c.cdb, dataOutOf(c), c.allocLen, c.exported);
    } catch (err) {
      p = Promise.resolve(failed(err));
    }
    void p.then((r) => {
      const own = ownResult(r);
      post({ kind: 'answer', id: m.id, result: own.result }, own.transfer);
    });
    return idle();
  }
  if (m.op === 'crashOnNextCall') {
    crashNext = m.how;
    return;
  }
  if (m.op === 'fire') {
    try {
      clock.fire(m.id, m.now);
    } finally {
      idle();
    }
    return;
  }
  // Outside the try below: the crash must escape this handler as a defect would.
  if (crashNext !== null) return crashThread(crashNext);
  try {
    switch (m.op) {
      case 'addArray':
        return answerSync({ ok: true, value: snapshot(fabric.addArray(m.options)) });
      case 'execute': {
        const c = m.args;
        const own = ownResult(arrayOf(c.array).execute(c.initiator, c.lun, c.cdb, dataOutOf(c), c.allocLen, c.exported));
        return answerSync({ ok: true, value: own.result }, own.transfer);
      }
      case 'visibleLuns':
        return answerSync({ ok: true, value: arrayOf(m.array).visibleLuns(m.initiator, m.exported) });
      case 'reaches':
        return answerSync({ ok: true, value: arrayOf(m.array).reaches(m.target, m.viaTransport) });
      case 'nexusLoss':
        arrayOf(m.array).nexusLoss(m.initiator);
        return answerSync({ ok: true, value: null });
      case 'logicalUnitReset':
        arrayOf(m.array).logicalUnitReset(m.lun, m.nexuses);
        return answerSync({ ok: true, value: null });
    }
  } catch (err) {
    answerSync({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
}

data.requests.on('message', handle);
