/**
 * Fault campaign 3: the worker thread of a device that runs with `execution: worker` (a nullblk
 * queue, an NVMe subsystem, a SCSI fabric) is killed, as a crash would end it, while copies,
 * writes and reads run on it, some through a dm linear device on top, some to and from an inline
 * device beside it (the bystander). Checks:
 * - every operation ends within a bound: a copy completes with its bytes or ends with EIO, a write
 *   or read succeeds or ends with EIO (a read that succeeds returns what the model says);
 * - a copy into the bystander leaves each block old or new (new when it completed);
 * - afterwards the dead device fails a read, a write and a copy with EIO at once, the bystander
 *   still reads and writes, the lab reports the device's failure once, and the lab closes.
 * Seeded: the devices, the operations and the moment of the kill (after which of the operations'
 * progress) come from the round's seed; which commands the thread had taken when it died depends
 * on the threads' timing, and the checks hold for every outcome.
 */
import { Lab } from '../../app/lab.js';
import { ReqOp } from '../../core/block/ops.js';
import { Errno, errnoName } from '../../core/util/errno.js';
import { Prng } from '../../core/util/prng.js';
import type { NullBlkDevice } from '../../../devices/nullblk/nullblk.js';
import { WorkerScsiArray } from '../../../devices/scsi/worker-array.js';
import { ShadowDisk, type BlockSnapshot } from './shadow-disk.js';
import { roundSeed, within } from './bounded.js';
import { Tally, type CampaignReport } from './report.js';

export type WorkerKind = 'nullblk' | 'nvme' | 'scsi';
export const WORKER_KINDS: readonly WorkerKind[] = ['nullblk', 'nvme', 'scsi'];

export interface WorkerKillOptions {
  readonly seed: number;
  /** Rounds in all; round r is of kind kinds[r mod kinds.length]. */
  readonly rounds: number;
  readonly kinds?: readonly WorkerKind[];
  /** Wall milliseconds an operation may take after the kill before it is a failure (a hang). */
  readonly opTimeoutMs?: number;
  /** Runs after the kill, before the checks (tests plant a hang or a wrong byte). */
  readonly afterKill?: (lab: Lab, bystander: string) => Promise<void>;
}

const BS = 4096;
const DEV_BYTES = 1024 * 1024;
const BLOCKS = DEV_BYTES / BS;
/** Blocks per slot; an operation's ranges lie in slots of their own. */
const SLOT = 16;

interface Rig {
  /** The devices on the worker (a copy between them stays on the thread). */
  readonly dev: readonly [string, string];
  /** The name the lab reports the failure under. */
  readonly failing: string;
  kill(): Promise<void>;
}

function buildRig(lab: Lab, kind: WorkerKind, round: number): Rig {
  if (kind === 'nullblk') {
    const o = { size: DEV_BYTES, lbs: BS as 4096, backing: 'memory' as const, execution: 'worker' as const, domain: 'w', copy_max_hw_bytes: 16 * 1024, queue_depth: 8 };
    const a = lab.addNullBlk({ name: 'nullb0', ...o }) as NullBlkDevice;
    lab.addNullBlk({ name: 'nullb1', ...o });
    // Kill the first device's worker; the copy between the two reaches it by its shared medium.
    return { dev: ['/dev/nullb0', '/dev/nullb1'], failing: 'nullb0', kill: () => a.queue!.kill() };
  }
  if (kind === 'nvme') {
    const att = lab.addNvmeController({ name: 'nvme0', execution: 'worker', cdfe: round % 2 === 0, namespaces: [{ size: DEV_BYTES }, { size: DEV_BYTES }] });
    return { dev: ['/dev/nvme0n1', '/dev/nvme0n2'], failing: 'nvme0', kill: () => att.worker!.kill() };
  }
  // Timed: commands complete on the clock, so they are in flight when the thread dies (an untimed
  // worker array answers each command before the lab's thread goes on).
  const { array } = lab.addScsiArray({ name: 'arr0', execution: 'worker', timing: 'sas-array', lus: [{ name: 'sda', size: DEV_BYTES, lbs: BS }, { name: 'sdb', size: DEV_BYTES, lbs: BS }] });
  if (!(array instanceof WorkerScsiArray)) throw new Error('the SCSI array does not run on a worker thread');
  return { dev: ['/dev/sda', '/dev/sdb'], failing: 'arr0', kill: () => array.thread.kill() };
}

type Outcome = 'ok' | 'eio';

async function runRound(kind: WorkerKind, round: number, o: WorkerKillOptions, tally: Tally): Promise<void> {
  const rs = roundSeed(o.seed, round);
  const rng = new Prng(rs);
  const problems: string[] = [];
  const note = (p: string): void => void problems.push(p);
  const lab = new Lab({ emulationBufferBytes: 16 * 1024 });
  const limit = o.opTimeoutMs ?? 20_000;
  let closed = false;
  try {
    const rig = buildRig(lab, kind, round);
    lab.addNullBlk({ name: 'byst', size: DEV_BYTES, lbs: BS, backing: 'memory' });
    const byst = '/dev/byst';
    // Half the rounds reach the first worker device through dm linear too.
    const viaDm = rng.below(2) === 0;
    if (viaDm) {
      const r = lab.dm.create('top', `0 ${DEV_BYTES / 512} linear ${rig.dev[0]} 0`);
      if (r.res < 0) throw new Error(`dmsetup create top: ${r.message}`);
    }
    const a = viaDm ? '/dev/mapper/top' : rig.dev[0];
    const b = rig.dev[1];
    const models = new Map<string, ShadowDisk>([[a, new ShadowDisk(BLOCKS, BS)], [b, new ShadowDisk(BLOCKS, BS)], [byst, new ShadowDisk(BLOCKS, BS)]]);
    let seeds = (rs % 50_000) + 1;
    // Before the kill: every device gets a pattern, and reads it back.
    for (const [path, m] of models) {
      const seed = seeds++;
      await within(lab.write(path, 0, m.data(0, BLOCKS, seed)), limit, `writing ${path}`);
      m.write(0, BLOCKS, seed);
      const bad = m.compare(0, await within(lab.read(path, 0, DEV_BYTES), limit, `reading ${path}`));
      tally.blocksChecked += BLOCKS;
      if (bad.length) note(`${path} before the kill: ${bad.length} blocks differ`);
    }

    // Slots per device; each operation takes its own.
    const free = new Map([...models.keys()].map((p) => [p, rng.permutation(BLOCKS / SLOT)]));
    const take = (p: string): number => {
      const s = free.get(p)!.pop();
      if (s === undefined) throw new Error(`out of slots on ${p}`);
      return s * SLOT;
    };
    const ops: { what: string; run: () => Promise<Outcome | string>; progress?: () => number }[] = [];
    const pairs: [string, string][] = [[a, a], [a, b], [a, byst], [byst, a], [b, byst]];
    for (let k = 0; k < 6; k++) {
      const [src, dst] = pairs[rng.below(pairs.length)]!;
      const count = 4 + rng.below(SLOT - 4);
      const s = take(src);
      const d = take(dst);
      const before: BlockSnapshot = models.get(dst)!.snapshot(d, count);
      const from: BlockSnapshot = models.get(src)!.snapshot(s, count);
      let op: ReturnType<Lab['copyAsync']> | null = null;
      ops.push({
        what: `copy ${src}:${s} -> ${dst}:${d} +${count}`,
        progress: () => op?.bytesDone ?? 0,
        run: async () => {
          op = lab.copyAsync(dst, [{ src, srcOffset: s * BS, dstOffset: d * BS, length: count * BS }]);
          const r = await op.done;
          tally.count(`copies ${r.res === count * BS ? `completed (${r.path})` : `ended (${errnoName(r.res)})`}`);
          if (r.res === count * BS) {
            models.get(dst)!.setSnapshot(d, from);
            return 'ok';
          }
          if (r.res !== -Errno.EIO) return `ended with ${r.res} (${errnoName(r.res)}): ${r.message ?? ''}`;
          // A copy into the bystander that ended: each block old or new (the bystander still reads).
          if (dst === byst) {
            const bad = models.get(byst)!.settle(d, await lab.read(byst, d * BS, count * BS), [before, from]);
            tally.blocksChecked += count;
            if (bad.length) return `ended with EIO and left bystander block ${bad[0]!.block} holding neither ${bad[0]!.want}`;
          }
          return 'eio';
        },
      });
    }
    for (let k = 0; k < 3; k++) {
      const path = [a, b][rng.below(2)]!;
      const block = take(path);
      const count = 1 + rng.below(SLOT);
      const write = rng.below(2) === 0;
      const seed = seeds++;
      ops.push({
        what: `${write ? 'write' : 'read'} ${path}:${block} +${count}`,
        run: async () => {
          const m = models.get(path)!;
          const data = write ? m.data(block, count, seed) : new Uint8Array(count * BS);
          const res = await lab.submit(path, { op: write ? ReqOp.WRITE : ReqOp.READ, offset: block * BS, length: count * BS, data });
          tally.count(`${write ? 'writes' : 'reads'} ${res === count * BS ? 'completed' : `ended (${errnoName(res)})`}`);
          if (res === -Errno.EIO) return 'eio';
          if (res !== count * BS) return `ended with ${res} (${errnoName(res)})`;
          if (write) m.write(block, count, seed);
          else {
            const bad = m.compare(block, data);
            tally.blocksChecked += count;
            if (bad.length) return `read ${bad.length} blocks that differ from the model, first ${bad[0]!.block} (want ${bad[0]!.want})`;
          }
          return 'ok';
        },
      });
    }

    // The kill: once a chosen copy has made progress (or after a seeded number of host turns).
    const victim = ops[rng.below(6)]!;
    const turns = rng.below(40);
    const running = ops.map((op) => op.run().then((r) => ({ op, r }), (e: unknown) => ({ op, r: `threw ${String(e)}` as Outcome | string })));
    tally.ops += ops.length;
    // A quarter of the rounds kill at once; the others once the victim copy has moved bytes, then `turns` host turns later.
    if (turns >= 10) for (let i = 0; i < 20_000 && (victim.progress?.() ?? 0) === 0; i++) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
    await within(rig.kill(), limit, `killing the ${kind} worker`);
    tally.count(`${kind} workers killed`);
    if (o.afterKill) await within(o.afterKill(lab, byst), limit, 'the step after the kill');
    const outcomes = await within(Promise.all(running), limit, `${kind} round ${round}: the operations in flight when the worker died`);
    for (const { op, r } of outcomes) if (r !== 'ok' && r !== 'eio') note(`${op.what}: ${r}`);

    // The dead device: EIO at once; the bystander works; the failure is reported; the lab closes.
    const dead = await within(Promise.all([
      lab.submit(a, { op: ReqOp.READ, offset: 0, length: BS, data: new Uint8Array(BS) }),
      lab.submit(a, { op: ReqOp.WRITE, offset: 0, length: BS, data: new Uint8Array(BS) }),
      lab.copy(a, [{ srcOffset: BS, dstOffset: 2 * BS, length: BS }]).then((r) => r.res),
    ]), limit, `I/O to the dead ${kind} device`);
    if (dead.some((res) => res !== -Errno.EIO)) note(`the dead device answered ${dead.map((x) => errnoName(x)).join(', ')} (read, write, copy), not EIO`);
    const m = models.get(byst)!;
    const seed = seeds++;
    await within(lab.write(byst, 0, m.data(0, 8, seed)), limit, 'a write to the bystander');
    m.write(0, 8, seed);
    const bad = m.compare(0, await within(lab.read(byst, 0, DEV_BYTES), limit, 'reading the bystander'));
    tally.blocksChecked += BLOCKS;
    if (bad.length) note(`bystander: ${bad.length} blocks differ from the model, first ${bad[0]!.block} (want ${bad[0]!.want})`);
    const reported = lab.failures.filter((f) => f.device === rig.failing).length;
    if (reported !== 1) note(`the lab reported ${rig.failing}'s failure ${reported} times (${lab.failures.map((f) => f.device).join(', ') || 'none'})`);
    const failuresBefore = lab.failures.length;
    await within(lab.close(), limit, 'closing the lab');
    closed = true;
    if (lab.failures.length !== failuresBefore) note('closing the lab reported a failure');
  } catch (err) {
    note(String(err instanceof Error ? err.message : err));
  } finally {
    if (!closed) await within(lab.close(), limit, 'closing the lab').catch((e: unknown) => note(String(e)));
  }
  tally.rounds++;
  for (const p of problems) tally.fail(round, rs, `${kind}: ${p}`);
}

export async function workerKillCampaign(o: WorkerKillOptions): Promise<CampaignReport> {
  const tally = new Tally('worker-kill', o.seed);
  // Round r kills the worker of kinds[r mod kinds]: most of a round is a worker thread starting.
  const kinds = o.kinds ?? WORKER_KINDS;
  for (let round = 0; round < o.rounds; round++) {
    await runRound(kinds[round % kinds.length]!, round, o, tally);
    if (tally.failures.length) break;
  }
  return tally.report();
}
