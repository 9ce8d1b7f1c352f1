/**
 * Fault campaign 2: a raid1 or raid5_ls leg fails while a copy runs through the array, with other
 * writes and copies in flight on ranges of their own. The leg fails one of two ways: an
 * administrator's `dmsetup message NAME 0 fail N`, or the leg's device failing every read, write
 * and copy with EIO (block-layer fault rules). Checks:
 * - every operation completes with its bytes, or fails with an errno and a reason; a block it
 *   left holds its old or its new content, nothing else ("never wrong data");
 * - degraded, every block reads back as the shadow model says, and a copy and a write still work;
 * - recovery (the device repaired, `revive N`, `resync`, with writes in flight in some rounds)
 *   ends with every leg in sync ('A'), and every block verifies through the array and on every
 *   leg: raid1 legs hold the array's content, raid5 data chunks sit where left-symmetric puts
 *   them and each parity chunk is the XOR of its stripe's data.
 * Seeded; modeled time (the virtual clock) orders everything, so a round replays from its seed.
 */
import { Lab } from '../../app/lab.js';
import { ReqOp } from '../../core/block/ops.js';
import { COPY_STRATEGIES, type CopyStrategy } from '../../core/block/copy/types.js';
import { Errno, errnoName } from '../../core/util/errno.js';
import { Prng } from '../../core/util/prng.js';
import { ShadowDisk } from './shadow-disk.js';
import { roundSeed, within } from './bounded.js';
import { Tally, type CampaignReport } from './report.js';

export type RaidKind = 'raid1' | 'raid5';
export type LegFault = 'message' | 'io-errors';

export interface RaidCampaignOptions {
  readonly seed: number;
  /** Rounds per array kind. */
  readonly rounds: number;
  readonly kinds?: readonly RaidKind[];
  /** Bytes of the array (a multiple of 256 KiB, at least 2 MiB: a round uses up to 15 slots of 128 KiB). */
  readonly arrayBytes?: number;
  readonly roundTimeoutMs?: number;
  /** The first round to run (replays a failure: rounds are seeded by their number). */
  readonly firstRound?: number;
  /** Runs after recovery, before the final checks (tests damage a leg). */
  readonly beforeCheck?: (lab: Lab, legs: readonly string[]) => Promise<void>;
}

const BS = 4096;
/** Blocks per slot (128 KiB: one raid5 stripe's data, the chunk being 128 KiB / data legs). */
const SLOT = 32;
const STRIPE_DATA = SLOT * BS;
const SPREAD_NS = 300_000;

interface RaidArray {
  readonly name: string;
  readonly top: string;
  readonly kind: RaidKind;
  readonly legs: readonly string[];
  readonly bytes: number;
  /** raid5 chunk bytes. */
  readonly chunk: number;
}

function buildArray(lab: Lab, kind: RaidKind, nLegs: number, arrayBytes: number, rng: Prng): RaidArray {
  const legBytes = kind === 'raid1' ? arrayBytes : arrayBytes / (nLegs - 1);
  for (let i = 0; i < nLegs; i++) {
    // Legs share a copy domain or not (then raid1 resync and leg copies are emulated).
    const domain = rng.below(3) === 0 ? `d${i}` : 'd0';
    lab.addNullBlk({ name: `nullb${i}`, size: legBytes, lbs: BS, backing: 'memory', domain, copy_max_hw_bytes: 16 * 1024, timing: 'femu' });
  }
  const legs = Array.from({ length: nLegs }, (_, i) => `/dev/nullb${i}`);
  const devs = legs.map((l) => `- ${l}`).join(' ');
  const bytes = arrayBytes;
  const chunk = STRIPE_DATA / (nLegs - 1);
  const table = kind === 'raid1'
    ? `0 ${bytes / 512} raid raid1 3 0 region_size 64 ${nLegs} ${devs}`
    : `0 ${bytes / 512} raid raid5_ls 1 ${chunk / 512} ${nLegs} ${devs}`;
  const r = lab.dm.create('md', table);
  if (r.res < 0) throw new Error(`dmsetup create md: ${r.message}`);
  return { name: 'md', top: '/dev/mapper/md', kind, legs, bytes, chunk };
}

/** Health characters of the status line ("AAD"). */
function health(lab: Lab, name: string): string {
  const out = lab.dm.status(name).output ?? '';
  return /raid(?:1|5_ls) \d+ ([ADa]+) /.exec(out)?.[1] ?? `(no health in "${out}")`;
}

/** Compares every leg with the model: raid1 legs hold the array; raid5 data chunks by left-symmetric placement, parity the XOR. */
async function checkLegs(lab: Lab, a: RaidArray, shadow: ShadowDisk, tally: Tally): Promise<string[]> {
  const problems: string[] = [];
  const images = await Promise.all(a.legs.map((l) => lab.read(l, 0, a.kind === 'raid1' ? a.bytes : a.bytes / (a.legs.length - 1))));
  if (a.kind === 'raid1') {
    images.forEach((img, i) => {
      const bad = shadow.compare(0, img);
      tally.blocksChecked += img.length / BS;
      if (bad.length) problems.push(`leg ${i} (${a.legs[i]}): ${bad.length} blocks differ from the model, first ${bad[0]!.block} (want ${bad[0]!.want})`);
    });
    return problems;
  }
  const n = a.legs.length;
  const CHUNK = a.chunk;
  const stripes = a.bytes / (CHUNK * (n - 1));
  const cb = CHUNK / BS;
  for (let s = 0; s < stripes; s++) {
    const pd = n - 1 - (s % n);
    const parity = new Uint8Array(CHUNK);
    for (let i = 0; i < n - 1; i++) {
      const leg = (pd + 1 + i) % n;
      const chunk = images[leg]!.subarray(s * CHUNK, (s + 1) * CHUNK);
      const bad = shadow.compare((s * (n - 1) + i) * cb, chunk);
      if (bad.length && problems.length < 4) problems.push(`stripe ${s} data chunk ${i} on leg ${leg}: ${bad.length} blocks differ from the model, first array block ${bad[0]!.block} (want ${bad[0]!.want})`);
      for (let k = 0; k < CHUNK; k++) parity[k]! ^= chunk[k]!;
    }
    const stored = images[pd]!.subarray(s * CHUNK, (s + 1) * CHUNK);
    if (!Buffer.from(stored).equals(parity) && problems.length < 4) problems.push(`stripe ${s}: parity on leg ${pd} is not the XOR of the stripe's data`);
  }
  tally.blocksChecked += images.reduce((x, img) => x + img.length / BS, 0);
  return problems;
}

/** A copy range in blocks of the array. */
interface BlockRanges {
  readonly src: number;
  readonly dst: number;
  readonly count: number;
}

async function runRound(kind: RaidKind, round: number, o: RaidCampaignOptions, tally: Tally): Promise<void> {
  const rs = roundSeed(o.seed ^ (kind === 'raid1' ? 0x100 : 0x500), round);
  const rng = new Prng(rs);
  const lab = new Lab();
  const problems: string[] = [];
  const note = (p: string): void => void problems.push(p);
  try {
    // raid5: 2 or 4 data chunks per stripe, so stripes divide the array.
    const nLegs = kind === 'raid1' ? 2 + rng.below(2) : 3 + 2 * rng.below(2);
    const arrayBytes = o.arrayBytes ?? 2 * 1024 * 1024;
    if (arrayBytes % (256 * 1024) !== 0 || arrayBytes < 2 * 1024 * 1024) throw new RangeError('arrayBytes must be a multiple of 256 KiB, at least 2 MiB');
    const a = buildArray(lab, kind, nLegs, arrayBytes, rng);
    const blocks = a.bytes / BS;
    const shadow = new ShadowDisk(blocks, BS);
    let seeds = rs % 100_000;
    const nextSeed = (): number => ++seeds;
    const first = nextSeed();
    await lab.write(a.top, 0, shadow.data(0, blocks, first));
    shadow.write(0, blocks, first);

    const slots = rng.permutation(blocks / SLOT);
    const take = (): number => {
      const s = slots.pop();
      if (s === undefined) throw new Error('out of slots');
      return s;
    };
    const part = (): { at: number; count: number } => {
      // Whole slots half the time (raid5: full stripes, offloaded with their parity).
      if (rng.below(2) === 0) return { at: 0, count: SLOT };
      const at = rng.below(SLOT);
      return { at, count: 1 + rng.below(SLOT - at) };
    };

    /** Slots written so far (destinations): what the failed leg misses, resynchronised later. */
    const written: number[] = [];
    /** A write that must succeed, or fail leaving each block old or new; `slot`: where (a fresh one by default). */
    const write = async (what: string, slot?: number): Promise<void> => {
      const s = slot ?? take();
      written.push(s);
      const { at, count } = part();
      const block = s * SLOT + at;
      const seed = nextSeed();
      const data = shadow.data(block, count, seed);
      const old = shadow.snapshot(block, count);
      tally.ops++;
      const res = await lab.submit(a.top, { op: ReqOp.WRITE, offset: block * BS, length: data.length, data });
      if (res === data.length) {
        shadow.write(block, count, seed);
        tally.count('writes');
        return;
      }
      tally.count(`${what} writes failed (${errnoName(res)})`);
      const bad = shadow.settle(block, await lab.read(a.top, block * BS, count * BS), [old, shadow.written(block, count, seed)]);
      if (bad.length) note(`${what} write of blocks ${block}+${count} failed with ${errnoName(res)} and left block ${bad[0]!.block} holding neither ${bad[0]!.want}`);
    };

    /** A copy of 1-3 ranges; its result checked, its blocks settled when it failed. */
    const copy = async (what: string, nRanges: number, during?: (progress: () => number) => Promise<void>): Promise<void> => {
      const ranges: BlockRanges[] = [];
      for (let k = 0; k < nRanges; k++) {
        const { at, count } = part();
        const src = take();
        const dst = take();
        written.push(dst);
        ranges.push({ src: src * SLOT + at, dst: dst * SLOT + at, count });
      }
      const strategy: CopyStrategy = COPY_STRATEGIES[rng.below(COPY_STRATEGIES.length)]!;
      const before = ranges.map((r) => ({ old: shadow.snapshot(r.dst, r.count), src: shadow.snapshot(r.src, r.count) }));
      tally.ops++;
      const op = lab.copyAsync(a.top, ranges.map((r) => ({ srcOffset: r.src * BS, dstOffset: r.dst * BS, length: r.count * BS })), { strategy });
      await during?.(() => op.bytesDone);
      const r = await op.done;
      const total = ranges.reduce((x, y) => x + y.count * BS, 0);
      if (r.res === total) {
        ranges.forEach((x, i) => shadow.setSnapshot(x.dst, before[i]!.src));
        tally.count(`${what} copies (${r.path})`);
        return;
      }
      tally.count(`${what} copies failed (${errnoName(r.res)})`);
      if (r.res >= 0 || !r.message && r.reasons.length === 0 && r.pieces.every((p) => p.res >= 0)) note(`${what} ${strategy} copy ended with ${r.res} and no reason`);
      for (let i = 0; i < ranges.length; i++) {
        const x = ranges[i]!;
        const bad = shadow.settle(x.dst, await lab.read(a.top, x.dst * BS, x.count * BS), [before[i]!.old, before[i]!.src]);
        if (bad.length) note(`${what} ${strategy} copy failed with ${errnoName(r.res)} and left block ${bad[0]!.block} holding neither ${bad[0]!.want}`);
      }
    };

    const verifyArray = async (when: string): Promise<void> => {
      const bad = shadow.compare(0, await lab.read(a.top, 0, a.bytes));
      tally.blocksChecked += blocks;
      if (bad.length) note(`${when}: ${bad.length} of ${blocks} blocks read through the array differ from the model, first ${bad[0]!.block} (want ${bad[0]!.want})`);
    };

    // 1. A copy of 2-3 ranges with the fault injected mid-way, and other operations in flight.
    const leg = rng.below(nLegs);
    const fault: LegFault = rng.below(2) === 0 ? 'message' : 'io-errors';
    tally.count(`${kind} legs failed by ${fault}`);
    const inject = async (progress: () => number): Promise<void> => {
      const early = rng.below(4) === 0;
      for (let i = 0; i < 2000 && !early && progress() === 0; i++) await lab.clock.sleep(2_000);
      if (early) await lab.clock.sleep(rng.below(SPREAD_NS));
      if (fault === 'message') {
        const m = await lab.dm.message(a.name, 0, ['fail', String(leg)]);
        if (m.res < 0) note(`message fail ${leg}: ${m.message}`);
      } else {
        const dev = lab.findDevice(a.legs[leg]!)!;
        for (const op of [ReqOp.READ, ReqOp.WRITE, ReqOp.COPY]) dev.faults.add(op, Errno.EIO, Infinity);
      }
    };
    const others = Array.from({ length: 3 }, (_, i) => async () => {
      await lab.clock.sleep(rng.below(SPREAD_NS));
      return rng.below(2) === 0 ? write('concurrent') : copy('concurrent', 1);
    });
    await within(Promise.all([copy('mid-fault', 2 + rng.below(2), inject), ...others.map((f) => f())]), o.roundTimeoutMs ?? 30_000, `${kind} round ${round}: the copy during the leg failure`);

    // 2. Degraded. A leg that failed I/O nobody sent to it is failed by the administrator.
    if (health(lab, a.name)[leg] !== 'D') {
      if (fault === 'message') note(`leg ${leg} failed by message but the status shows ${health(lab, a.name)}`);
      tally.count('legs failed by message after their I/O errors went unseen');
      await lab.dm.message(a.name, 0, ['fail', String(leg)]);
    }
    if (health(lab, a.name).split('').filter((c) => c === 'D').length !== 1) note(`one leg should be dead: status ${health(lab, a.name)}`);
    await within(verifyArray('degraded'), 10_000, 'reading the degraded array');
    await within(Promise.all([copy('degraded', 1), write('degraded')]), 10_000, `${kind} round ${round}: a copy and a write on the degraded array`);
    await verifyArray('degraded, after a copy and a write');

    // 3. Recovery: the device is repaired, the leg revived and resynchronised, writes in flight in some rounds.
    lab.findDevice(a.legs[leg]!)!.faults.clear();
    const rv = await lab.dm.message(a.name, 0, ['revive', String(leg)]);
    if (rv.res < 0) note(`revive ${leg}: ${rv.message}`);
    // Writes during the resync go where the leg missed data: onto regions the resync copies.
    const busy = rng.below(2) === 0;
    const targets = rng.permutation(written.length).slice(0, 3).map((k) => written[k]!);
    const resync = lab.dm.message(a.name, 0, ['resync']);
    const during = busy ? targets.map(async (slot) => {
      await lab.clock.sleep(rng.below(SPREAD_NS / 4));
      return write('during resync', slot);
    }) : [];
    const [rsres] = await within(Promise.all([resync, ...during]), 20_000, `${kind} round ${round}: resync`);
    if (rsres.res < 0) note(`resync: ${rsres.message}`);
    if (busy) tally.count('resyncs with writes in flight');
    const h = health(lab, a.name);
    if (h !== 'A'.repeat(nLegs)) note(`after resync the status shows ${h}`);
    await o.beforeCheck?.(lab, a.legs);
    await verifyArray('after resync');
    problems.push(...await checkLegs(lab, a, shadow, tally));
  } catch (err) {
    note(String(err instanceof Error ? err.message : err));
  } finally {
    await within(lab.close(), 10_000, 'closing the lab').catch((e: unknown) => note(String(e)));
  }
  tally.rounds++;
  for (const p of problems) tally.fail(round, rs, `${kind}: ${p}`);
}

export async function raidDegradedCampaign(o: RaidCampaignOptions): Promise<CampaignReport> {
  const tally = new Tally('raid-degraded', o.seed);
  for (const kind of o.kinds ?? (['raid1', 'raid5'] as const)) {
    for (let round = o.firstRound ?? 0; round < (o.firstRound ?? 0) + o.rounds; round++) {
      const before = tally.failures.length;
      await runRound(kind, round, o, tally);
      if (tally.failures.length > before) break;
    }
  }
  return tally.report();
}
