/**
 * Fault campaign 1: concurrent writes, copies and reads on a dm stack (linear, raid1 or crypt over
 * timed nullblk devices) while the stack is suspended and resumed, sometimes with a table
 * reloaded in between (linear: the data moved to the other device first, as pvmove does). Each
 * round gives every operation block ranges of its own (no two operations in flight touch the same
 * block, so every block's final content is known), updates a shadow model as each write or copy
 * completes, and checks: a read sees what the model says; nothing below a suspended device
 * changes until it is resumed; at the end of the round every block of the top device (and of
 * every raid1 leg) holds what the model says. Seeded: a round replays from its seed; modeled time
 * (the lab's virtual clock) decides the interleaving, so it replays too.
 */
import { Lab } from '../../app/lab.js';
import { ReqOp } from '../../core/block/ops.js';
import { COPY_STRATEGIES, type CopyStrategy } from '../../core/block/copy/types.js';
import { Prng } from '../../core/util/prng.js';
import { errnoName } from '../../core/util/errno.js';
import { ShadowDisk } from './shadow-disk.js';
import { roundSeed, within } from './bounded.js';
import { Tally, type CampaignReport } from './report.js';

export type SuspendStack = 'linear' | 'raid1' | 'crypt';
export const SUSPEND_STACKS: readonly SuspendStack[] = ['linear', 'raid1', 'crypt'];

export interface SuspendCampaignOptions {
  readonly seed: number;
  /** Rounds per stack. */
  readonly rounds: number;
  readonly stacks?: readonly SuspendStack[];
  /** Operations in flight per round (each on ranges of its own). */
  readonly opsPerRound?: number;
  /** Suspend/resume cycles per round. */
  readonly cyclesPerRound?: number;
  /** Bytes of the top device (a multiple of 256 KiB). */
  readonly deviceBytes?: number;
  /** Wall milliseconds a round may take before it is a failure. */
  readonly roundTimeoutMs?: number;
  /** Runs while a device is suspended, before the check that nothing below it changed (tests plant a change). */
  readonly whileSuspended?: (lab: Lab, bottoms: readonly string[]) => Promise<void>;
  /** Runs at the end of each round, before every block is checked (tests damage a block). */
  readonly beforeCheck?: (lab: Lab, bottoms: readonly string[]) => Promise<void>;
}

const BS = 4096;
/** Blocks per slot: an operation's range lies inside one slot, and a slot serves one operation per round. */
const SLOT = 32;
/** Two 64-byte XTS keys' worth of hex (dm-crypt aes-xts-plain64 with a 512-bit key). */
const KEY = Array.from({ length: 64 }, (_, i) => ((i * 37 + 11) & 0xff).toString(16).padStart(2, '0')).join('');
/** Modeled time an operation may wait before it starts, and a suspend before it comes (ns). */
const START_SPREAD_NS = 400_000;

interface Stack {
  readonly top: string;
  /** Every device mapper name that may be suspended, with the table a reload gives it. */
  readonly suspendable: readonly { readonly name: string; reloadTable(): Promise<string> }[];
  /** Bottom devices: unchanged while anything above them is suspended. */
  readonly bottoms: readonly string[];
  /** Devices that must hold the top's content block for block at the end of a round (raid1 legs). */
  readonly mirrors: readonly string[];
  /** For crypt: the offset of the second target, where a copy keeps its IV sector (offloaded). */
  readonly half?: number;
}

function nullblks(lab: Lab, n: number, bytes: number): void {
  for (let i = 0; i < n; i++) {
    lab.addNullBlk({ name: `nullb${i}`, size: bytes, lbs: BS, backing: 'memory', domain: 'd0', copy_max_hw_bytes: 16 * 1024, timing: 'femu' });
  }
}

function create(lab: Lab, name: string, table: string): void {
  const r = lab.dm.create(name, table);
  if (r.res < 0) throw new Error(`dmsetup create ${name}: ${r.message}`);
}

/** Builds the stack; the campaign acts on its top device. */
function buildStack(lab: Lab, kind: SuspendStack, bytes: number): Stack {
  const sectors = bytes / 512;
  const h = sectors / 2;
  if (kind === 'linear') {
    nullblks(lab, 2, bytes);
    // Two targets, halves swapped: copies cross a target boundary now and then.
    const table = (dev: string): string => `0 ${h} linear ${dev} ${h}\n${h} ${h} linear ${dev} 0`;
    create(lab, 'lin', table('/dev/nullb0'));
    let on = 0;
    return {
      top: '/dev/mapper/lin',
      suspendable: [{
        name: 'lin',
        // pvmove: the data goes to the other device while suspended, then the table follows it.
        async reloadTable() {
          const next = 1 - on;
          await lab.write(`/dev/nullb${next}`, 0, await lab.read(`/dev/nullb${on}`, 0, bytes));
          on = next;
          return table(`/dev/nullb${on}`);
        },
      }],
      bottoms: ['/dev/nullb0', '/dev/nullb1'],
      mirrors: [],
    };
  }
  if (kind === 'raid1') {
    nullblks(lab, 2, bytes);
    const table = `0 ${sectors} raid raid1 3 0 region_size 64 2 - /dev/nullb0 - /dev/nullb1`;
    create(lab, 'mirror', table);
    return { top: '/dev/mapper/mirror', suspendable: [{ name: 'mirror', reloadTable: async () => table }], bottoms: ['/dev/nullb0', '/dev/nullb1'], mirrors: ['/dev/nullb0', '/dev/nullb1'] };
  }
  nullblks(lab, 1, bytes);
  const low = `0 ${sectors} linear /dev/nullb0 0`;
  // Two crypt targets with the same key and IV offset: a copy to the same place in the other half keeps its IV sectors.
  const enc = `0 ${h} crypt aes-xts-plain64 ${KEY} 0 /dev/mapper/low 0 1 sector_size:4096\n${h} ${h} crypt aes-xts-plain64 ${KEY} 0 /dev/mapper/low ${h} 1 sector_size:4096`;
  create(lab, 'low', low);
  create(lab, 'enc', enc);
  return {
    top: '/dev/mapper/enc',
    suspendable: [{ name: 'enc', reloadTable: async () => enc }, { name: 'low', reloadTable: async () => low }],
    bottoms: ['/dev/nullb0'],
    mirrors: [],
    half: bytes / 2,
  };
}

type Op =
  | { readonly kind: 'write'; readonly block: number; readonly count: number; readonly seed: number }
  | { readonly kind: 'read'; readonly block: number; readonly count: number }
  | { readonly kind: 'copy'; readonly ranges: readonly { readonly src: number; readonly dst: number; readonly count: number }[]; readonly strategy: CopyStrategy };

/** Draws a round's operations, each on slots of its own. */
function drawOps(rng: Prng, slots: number, n: number, half: number | undefined, nextSeed: () => number): Op[] {
  const free = rng.permutation(slots);
  const used = new Set<number>();
  const take = (): number | null => {
    while (free.length) {
      const s = free.pop()!;
      if (!used.has(s)) {
        used.add(s);
        return s;
      }
    }
    return null;
  };
  const sub = (): { at: number; count: number } => {
    const at = rng.below(SLOT);
    return { at, count: 1 + rng.below(SLOT - at) };
  };
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) {
    const roll = rng.below(10);
    if (roll < 4) {
      const s = take();
      if (s === null) break;
      const { at, count } = sub();
      ops.push({ kind: 'write', block: s * SLOT + at, count, seed: nextSeed() });
    } else if (roll < 8) {
      const ranges: { src: number; dst: number; count: number }[] = [];
      const nr = 1 + rng.below(2);
      for (let k = 0; k < nr; k++) {
        const s = take();
        if (s === null) break;
        let d: number | null = null;
        // crypt: half the time the destination is the same place in the other half (raw copy).
        if (half !== undefined && rng.below(2) === 0) {
          const halfSlots = half / BS / SLOT;
          const m = s < halfSlots ? s + halfSlots : s - halfSlots;
          if (!used.has(m)) {
            used.add(m);
            d = m;
          }
        }
        d ??= take();
        if (d === null) break;
        const { at, count } = sub();
        ranges.push({ src: s * SLOT + at, dst: d * SLOT + at, count });
      }
      if (ranges.length) ops.push({ kind: 'copy', ranges, strategy: COPY_STRATEGIES[rng.below(COPY_STRATEGIES.length)]! });
    } else {
      const s = take();
      if (s === null) break;
      const { at, count } = sub();
      ops.push({ kind: 'read', block: s * SLOT + at, count });
    }
  }
  return ops;
}

async function equalDevices(lab: Lab, paths: readonly string[], before: readonly Uint8Array[]): Promise<string | null> {
  for (let i = 0; i < paths.length; i++) {
    const now = await lab.read(paths[i]!, 0, before[i]!.length);
    if (!Buffer.from(now).equals(before[i]!)) {
      let at = 0;
      while (now[at] === before[i]![at]) at++;
      return `${paths[i]} changed at byte ${at} while a device above it was suspended`;
    }
  }
  return null;
}

async function runStack(kind: SuspendStack, o: SuspendCampaignOptions, tally: Tally): Promise<void> {
  const bytes = o.deviceBytes ?? 4 * 1024 * 1024;
  if (bytes % (256 * 1024) !== 0) throw new RangeError('deviceBytes must be a multiple of 256 KiB');
  const lab = new Lab();
  try {
    const stack = buildStack(lab, kind, bytes);
    const blocks = bytes / BS;
    const shadow = new ShadowDisk(blocks, BS);
    let seedCounter = 0;
    // A first pattern over the whole device (a fresh crypt device does not read as zeros).
    const initial = (o.seed >>> 0) || 1;
    await lab.write(stack.top, 0, shadow.data(0, blocks, initial));
    shadow.write(0, blocks, initial);
    for (let round = 0; round < o.rounds; round++) {
      const rs = roundSeed(o.seed ^ SUSPEND_STACKS.indexOf(kind), round);
      const rng = new Prng(rs);
      const ops = drawOps(rng, blocks / SLOT, o.opsPerRound ?? 6, stack.half, () => (rs + ++seedCounter) >>> 0 || 1);
      const problems: string[] = [];
      const runOp = async (op: Op, delay: number): Promise<void> => {
        await lab.clock.sleep(delay);
        tally.ops++;
        if (op.kind === 'write') {
          const data = shadow.data(op.block, op.count, op.seed);
          const res = await lab.submit(stack.top, { op: ReqOp.WRITE, offset: op.block * BS, length: data.length, data });
          if (res !== data.length) return void problems.push(`write of blocks ${op.block}+${op.count} ended with ${res} (${errnoName(res)})`);
          shadow.write(op.block, op.count, op.seed);
          tally.count('writes');
        } else if (op.kind === 'read') {
          const data = await lab.read(stack.top, op.block * BS, op.count * BS);
          const bad = shadow.compare(op.block, data);
          tally.blocksChecked += op.count;
          if (bad.length) problems.push(`read of blocks ${op.block}+${op.count}: ${bad.length} differ, first ${bad[0]!.block} (want ${bad[0]!.want})`);
          tally.count('reads');
        } else {
          const r = await lab.copy(stack.top, op.ranges.map((x) => ({ srcOffset: x.src * BS, dstOffset: x.dst * BS, length: x.count * BS })), { strategy: op.strategy });
          const total = op.ranges.reduce((n, x) => n + x.count * BS, 0);
          if (r.res !== total) return void problems.push(`${op.strategy} copy of ${op.ranges.map((x) => `${x.src}->${x.dst}+${x.count}`).join(', ')} ended with ${r.res} (${errnoName(r.res)}): ${r.message ?? ''}`);
          for (const x of op.ranges) shadow.copy(x.src, x.dst, x.count);
          tally.count(`copies (${r.path})`);
          if (r.trace?.events.some((e) => e.info?.includes('planned again'))) tally.count('copies planned again');
        }
      };
      const cycles = async (): Promise<void> => {
        const n = o.cyclesPerRound ?? 2;
        for (let c = 0; c < n; c++) {
          await lab.clock.sleep(rng.below(START_SPREAD_NS));
          const dev = stack.suspendable[rng.below(stack.suspendable.length)]!;
          const s = await lab.dm.suspend(dev.name);
          if (s.res < 0) return void problems.push(`suspend ${dev.name}: ${s.message}`);
          tally.count('suspends');
          if (rng.below(2) === 0) {
            const text = await dev.reloadTable();
            const r = lab.dm.reload(dev.name, text);
            if (r.res < 0) return void problems.push(`reload ${dev.name}: ${r.message}`);
            tally.count('reloads');
          }
          const before = await Promise.all(stack.bottoms.map((p) => lab.read(p, 0, bytes)));
          await lab.clock.sleep(rng.below(START_SPREAD_NS));
          for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r));
          await o.whileSuspended?.(lab, stack.bottoms);
          const changed = await equalDevices(lab, stack.bottoms, before);
          if (changed) problems.push(changed);
          lab.dm.resume(dev.name);
        }
      };
      try {
        await within(Promise.all([...ops.map((op) => runOp(op, rng.below(START_SPREAD_NS))), cycles()]), o.roundTimeoutMs ?? 30_000, `${kind} round ${round}'s operations`);
        await o.beforeCheck?.(lab, stack.bottoms);
        // Every block of the top device, and of every mirror leg, against the model.
        for (const dev of [stack.top, ...stack.mirrors]) {
          const bad = shadow.compare(0, await lab.read(dev, 0, bytes));
          tally.blocksChecked += blocks;
          if (bad.length) problems.push(`${dev}: ${bad.length} of ${blocks} blocks differ from the model, first ${bad[0]!.block} (want ${bad[0]!.want})`);
        }
      } catch (err) {
        problems.push(String(err instanceof Error ? err.message : err));
      }
      tally.rounds++;
      for (const p of problems) tally.fail(round, rs, `${kind}: ${p}`);
      if (problems.length) break;
    }
  } finally {
    // Nothing may stay suspended (a failed round may leave a device suspended: resume it so close ends).
    for (const name of lab.dm.names()) if (lab.dm.find(name)?.suspended) lab.dm.resume(name);
    await within(lab.close(), 10_000, 'closing the lab');
  }
}

/** Runs the campaign on each stack in turn; the report counts all of them. */
export async function dmSuspendCampaign(o: SuspendCampaignOptions): Promise<CampaignReport> {
  const tally = new Tally('dm-suspend', o.seed);
  for (const kind of o.stacks ?? SUSPEND_STACKS) await runStack(kind, o, tally);
  return tally.report();
}
