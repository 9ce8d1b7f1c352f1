/**
 * A device timing model (docs/timing.md): the resources a command occupies and for how long.
 *
 * Every resource (the host link, one per direction; the fabric; every channel and every die) has
 * a calendar of the modeled time it is reserved for (calendar.ts). A command reserves the steps
 * of its work in the order the data flows, each step taking the earliest gap of its resource at
 * or after the step's input is ready: a command issued later may use a die or channel an earlier
 * one leaves idle while it waits elsewhere, so commands complete out of order, as on a device
 * whose scheduler keeps a queue per die (MQSim's transaction scheduling unit, FEMU's and
 * NVMeVirt's per-LUN next-available times, each chosen per request). Controller units serve
 * commands in the order they arrive.
 *
 * Reads before programs: a program waits in its die's queue (pending) until something needs its
 * completion time: a read that reaches the die (programs that would have started before it are
 * placed first, where they fit; later ones after it), a full write-back buffer, a FLUSH, a
 * write-through write, a copyback, a drain. So a read never waits behind a program that had not
 * started when the read arrived, only behind the one in progress (no program suspend), as MQSim's
 * TSU and NVMeVirt prioritise reads over buffered writes.
 *
 * Where data lives: a page-mapped FTL's placement. Host writes are packed into pages at a write
 * frontier that moves across the dies channel first, one die per page, as FEMU's and NVMeVirt's
 * page allocators advance their write pointer; each full page is one program (tPROG) on its die.
 * The die each logical page was last written to is remembered (a paged table, memory in
 * proportion to the pages touched). A page never written is read from its striped home (logical
 * page p on channel p mod C, way ⌊p / C⌋ mod W). A read costs a full tR per page touched and moves
 * only the bytes asked for over the channel; the die stays busy until its page register has been
 * emptied onto the channel. Host writes go over the link into the write-back buffer (dram_bytes)
 * and complete there; a write waits when the buffer is full until the oldest programs have
 * finished. With dram_bytes 0 each write is programmed at once and completes when programmed
 * (its share of tPROG for a partial page).
 *
 * Copies inside the device, as firmware does them (ZNS+ OSDI'21 §4; MQSim's GC copy path):
 * - each source page is sensed once for all the pieces taken from it, its pieces move over the
 *   source channel to the controller, and each destination page is programmed once, whole;
 * - copyback: a destination page placed on the die of one of its source pages (the one giving it
 *   the most bytes) is programmed from that die's page register: that page's bytes never cross a
 *   channel, the other pieces come in over the channel (copyback program with data input); the
 *   die is busy tR + tPROG plus the transfer in, and the page completes when programmed. It is
 *   used where it does not make a copy wait needlessly: with write-through when the frontier's
 *   page is on the source's die, and with `allocation: copyback-aware` (ZNS+'s copyback-aware
 *   block allocation) where the source die would finish the page before the batch's channel
 *   transfers end (copybackChoice);
 * - a destination page that is not copied back enters the write-back buffer as host data does,
 *   and the copy's piece completes there (with dram_bytes 0: when programmed); a copyback page
 *   completes when programmed;
 * - cross-device inside a copy domain: the source device's dies and channels read, the fabric
 *   carries the bytes, the destination device programs.
 * So a copy never does more flash, channel or link work than a host read + write of the same bytes.
 *
 * With read_dispatch: event, host reads submitted through readThen are not reserved at issue: they
 * wait in per-chip queues and are dispatched on the clock's events by MQSim's channel rules
 * (evKick, evCommand, evFreeze; docs/timing.md, "Reads dispatched on events"); calendar work
 * placed on a chip first gives the read in flight there its remaining slots (dieCal).
 */
import { NS_PER_US, type Clock } from '../../src/core/time/clock.js';
import { Calendar } from './calendar.js';
import { Lru } from './lru.js';
import type { TimingParams } from './params.js';
import { ASSERTS } from '../../src/core/util/invariants.js';

/** Nanoseconds to move `bytes` at `mbps` MB/s (10^6 B/s: bytes per µs). */
const xferNs = (bytes: number, mbps: number): number => (bytes * 1000) / mbps;

export interface TimingStats {
  commands: number;
  reads: number;
  writes: number;
  copies: number;
  /** Destination pages of copies programmed by copyback (from a page register on their die). */
  copyback_pages: number;
  /** Destination pages of copies that came through the controller (within the device / across the domain). */
  cross_die_pieces: number;
  cross_device_pieces: number;
  /** Source pages copies sensed (once per page, however many pieces it gave). */
  copy_source_pages: number;
  /** Bytes over the host link, both directions. */
  link_bytes: number;
  /** Bytes over the flash channels, both directions. */
  channel_bytes: number;
  /** Reads whose mapping entry was cached / had to be read from a translation page (mapping_cache_bytes > 0). */
  mapping_hits: number;
  mapping_misses: number;
  /** Translation pages read from flash (misses on one page in flight share its read), write-backs' reads included. */
  mapping_reads: number;
  /** Translation pages written back (a changed entry evicted, mapping_writeback not none). */
  mapping_writebacks: number;
  /** Misses whose translation page was in controller memory after a write-back (no flash read). */
  mapping_held: number;
}

export interface TimedSource {
  readonly model: TimingModel;
  readonly offset: number;
  readonly length: number;
}

/** One copy of a batch: its sources, in order, land at dstOffset onward. */
export interface CopyCommand {
  readonly sources: readonly TimedSource[];
  readonly dstOffset: number;
}

/** A destination page of a copy: the pieces that fill it, its die, and its copyback source page (-1: none). */
interface CopyGroup {
  readonly dstPage: number;
  /** Each piece: its source page and die, its bytes, and when its range has been looked up. */
  readonly pieces: { src: TimingModel; srcPage: number; srcDie: number; bytes: number; at: number }[];
  die: number;
  bytes: number;
  cbPage: number;
}

/** The source page on `model` that gives destination page g the most bytes: its page, die and bytes (page -1: none). */
function mainSource(g: CopyGroup, model: TimingModel): { page: number; die: number; bytes: number } {
  let page = -1;
  let die = -1;
  let bytes = 0;
  const from = new Map<number, number>();
  for (const p of g.pieces) {
    if (p.src !== model) continue;
    const b = (from.get(p.srcPage) ?? 0) + p.bytes;
    from.set(p.srcPage, b);
    if (b > bytes) {
      page = p.srcPage;
      die = p.srcDie;
      bytes = b;
    }
  }
  return { page, die, bytes };
}

/** Pages per placement-table chunk (128 KiB of Uint16 each). */
const PLACE_CHUNK = 65536;

/** Write-back buffer pages kept at most (a limit: past it the oldest is programmed first). */
const BUFFER_MAX_ENTRIES = 1 << 16;

/**
 * Written-back translation pages remembered at most (in controller memory, or when last written
 * back): a limit on everything; past it the oldest is forgotten (its page is read again on a miss,
 * its entries count as changed: conservative).
 */
const TPAGES_MAX = 1 << 20;

/** Commands between two prunes of the calendars. */
const PRUNE_EVERY = 64;


/** A page program waiting in its die's queue (or placed: release is then known). */
interface Program {
  readonly die: number;
  /** When its data is in the controller. */
  ready: number;
  /** Bytes it moves over the channel into the die. */
  chBytes: number;
  /** tPROG (its share for a partial page). */
  dur: number;
  /** The buffer bytes it frees when programmed (0 for write-through). */
  bufBytes: number;
  /** When programmed; NaN while pending. */
  release: number;
  /** Its plane and page number in that plane (-1: not merged with other planes' programs). */
  plane: number;
  pageId: number;
  /** The planes a multi-plane program writes (bit per plane). */
  planeMask: number;
  /** The multi-plane program it was merged into (its release is that program's). */
  into: Program | null;
}

/** A program of die `die`'s next page. */
function program(die: number, ready: number, chBytes: number, dur: number, bufBytes: number, plane = 0, pageId = -1): Program {
  return { die, ready, chBytes, dur, bufBytes, release: NaN, plane, pageId, planeMask: 1 << plane, into: null };
}

/** When p is programmed (NaN while pending), through the multi-plane program it joined. */
const released = (p: Program): number => (p.into ?? p).release;

/** Programs looked back over in a die's queue for a multi-plane partner. */
const MERGE_LOOKBACK = 64;

/** A FIFO of programs (array with a head index, compacted when half consumed). */
class ProgramQueue {
  items: Program[] = [];
  head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  peek(): Program | undefined {
    return this.items[this.head];
  }
  push(p: Program): void {
    this.items.push(p);
  }
  shift(): void {
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** A simple FIFO (array with a head index, compacted when half consumed). */
class Fifo<T> {
  items: T[] = [];
  head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  shift(): T | undefined {
    const x = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}

/** A host read dispatched on events (read_dispatch: event): its pages left to time, when it is done so far, whom to tell. */
interface EvRead {
  left: number;
  done: number;
  readonly cb: (t: number) => void;
}

/** One page of an event read: its chip (unit), die and bytes; when commanded (c0); whether its slots are reserved (frozen). */
interface EvPage {
  readonly unit: number;
  readonly die: number;
  readonly bytes: number;
  readonly read: EvRead;
  c0: number;
  frozen: boolean;
}

/** Event reads waiting in one model's chip queues at most (a limit on everything). */
export const EVENT_READS_MAX = 1 << 20;

export class TimingModel {
  readonly params: TimingParams;
  readonly stats: TimingStats = {
    commands: 0, reads: 0, writes: 0, copies: 0, copyback_pages: 0, cross_die_pieces: 0, cross_device_pieces: 0,
    copy_source_pages: 0, link_bytes: 0, channel_bytes: 0, mapping_hits: 0, mapping_misses: 0, mapping_reads: 0,
    mapping_writebacks: 0, mapping_held: 0,
  };
  readonly dies: number;
  /** Per die, the calendar of what it executes: with `issue: chip` the dies of one chip share one. */
  private readonly die: Calendar[];
  /** The distinct die (or chip) calendars and program queues. */
  private readonly units: Calendar[];
  private readonly unitQueues: ProgramQueue[];
  private readonly ch: Calendar[];
  private readonly ctrl: Float64Array;
  private readonly linkUp = new Calendar();
  private readonly linkDown = new Calendar();
  private readonly fabric = new Calendar();
  /** The write-back buffer's DRAM (dram_mbps > 0). */
  private readonly dram = new Calendar();
  /** Programs waiting per die (shared by a chip's dies with `issue: chip`). */
  private readonly pending: ProgramQueue[];
  private pendingCount = 0;
  /** Write-back buffer: programs in the order their data entered it. */
  private readonly buffer = new ProgramQueue();
  private bufBytes = 0;
  /** The frontier page host writes are packed into, not yet full. */
  private open: Program | null = null;
  private lastProgram = 0;
  private sincePrune = 0;
  /** No reservation starts before this (the last prune's now). */
  private floor = 0;
  // Durations in ns, precomputed.
  private readonly tR: number;
  private readonly tProg: number;
  private readonly tBers: number;
  private readonly ctrlNs: number;
  private readonly linkLat: number;
  /** A command's command and address cycles on its channel (command_cycle_ns). */
  private readonly cmdNs: number;
  // Placement: die + 1 of each logical page last written (0 = never), in chunks of PLACE_CHUNK pages.
  private readonly placed = new Map<number, Uint16Array>();
  private frontierPage = 0;
  private wtFill = 0;
  private wtDie = 0;
  /** The write-back buffer's admission limit: dram_bytes, or the write window when smaller. */
  private readonly bufCap: number;
  // The cached mapping table (mapping_cache_bytes > 0): logical page → when its entry is known, least recently used first.
  private readonly cmt: Lru | null;
  private readonly entriesPerTPage: number;
  /** Translation pages being read: page → when read (dropped at prune once past). */
  private readonly mapReads = new Map<number, number>();
  /** Mapping changes so far: a changed entry's aux is the change's number. */
  private mapSeq = 0;
  /** Translation page → the change number at its last write-back (its entries changed before then are clean). */
  private readonly tpageCleanAt = new Map<number, number>();
  /** Translation pages in controller memory after a write-back → their program (null: held for good). */
  private readonly held = new Map<number, Program | null>();
  /** cwdp: the next free page of each plane (die × planes + plane). */
  private readonly planePages: Int32Array;
  // read_dispatch: event: per unit (chip or die) its queue of reads and the page it works on; per channel its round-robin pointer and pending wake-up.
  private readonly evQ: Fifo<EvPage>[] | null = null;
  private readonly evBusy: (EvPage | null)[] = [];
  private readonly evRr: Int32Array = new Int32Array(0);
  private readonly evWake: Float64Array = new Float64Array(0);
  private readonly unitsPerChannel: number;
  private readonly diesPerUnit: number;
  /** Event read pages queued or in flight. */
  private evPages = 0;

  constructor(params: TimingParams, readonly clock: Clock) {
    this.params = params;
    this.dies = params.channels * params.dies_per_channel;
    // issue: chip: a channel's consecutive dies_per_chip dies are one chip and share its calendar and queue.
    const perUnit = params.issue === 'chip' ? params.dies_per_chip : 1;
    this.units = Array.from({ length: this.dies / perUnit }, () => new Calendar());
    this.unitQueues = this.units.map(() => new ProgramQueue());
    this.die = Array.from({ length: this.dies }, (_, d) => this.units[Math.floor(d / perUnit)]!);
    this.diesPerUnit = perUnit;
    this.unitsPerChannel = params.dies_per_channel / perUnit;
    if (params.read_dispatch === 'event') {
      this.evQ = this.units.map(() => new Fifo<EvPage>());
      this.evBusy = this.units.map(() => null);
      this.evRr = new Int32Array(params.channels);
      this.evWake = new Float64Array(params.channels).fill(-1);
    }
    this.pending = Array.from({ length: this.dies }, (_, d) => this.unitQueues[Math.floor(d / perUnit)]!);
    this.ch = Array.from({ length: params.channels }, () => new Calendar());
    this.bufCap = params.write_window_bytes > 0 ? Math.min(params.dram_bytes, params.write_window_bytes) : params.dram_bytes;
    const entries = Math.floor(params.mapping_cache_bytes / params.mapping_entry_bytes);
    this.cmt = entries > 0 ? new Lru(entries) : null;
    this.entriesPerTPage = Math.max(1, Math.floor(params.page_bytes / (params.translation_entry_bytes || params.mapping_entry_bytes)));
    this.planePages = new Int32Array(params.plane_allocation === 'cwdp' ? this.dies * params.planes : 0);
    this.ctrl = new Float64Array(params.ctrl_units);
    this.tR = params.tr_us * NS_PER_US;
    this.tProg = params.tprog_us * NS_PER_US;
    this.tBers = params.tbers_us * NS_PER_US;
    this.ctrlNs = params.ctrl_overhead_us * NS_PER_US;
    this.linkLat = params.link_latency_us * NS_PER_US;
    this.cmdNs = params.command_cycle_ns;
  }

  /** Die holding the logical page of byte `offset`: where it was last written, else its striped home. */
  dieOf(offset: number): number {
    const p = Math.floor(offset / this.params.page_bytes);
    const chunk = this.placed.get(Math.floor(p / PLACE_CHUNK));
    const d = chunk ? chunk[p % PLACE_CHUNK]! : 0;
    return d > 0 ? d - 1 : this.stripedDie(p);
  }

  /**
   * Channel-first striping of page index p (MQSim's CWDP order): channel, then chip on the
   * channel, then die in the chip, then plane.
   */
  private stripedDie(p: number): number {
    const { channels: C, dies_per_channel: W, dies_per_chip: D } = this.params;
    const c = p % C;
    const q = Math.floor(p / C);
    const chip = q % (W / D);
    const die = Math.floor(q / (W / D)) % D;
    return c * W + chip * D + die;
  }

  private stripedPlane(p: number): number {
    return Math.floor(p / this.dies) % this.params.planes;
  }

  /**
   * The page the next page of host data (logical page `lpage`) is programmed into: its die
   * (returned), plane and page number in the plane (slotPlane, slotPage). `dynamic`: the write
   * frontier, moving a die on per page in CWDP order (FEMU, NVMeVirt); `cwdp`: the die and plane
   * the logical page's number stripes to, at that plane's next free page (MQSim's static plane
   * allocation).
   */
  private nextPage(lpage: number): number {
    let d: number;
    if (this.params.plane_allocation === 'cwdp') {
      d = this.stripedDie(lpage);
      this.slotPlane = this.stripedPlane(lpage);
      this.slotPage = this.planePages[d * this.params.planes + this.slotPlane]!++;
    } else {
      const f = this.frontierPage++;
      d = this.stripedDie(f);
      this.slotPlane = this.stripedPlane(f);
      this.slotPage = Math.floor(f / (this.dies * this.params.planes));
    }
    return d;
  }
  private slotPlane = 0;
  private slotPage = 0;

  /** Write-through: the die of the frontier page that `bytes` more go to (pages fill in order). */
  private writeThroughDie(lpage: number, bytes: number): number {
    if (this.wtFill === 0) this.wtDie = this.nextPage(lpage);
    this.wtFill += bytes;
    const d = this.wtDie;
    if (this.wtFill >= this.params.page_bytes) this.wtFill = 0;
    return d;
  }

  private record(page: number, die: number): void {
    const key = Math.floor(page / PLACE_CHUNK);
    let chunk = this.placed.get(key);
    if (!chunk) {
      chunk = new Uint16Array(PLACE_CHUNK);
      this.placed.set(key, chunk);
    }
    chunk[page % PLACE_CHUNK] = die + 1;
  }

  private channelOfDie(d: number): number {
    return Math.floor(d / this.params.dies_per_channel);
  }

  /** The command reaches the device and a controller unit works on it for `extraNs` more. */
  private admit(extraNs = 0): number {
    if (++this.sincePrune >= PRUNE_EVERY) this.prune();
    const arrive = this.clock.now() + this.linkLat;
    let u = 0;
    for (let i = 1; i < this.ctrl.length; i++) if (this.ctrl[i]! < this.ctrl[u]!) u = i;
    const start = Math.max(arrive, this.ctrl[u]!);
    const end = start + this.ctrlNs + extraNs;
    this.ctrl[u] = end;
    this.stats.commands++;
    return end;
  }

  /**
   * Places the waiting programs that have started by now (they would be running), then drops
   * calendar history before now: what still waits starts at or after now, so nothing is placed
   * before it again (place() reads ready times no earlier than this floor).
   */
  private prune(): void {
    this.sincePrune = 0;
    const h = this.clock.now();
    if (h <= this.floor) return;
    if (this.pendingCount > 0) for (let d = 0; d < this.dies; d++) if (this.pending[d]!.length > 0) this.settle(d, h);
    this.floor = h;
    for (const c of this.units) c.prune(h);
    if (this.mapReads.size > 0) for (const [k, r] of this.mapReads) if (r <= h) this.mapReads.delete(k);
    if (this.params.mapping_writeback === 'program' && this.held.size > 0) {
      for (const [k, p] of this.held) if (p && released(p) <= h) this.held.delete(k);
    }
    for (const c of this.ch) c.prune(h);
    this.linkUp.prune(h);
    this.linkDown.prune(h);
    this.fabric.prune(h);
    this.dram.prune(h);
    if (ASSERTS) this.check();
  }

  /**
   * Die `d` senses a page (tR) from `ready` on and its register empties `bytes` over the channel:
   * the die stays busy until the transfer ends (with cache_read, only for tR). Returns when the
   * bytes are in the controller.
   */
  private senseOut(d: number, ready: number, bytes: number): number {
    const die = this.dieCal(d);
    const ch = this.ch[this.channelOfDie(d)]!;
    const x = xferNs(bytes, this.params.channel_mbps);
    this.stats.channel_bytes += bytes;
    if (this.cmdNs > 0) return this.commandThenSense(die, ch, ready, x);
    if (this.params.cache_read === 1) {
      // The die senses; its page leaves from the cache register while the die takes its next command.
      const s = die.fit(ready, this.tR);
      die.take(s, this.tR);
      const cs = ch.fit(s + this.tR, x);
      ch.take(cs, x);
      return cs + x;
    }
    return this.dieThenChannel(die, ch, ready, this.tR, x, 0);
  }

  /**
   * A read whose command crosses the channel (command_cycle_ns > 0). Its command and address
   * cycles take the channel's first free slot at or after the die is free: a chip is commanded
   * only in a gap of its channel, never in the middle of a stretch of transfers (so chips
   * commanded in one gap sense together and then wait in turn for the channel). The die senses
   * from the end of those cycles and its page leaves in the channel's first free slot after the
   * sense, the die holding it until then (with cache_read, the die is free after tR): a die that
   * has been commanded cannot put off its sense to meet the channel. As MQSim 7ec40e3 does:
   * src/ssd/NVM_PHY_ONFI_NVDDR2.cpp, Send_command_to_chip (the channel busy for ReadCommandTime),
   * handle_ready_signal_from_chip (a page sensed while the channel is busy waits in WaitingReadTX,
   * its chip in WAIT_FOR_DATA_OUT) and Execute_simulator_event (a waiting page leaves before the
   * channel is signalled idle, and only an idle channel is given a command:
   * TSU_Base::handle_channel_idle_signal). Returns when the bytes are in the controller.
   */
  private commandThenSense(die: Calendar, ch: Calendar, ready: number, x: number): number {
    const cmd = this.cmdNs;
    const tR = this.tR;
    const held = this.params.cache_read === 1 ? 0 : 1;
    let r = ready;
    let need = cmd + tR + held * x;
    for (let k = 0; k < 8; k++) {
      const s = die.fit(r, need);
      const c0 = ch.fit(s, cmd);
      const cs = ch.fit(c0 + cmd + tR, x);
      const dieEnd = held ? cs + x : c0 + cmd + tR;
      if (die.isFree(c0, dieEnd)) {
        die.takeUntil(c0, dieEnd);
        ch.take(c0, cmd);
        ch.take(cs, x);
        return cs + x;
      }
      r = c0;
      need = dieEnd - c0;
    }
    // The die is free after its last reservation: the command in the channel's first slot from then.
    const c0 = ch.fit(Math.max(ready, die.lastEnd), cmd);
    const cs = ch.fit(c0 + cmd + tR, x);
    die.takeUntil(c0, held ? cs + x : c0 + cmd + tR);
    ch.take(c0, cmd);
    ch.take(cs, x);
    return cs + x;
  }

  /**
   * Finds the earliest s ≥ ready with the die free over [s, s + before + wait + x + after) and the
   * channel free over [s + before + wait, … + x), waiting for the channel as little as it can;
   * reserves both and returns when the die is done.
   */
  private dieThenChannel(die: Calendar, ch: Calendar, ready: number, before: number, x: number, after: number): number {
    let r = ready;
    for (let k = 0; k < 8; k++) {
      const s = die.fit(r, before + x + after);
      const cs = ch.fit(s + before, x);
      const end = cs + x + after;
      // Free from s to the end: the die starts late enough to meet the channel (not held waiting).
      if (cs === s + before || die.isFree(s, end)) {
        die.takeUntil(Math.max(s, cs - before), end);
        ch.take(cs, x);
        return end;
      }
      r = cs - before;
    }
    // The die is free after its last reservation; the channel's first gap after the sense, the die waiting for it.
    const s = Math.max(ready, die.lastEnd);
    const cs = ch.fit(s + before, x);
    die.take(s, cs + x + after - s);
    ch.take(cs, x);
    return cs + x + after;
  }

  /** Places program p: its bytes over the channel from when they are ready, then tPROG on its die. */
  private place(p: Program): number {
    const ch = this.ch[this.channelOfDie(p.die)]!;
    // A program's command and address cycles cross the channel with its data (command_cycle_ns).
    const x = xferNs(p.chBytes, this.params.channel_mbps) + this.cmdNs;
    const cs = ch.fit(Math.max(p.ready, this.floor), x);
    ch.take(cs, x);
    this.stats.channel_bytes += p.chBytes;
    const die = this.dieCal(p.die);
    const s = die.fit(cs + x, p.dur);
    die.take(s, p.dur);
    p.release = s + p.dur;
    if (p.release > this.lastProgram) this.lastProgram = p.release;
    return p.release;
  }

  /** Would program p start before `before`? (Its channel and die slots as they stand.) */
  private startsBefore(p: Program, before: number): boolean {
    if (before === Infinity) return true;
    const x = xferNs(p.chBytes, this.params.channel_mbps) + this.cmdNs;
    const cs = this.ch[this.channelOfDie(p.die)]!.fit(Math.max(p.ready, this.floor), x);
    return this.dieCal(p.die).fit(cs + x, p.dur) < before;
  }

  /** Places die d's waiting programs that start before `before` (all with Infinity), oldest first; stops after `until`. */
  private settle(d: number, before: number, until: Program | null = null): void {
    const q = this.pending[d]!;
    for (let p = q.peek(); p; p = q.peek()) {
      if (!this.startsBefore(p, before)) return;
      this.place(p);
      q.shift();
      this.pendingCount--;
      if (p === until) return;
    }
  }

  private settleAll(): void {
    if (this.pendingCount === 0) return;
    for (let d = 0; d < this.dies; d++) this.settle(d, Infinity);
  }

  /**
   * Queues a program on its die (it is placed when something needs its time). With planes > 1 a
   * program joins the die's latest waiting program when that one writes the same page number on
   * another plane: one multi-plane program, one tPROG (ONFI multi-plane page program; MQSim
   * issues a die's transactions for distinct planes and one page number together).
   */
  private enqueue(p: Program): void {
    const q = this.pending[p.die]!;
    if (this.params.planes > 1 && p.pageId >= 0) {
      for (let i = q.items.length - 1, n = 0; i >= q.head && n < MERGE_LOOKBACK; i--, n++) {
        const o = q.items[i]!;
        if (o.die !== p.die) continue;
        if (o.pageId === p.pageId && (o.planeMask & (1 << p.plane)) === 0) {
          o.planeMask |= 1 << p.plane;
          o.chBytes += p.chBytes;
          if (p.ready > o.ready) o.ready = p.ready;
          if (p.dur > o.dur) o.dur = p.dur;
          p.into = o;
          return;
        }
        break;
      }
    }
    q.push(p);
    this.pendingCount++;
  }

  /** The programmed time of p, placing it (and the programs ahead of it on its die) if pending. */
  private releaseOf(p: Program): number {
    if (p === this.open) this.closeOpen();
    if (p.into) return this.releaseOf(p.into); // merged as it was queued
    if (Number.isNaN(p.release)) this.settle(p.die, Infinity, p);
    return p.release;
  }

  // ── the cached mapping table ──

  /**
   * When logical page `lpage`'s mapping entry is known to a command that needs it from `t`: at
   * once if cached; else after its translation page (entriesPerTPage entries each, striped over the
   * dies as data pages are) has been read from flash, a read already under way for that page shared.
   */
  private lookup(lpage: number, t: number): number {
    const cached = this.cmt!.get(lpage);
    if (cached !== undefined) {
      this.stats.mapping_hits++;
      return cached > t ? cached : t;
    }
    this.stats.mapping_misses++;
    const tpage = Math.floor(lpage / this.entriesPerTPage);
    let r = this.mapReads.get(tpage);
    if (r === undefined || r < t) {
      if (this.inMemory(tpage, t)) {
        // Written back and still in controller memory (MQSim's DepartingMappingEntries): no read.
        r = t;
        this.stats.mapping_held++;
      } else {
        const d = this.stripedDie(tpage);
        if (this.pendingCount > 0) this.settle(d, t);
        r = this.senseOut(d, t, this.params.mapping_entry_bytes);
        this.mapReads.set(tpage, r);
        this.stats.mapping_reads++;
      }
    }
    // map_on_read: the first read of a page never written maps it now, a changed entry.
    const maps = this.params.map_on_read === 1 && !this.isPlaced(lpage);
    if (maps) this.record(lpage, this.stripedDie(lpage));
    this.cmtSet(lpage, r, maps, t);
    return r;
  }

  /** Whether logical page p has been written (or mapped by a read with map_on_read). */
  private isPlaced(p: number): boolean {
    const chunk = this.placed.get(Math.floor(p / PLACE_CHUNK));
    return chunk !== undefined && chunk[p % PLACE_CHUNK]! > 0;
  }

  /**
   * Caches lpage's entry, known at `at`; `changed` marks it dirty (a write, a copy, a read that maps
   * the page). An evicted changed entry has its translation page written back at `t`
   * (mapping_writeback), unless a write-back since its change has cleaned it.
   */
  private cmtSet(lpage: number, at: number, changed: boolean, t: number): void {
    const cmt = this.cmt!;
    cmt.set(lpage, at, changed ? ++this.mapSeq : undefined);
    if (Number.isNaN(cmt.evictedKey) || cmt.evictedAux === 0 || this.params.mapping_writeback === 'none') return;
    const tpage = Math.floor(cmt.evictedKey / this.entriesPerTPage);
    if (cmt.evictedAux > (this.tpageCleanAt.get(tpage) ?? 0)) this.writeBack(tpage, t);
  }

  /**
   * Writes translation page `tpage` back from `t` (DFTL's batch update; MQSim's
   * generate_flash_writeback_request_for_mapping_data): reads it (later misses in it share the
   * read), merges every changed cached entry of it (all clean from now), and programs it on its
   * die (`program`: queued as data programs are, the page in memory until programmed) or keeps it
   * in memory for good (`held`).
   */
  private writeBack(tpage: number, t: number): void {
    this.stats.mapping_writebacks++;
    this.remember(this.tpageCleanAt, tpage, ++this.mapSeq);
    const d = this.stripedDie(tpage);
    if (this.pendingCount > 0) this.settle(d, t);
    const r = this.senseOut(d, t, this.params.page_bytes);
    this.stats.mapping_reads++;
    const prev = this.mapReads.get(tpage);
    if (prev === undefined || prev < r) this.mapReads.set(tpage, r);
    let p: Program | null = null;
    if (this.params.mapping_writeback === 'program') {
      p = program(d, r, this.params.page_bytes, this.tProg, 0);
      this.enqueue(p);
    }
    this.remember(this.held, tpage, p);
  }

  /** Sets k in a map of translation pages, forgetting the oldest past TPAGES_MAX. */
  private remember<V>(m: Map<number, V>, k: number, v: V): void {
    m.delete(k);
    if (m.size >= TPAGES_MAX) m.delete(m.keys().next().value!);
    m.set(k, v);
  }

  /** Whether translation page `tpage` is in controller memory at `t` after a write-back. */
  private inMemory(tpage: number, t: number): boolean {
    const p = this.held.get(tpage);
    if (p === undefined) return false;
    if (p === null) return true;
    const rel = released(p);
    return Number.isNaN(rel) || rel > t;
  }

  // ── the write-back buffer ──

  /** When `bytes` more fit in the write-back buffer, at or after `t`. */
  private bufferAdmit(bytes: number, t: number): number {
    const cap = this.bufCap;
    let at = t;
    const b = this.buffer;
    // Programs finished by t have left the buffer.
    for (let p = b.peek(); p && !Number.isNaN(released(p)) && released(p) <= at; p = b.peek()) this.bufferShift();
    // A write larger than the buffer streams through it: it waits for the buffer to empty.
    const need = Math.min(bytes, cap);
    while ((this.bufBytes + need > cap || b.length >= BUFFER_MAX_ENTRIES) && b.length > 0) {
      at = Math.max(at, this.releaseOf(b.peek()!));
      this.bufferShift();
    }
    return at;
  }

  private bufferShift(): void {
    this.bufBytes -= this.buffer.peek()!.bufBytes;
    this.buffer.shift();
  }

  /** Data of `bytes` for logical page `lpage`, in the controller at `ready`, packed into the frontier's open page. */
  private pack(lpage: number, bytes: number, ready: number): void {
    let p = this.open;
    if (!p) {
      p = program(this.nextPage(lpage), ready, 0, 0, 0, this.slotPlane, this.slotPage);
      this.open = p;
      this.buffer.push(p);
    }
    this.record(lpage, p.die);
    p.chBytes += bytes;
    p.bufBytes += bytes;
    this.bufBytes += bytes;
    if (ready > p.ready) p.ready = ready;
    if (p.chBytes >= this.params.page_bytes) this.closeOpen();
  }

  /** The open page goes to its die's queue: a full page costs tPROG, a partial one (FLUSH) its share. */
  private closeOpen(): void {
    const p = this.open;
    if (!p) return;
    this.open = null;
    p.dur = this.tProg * Math.min(1, p.chBytes / this.params.page_bytes);
    this.enqueue(p);
  }

  // ── commands ──

  /** READ: each page touched costs tR on its die, then its bytes over the channel and the link. */
  read(offset: number, length: number): number {
    const t = this.admit();
    this.stats.reads++;
    this.stats.link_bytes += length;
    const page = this.params.page_bytes;
    const linkRate = this.params.link_mbps;
    let done = t;
    for (let at = offset, end = offset + length; at < end; ) {
      const next = Math.min(end, (Math.floor(at / page) + 1) * page);
      const bytes = next - at;
      const d = this.dieOf(at);
      const known = this.cmt ? this.lookup(Math.floor(at / page), t) : t;
      if (this.pendingCount > 0) this.settle(d, known);
      const inCtrl = this.senseOut(d, known, bytes);
      const xl = xferNs(bytes, linkRate);
      const ls = this.linkDown.fit(inCtrl, xl);
      this.linkDown.take(ls, xl);
      if (ls + xl > done) done = ls + xl;
      at = next;
    }
    return done;
  }

  /**
   * READ whose completion time is handed to `cb` once it is known (a device then delivers the
   * completion at that time on the clock). With `read_dispatch: reserve` that is at once, the time
   * read() gives; with `event` the read's pages wait in their chips' queues and are dispatched on
   * the clock's events (evKick), and `cb` runs when the last of its pages has been sensed and given
   * its channel and link slots, at or before the time it is given. `cb` must only schedule work.
   */
  readThen(offset: number, length: number, cb: (t: number) => void): void {
    if (!this.evQ) return cb(this.read(offset, length));
    if (this.evPages >= EVENT_READS_MAX) throw new RangeError(`timing: more than ${EVENT_READS_MAX} event-dispatched read pages outstanding`);
    const t = this.admit();
    this.stats.reads++;
    this.stats.link_bytes += length;
    const page = this.params.page_bytes;
    const r: EvRead = { left: 0, done: t, cb };
    const pages: { p: EvPage; at: number }[] = [];
    for (let at = offset, end = offset + length; at < end; ) {
      const next = Math.min(end, (Math.floor(at / page) + 1) * page);
      const d = this.dieOf(at);
      // The mapping entry first (a translation read stays on the calendars), then the chip's queue.
      const known = this.cmt ? this.lookup(Math.floor(at / page), t) : t;
      pages.push({ p: { unit: Math.floor(d / this.diesPerUnit), die: d, bytes: next - at, read: r, c0: 0, frozen: false }, at: known });
      at = next;
    }
    r.left = pages.length;
    this.evPages += pages.length;
    const now = this.clock.now();
    for (const { p, at } of pages) {
      if (at > now) this.clock.at(at, () => this.evArrive(p));
      else this.evArrive(p);
    }
  }

  /** An event read's page reaches its chip: programs that would have started by now go first (reads before programs), then it queues. */
  private evArrive(p: EvPage): void {
    if (this.pendingCount > 0) this.settle(p.die, this.clock.now());
    this.evQ![p.unit]!.push(p);
    this.evKick(Math.floor(p.unit / this.unitsPerChannel));
  }

  /**
   * Channel `c` at now: if a command fits in its channel now (the pages already sensed and
   * waiting hold their slots), its chips are offered a command in round robin, one command per
   * free slot (with command_cycle_ns 0 every idle chip at once): a chip with reads queued that is
   * idle (no event read in flight, nothing on its calendar after now) is commanded. Otherwise a
   * wake-up when the channel, or a chip held by calendar work, is free.
   */
  private evKick(c: number): void {
    const now = this.clock.now();
    const free = this.ch[c]!.fit(now, this.cmdNs);
    if (free > now) return this.evWakeAt(c, free);
    const K = this.unitsPerChannel;
    const base = c * K;
    let blocked = Infinity;
    for (let i = 0; i < K; i++) {
      const k = this.evRr[c]!;
      this.evRr[c] = k + 1 === K ? 0 : k + 1;
      const u = base + k;
      const q = this.evQ![u]!;
      if (q.length === 0 || this.evBusy[u]) continue;
      const cal = this.units[u]!;
      if (cal.lastEnd > now) {
        if (cal.lastEnd < blocked) blocked = cal.lastEnd;
        continue;
      }
      this.evCommand(u, q.shift()!, now);
      if (this.cmdNs > 0) return this.evWakeAt(c, now + this.cmdNs);
    }
    if (blocked < Infinity) this.evWakeAt(c, blocked);
  }

  private evWakeAt(c: number, t: number): void {
    if (this.evWake[c] === t) return;
    this.evWake[c] = t;
    this.clock.at(t, () => {
      if (this.evWake[c] === t) this.evWake[c] = -1;
      this.evKick(c);
    });
  }

  /** Commands chip (unit) u to read page p now: its command cycles on the channel, then tR; the page is timed when sensed. */
  private evCommand(u: number, p: EvPage, now: number): void {
    p.c0 = now;
    this.evBusy[u] = p;
    this.ch[Math.floor(u / this.unitsPerChannel)]!.take(now, this.cmdNs);
    this.units[u]!.take(now, this.cmdNs + this.tR);
    this.clock.at(now + this.cmdNs + this.tR, () => {
      if (!p.frozen) this.evFreeze(p);
    });
  }

  /**
   * Reserves the rest of page p's read: its transfer in the channel's first free slot after its
   * sense (after the pages sensed before it), its chip held until then (cache_read: free after
   * tR), then the link; the chip is released (and its channel offered a command) when done. Runs
   * when the sense ends, or earlier when calendar work is about to be placed on its chip (dieCal).
   */
  private evFreeze(p: EvPage): void {
    p.frozen = true;
    const senseEnd = p.c0 + this.cmdNs + this.tR;
    const ch = this.ch[this.channelOfDie(p.die)]!;
    const x = xferNs(p.bytes, this.params.channel_mbps);
    this.stats.channel_bytes += p.bytes;
    const cs = ch.fit(senseEnd, x);
    ch.take(cs, x);
    const release = this.params.cache_read === 1 ? senseEnd : cs + x;
    this.units[p.unit]!.takeUntil(senseEnd, release);
    const xl = xferNs(p.bytes, this.params.link_mbps);
    const ls = this.linkDown.fit(cs + x, xl);
    this.linkDown.take(ls, xl);
    const r = p.read;
    if (ls + xl > r.done) r.done = ls + xl;
    this.clock.at(release, () => {
      this.evBusy[p.unit] = null;
      this.evPages--;
      this.evKick(Math.floor(p.unit / this.unitsPerChannel));
    });
    if (--r.left === 0) r.cb(r.done);
  }

  /** Die d's calendar for calendar work: an event read in flight on its chip gets its remaining slots first. */
  private dieCal(d: number): Calendar {
    if (this.evQ) {
      const p = this.evBusy[Math.floor(d / this.diesPerUnit)];
      if (p && !p.frozen) this.evFreeze(p);
    }
    return this.die[d]!;
  }

  /** WRITE: over the link into the write-back buffer (or programmed at once with dram_bytes 0). */
  write(offset: number, length: number): number {
    const t = this.admit();
    this.stats.writes++;
    this.stats.link_bytes += length;
    const xl = xferNs(length, this.params.link_mbps);
    const ls = this.linkUp.fit(t, xl);
    this.linkUp.take(ls, xl);
    let inDevice = ls + xl;
    const page = this.params.page_bytes;
    if (this.params.dram_bytes > 0) {
      if (this.params.dram_mbps > 0) {
        // Into the buffer's DRAM: a fixed cost per access and the bytes at its rate.
        const dx = this.params.dram_access_us * NS_PER_US + xferNs(length, this.params.dram_mbps);
        const ds = this.dram.fit(inDevice, dx);
        this.dram.take(ds, dx);
        inDevice = ds + dx;
      }
      const buffered = this.bufferAdmit(length, inDevice);
      const perWrite = this.params.program_unit === 'write';
      for (let at = offset, end = offset + length; at < end; ) {
        const next = Math.min(end, (Math.floor(at / page) + 1) * page);
        const lpage = Math.floor(at / page);
        if (this.cmt) this.cmtSet(lpage, buffered, true, buffered); // a write makes its entry: no read
        if (perWrite) {
          // A page of its own, programmed whole (tPROG) however few bytes the write gives it.
          const p = program(this.nextPage(lpage), buffered, next - at, this.tProg, next - at, this.slotPlane, this.slotPage);
          this.record(lpage, p.die);
          this.buffer.push(p);
          this.bufBytes += p.bufBytes;
          this.enqueue(p);
        } else this.pack(lpage, next - at, buffered);
        at = next;
      }
      return buffered;
    }
    let done = inDevice;
    for (let at = offset, end = offset + length; at < end; ) {
      const next = Math.min(end, (Math.floor(at / page) + 1) * page);
      const bytes = next - at;
      const perWrite = this.params.program_unit === 'write';
      const d = perWrite ? this.nextPage(Math.floor(at / page)) : this.writeThroughDie(Math.floor(at / page), bytes);
      this.record(Math.floor(at / page), d);
      if (this.cmt) this.cmtSet(Math.floor(at / page), inDevice, true, inDevice);
      const r = this.programNow(program(d, inDevice, bytes, perWrite ? this.tProg : (this.tProg * bytes) / page, 0));
      if (r > done) done = r;
      at = next;
    }
    return done;
  }

  /** Places a program now, after the programs already waiting on its die. */
  private programNow(p: Program): number {
    if (this.pendingCount > 0) this.settle(p.die, Infinity);
    return this.place(p);
  }

  /** FLUSH: the controller, then every buffered program. */
  flush(): number {
    const t = this.admit();
    this.closeOpen();
    this.settleAll();
    return Math.max(t, this.lastProgram);
  }

  /** DISCARD / WRITE ZEROES (a mapping update): controller time only. */
  discard(_offset: number, _length: number): number {
    return this.admit();
  }

  /** Zone reset (or a block erase): tBERS on every die the range's erase blocks span, in parallel. */
  erase(offset: number, length: number): number {
    const t = this.admit();
    const stripe = this.params.page_bytes * this.dies;
    const touched = length >= stripe ? this.dies : Math.max(1, Math.ceil(length / this.params.page_bytes));
    let done = t;
    const seen = new Set<number>();
    for (let i = 0; i < touched; i++) {
      const d = this.dieOf(offset + i * this.params.page_bytes);
      if (seen.has(d)) continue;
      seen.add(d);
      if (this.pendingCount > 0) this.settle(d, t);
      let from = t;
      if (this.cmdNs > 0) {
        // The erase command's cycles cross the die's channel first.
        const ch = this.ch[this.channelOfDie(d)]!;
        const c0 = ch.fit(t, this.cmdNs);
        ch.take(c0, this.cmdNs);
        from = c0 + this.cmdNs;
      }
      const s = this.dieCal(d).fit(from, this.tBers);
      this.die[d]!.take(s, this.tBers);
      if (s + this.tBers > done) done = s + this.tBers;
    }
    return done;
  }

  /**
   * A copy inside the device (NVMe Copy, a nullblk copy, the media side of a SCSI copy): the
   * sources, in order, land at dstOffset onward. `perRangeUs` is the controller's cost per source
   * range (NVMe: copy_range_us). Returns when the copy is done (its data buffered or programmed).
   */
  copy(sources: readonly TimedSource[], dstOffset: number, perRangeUs = this.params.copy_range_us): number {
    return this.copyBatch([{ sources, dstOffset }], perRangeUs)[0]!;
  }

  /**
   * Copies queued together (a GC victim's commands): the controller admits each, then every
   * source page of the batch is sensed (reads first, as the die queues serve them), then each
   * destination page is buffered or programmed. Returns each copy's completion, in order.
   */
  copyBatch(cmds: readonly CopyCommand[], perRangeUs = this.params.copy_range_us): number[] {
    const page = this.params.page_bytes;
    // The controller takes each command (ctrl_overhead_us), then its source ranges one after
    // another (perRangeUs each: descriptor fetch, FTL lookup); a range's reads start once it is looked up.
    const perRange = perRangeUs * NS_PER_US;
    const starts = cmds.map((c) => {
      this.stats.copies++;
      return this.admit(c.sources.length * perRange) - c.sources.length * perRange;
    });
    // 1. Pieces, each inside one source page and one destination page, grouped by destination page.
    const all: { cmd: number; group: CopyGroup }[] = [];
    cmds.forEach((c, i) => {
      let d = c.dstOffset;
      let g: CopyGroup | undefined;
      for (let r = 0; r < c.sources.length; r++) {
        const s = c.sources[r]!;
        const looked = starts[i]! + (r + 1) * perRange;
        const srcPageBytes = s.model.params.page_bytes;
        for (let at = s.offset, end = s.offset + s.length; at < end; ) {
          const bytes = Math.min(end - at, (Math.floor(at / srcPageBytes) + 1) * srcPageBytes - at, (Math.floor(d / page) + 1) * page - d);
          const dstPage = Math.floor(d / page);
          if (!g || g.dstPage !== dstPage) {
            g = { dstPage, pieces: [], die: 0, bytes: 0, cbPage: -1 };
            all.push({ cmd: i, group: g });
          }
          g.pieces.push({ src: s.model, srcPage: Math.floor(at / srcPageBytes), srcDie: s.model.dieOf(at), bytes, at: looked });
          g.bytes += bytes;
          at += bytes;
          d += bytes;
        }
      }
    });
    // 2. Where each destination page goes, and which source page (if any) it is copied back from.
    // Copyback where it does not make the copy wait needlessly. With write-through the copy waits
    // for its programs anyway: a page is copied back where the frontier's page is on its main
    // source page's die. With copyback-aware allocation (ZNS+'s CAB) the firmware places a page on
    // its main source page's die when the page, programmed there after the die's earlier work,
    // would be done no later than the batch's transfers through the controller are estimated to
    // end (each channel's bytes out, from when it is free): copyback then takes load off the
    // channels (and the buffer) without holding the batch up.
    const aware = this.params.allocation === 'copyback-aware';
    const writeThrough = this.params.dram_bytes === 0;
    const copyback = this.params.copyback === 1;
    // A source page giving pieces to more than one destination page is sensed for the others
    // anyway: copying one of them back would sense it a second time (a tR more), so only a source
    // page wholly inside one destination page is a copyback candidate.
    const groupsOf = new Map<number, number>();
    for (const { group: g } of all) {
      const mine = new Set<number>();
      for (const p of g.pieces) if (p.src === this) mine.add(p.srcPage);
      for (const page of mine) groupsOf.set(page, (groupsOf.get(page) ?? 0) + 1);
    }
    const best = all.map(({ group: g }) => {
      const b = mainSource(g, this);
      return b.page >= 0 && groupsOf.get(b.page)! > 1 ? { page: -1, die: -1, bytes: 0 } : b;
    });
    let placeOnSource: Uint8Array | null = null;
    if (copyback && aware && !writeThrough) placeOnSource = this.copybackChoice(all.map((a) => a.group), best, starts);
    all.forEach(({ group: g }, i) => {
      const b = best[i]!;
      if (this.cmt) this.cmtSet(g.dstPage, starts[all[i]!.cmd]!, true, starts[all[i]!.cmd]!); // the copy makes its destination's entries, as a write does
      if (placeOnSource?.[i]) {
        g.die = b.die;
        g.cbPage = b.page;
        this.record(g.dstPage, g.die);
      } else if (writeThrough) {
        // As a host write's: the frontier page it fills (copyback if that is its main source's die).
        g.die = this.writeThroughDie(g.dstPage, g.bytes);
        this.record(g.dstPage, g.die);
        g.cbPage = copyback && b.page >= 0 && b.die === g.die ? b.page : -1;
      } else g.die = -1; // packed into the frontier's open page in step 4, as a host write is
    });
    // 3. Each source page whose bytes travel the channel is sensed once, all its pieces with it.
    const sensed = new Map<TimingModel, Map<number, { die: number; bytes: number; ready: number; at: number }>>();
    for (const { group: g } of all) {
      for (const p of g.pieces) {
        if (p.src === this && p.srcPage === g.cbPage) continue;
        let m = sensed.get(p.src);
        if (!m) sensed.set(p.src, (m = new Map()));
        const e = m.get(p.srcPage);
        if (e) {
          e.bytes += p.bytes;
          if (p.at < e.at) e.at = p.at;
        } else m.set(p.srcPage, { die: p.srcDie, bytes: p.bytes, ready: 0, at: p.at });
      }
    }
    for (const [src, pages] of sensed) {
      for (const [srcPage, e] of pages) {
        // The firmware finds each source page as a read does (through its mapping cache).
        const known = src.cmt ? src.lookup(srcPage, e.at) : e.at;
        if (src.pendingCount > 0) src.settle(e.die, known);
        e.ready = src.senseOut(e.die, known, e.bytes);
        src.stats.copy_source_pages++;
      }
    }
    // 4. Each destination page: its channel data in the controller, then programmed (buffered or at once).
    const done = cmds.map((c, i) => starts[i]! + c.sources.length * perRange);
    const dramPaid = new Uint8Array(cmds.length);
    const buffered = !writeThrough;
    for (const { cmd, group: g } of all) {
      let ready = g.pieces[g.pieces.length - 1]!.at;
      let chBytes = 0;
      for (const p of g.pieces) {
        if (p.src === this && p.srcPage === g.cbPage) continue;
        let r = sensed.get(p.src)!.get(p.srcPage)!.ready;
        if (p.src !== this) {
          // Across the copy domain's fabric to this device's controller.
          const x = xferNs(p.bytes, this.params.fabric_mbps);
          const fs = this.fabric.fit(r, x);
          this.fabric.take(fs, x);
          r = fs + x + this.params.fabric_latency_us * NS_PER_US;
        }
        if (r > ready) ready = r;
        chBytes += p.bytes;
      }
      const dur = (this.tProg * g.bytes) / page;
      let end: number;
      if (g.cbPage >= 0) {
        // Copyback: the source page into the die's register (tR), the other pieces in over the channel, tPROG.
        if (this.pendingCount > 0) this.settle(g.die, ready);
        end = this.dieThenChannel(this.dieCal(g.die), this.ch[this.channelOfDie(g.die)]!, ready, this.tR, xferNs(chBytes, this.params.channel_mbps) + this.cmdNs, dur);
        this.stats.channel_bytes += chBytes;
        if (end > this.lastProgram) this.lastProgram = end;
        this.stats.copyback_pages++;
      } else {
        if (g.pieces.some((p) => p.src !== this)) this.stats.cross_device_pieces++;
        else this.stats.cross_die_pieces++;
        if (buffered) {
          if (this.params.dram_mbps > 0) {
            // Into the buffer's DRAM, as a host write's data: one access per command, its bytes at the DRAM's rate.
            const dx = (dramPaid[cmd] ? 0 : this.params.dram_access_us * NS_PER_US) + xferNs(chBytes, this.params.dram_mbps);
            dramPaid[cmd] = 1;
            const ds = this.dram.fit(ready, dx);
            this.dram.take(ds, dx);
            ready = ds + dx;
          }
          end = this.bufferAdmit(chBytes, ready);
          if (g.die < 0) this.pack(g.dstPage, chBytes, end);
          else {
            const p = program(g.die, end, chBytes, dur, chBytes);
            this.buffer.push(p);
            this.bufBytes += chBytes;
            this.enqueue(p);
          }
        } else {
          end = this.programNow(program(g.die, ready, chBytes, dur, 0));
        }
      }
      if (end > done[cmd]!) done[cmd] = end;
    }
    return done;
  }

  /**
   * Copyback-aware placement for a batch: which destination pages go on their main source page's
   * die. Greedy over the pages in order: a page is copied back when its die, in its first free
   * slot after a program in progress and the batch's earlier copybacks there, would finish it by the
   * time the batch's channel transfers are estimated to end (the busiest source channel's bytes
   * out at its rate, from when it is free); each page taken off a channel shortens that estimate.
   */
  private copybackChoice(groups: readonly CopyGroup[], best: readonly { page: number; die: number; bytes: number }[], starts: readonly number[]): Uint8Array {
    const rate = this.params.channel_mbps;
    let t0 = Infinity;
    for (const s of starts) if (s < t0) t0 = s;
    if (t0 === Infinity) t0 = this.clock.now();
    const chOut = new Float64Array(this.params.channels);
    for (const g of groups) for (const p of g.pieces) if (p.src === this) chOut[this.channelOfDie(p.srcDie)]! += p.bytes;
    const chFree = this.ch.map((c) => Math.max(t0, c.lastEnd));
    const chEnd = (c: number): number => chFree[c]! + this.tR + xferNs(chOut[c]!, rate);
    let end = 0;
    for (let c = 0; c < chOut.length; c++) if (chOut[c]! > 0) end = Math.max(end, chEnd(c));
    // The dies serve the batch's source reads before its programs: a page copied back on a die
    // starts after that die's share of the reads (each source page sensed once).
    const senses = new Map<number, number>();
    const seen = new Set<number>();
    for (const g of groups) {
      for (const p of g.pieces) {
        if (p.src !== this || seen.has(p.srcPage)) continue;
        seen.add(p.srcPage);
        senses.set(p.srcDie, (senses.get(p.srcDie) ?? 0) + 1);
      }
    }
    const senseNs = this.tR + (this.params.cache_read === 1 ? 0 : xferNs(this.params.page_bytes, rate));
    const dieAt = new Map<number, number>();
    const out = new Uint8Array(groups.length);
    groups.forEach((g, i) => {
      const b = best[i]!;
      if (b.page < 0) return;
      const other = g.bytes - b.bytes;
      const dur = this.tR + xferNs(other, rate) + (this.tProg * g.bytes) / this.params.page_bytes;
      const from = dieAt.get(b.die) ?? t0 + (this.pending[b.die]!.length > 0 ? this.tProg : 0) + (senses.get(b.die) ?? 0) * senseNs;
      const fin = this.dieCal(b.die).fit(from, dur) + dur;
      if (fin > end) return;
      out[i] = 1;
      dieAt.set(b.die, fin);
      const c = this.channelOfDie(b.die);
      chOut[c] = chOut[c]! - b.bytes;
      end = 0;
      for (let k = 0; k < chOut.length; k++) if (chOut[k]! > 0) end = Math.max(end, chEnd(k));
      end = Math.max(end, fin);
    });
    return out;
  }

  /**
   * The SCSI copy manager's data mover (EXTENDED COPY segments, WRITE USING TOKEN): its own rate
   * and per-segment cost on top of the media's copy. Returns when the segment is done.
   */
  copyManagerSegment(bytes: number, mediaDone: number): number {
    const start = Math.max(this.clock.now(), this.cmFree);
    const end = start + this.params.xcopy_segment_us * NS_PER_US + xferNs(bytes, this.params.xcopy_mbps);
    this.cmFree = end;
    return Math.max(end, mediaDone);
  }
  private cmFree = 0;

  /** POPULATE TOKEN: controller time plus building the token's point-in-time representation. */
  populateToken(): number {
    return this.admit(this.params.populate_token_us * NS_PER_US);
  }

  /** The time at which every resource is idle, every buffered page programmed (for tests and drains). */
  idleAt(): number {
    if (this.evPages > 0) throw new Error('timing: event-dispatched reads outstanding; run the clock until they complete');
    this.closeOpen();
    this.settleAll();
    let t = Math.max(this.linkUp.lastEnd, this.linkDown.lastEnd, this.fabric.lastEnd, this.dram.lastEnd, this.lastProgram, this.cmFree);
    for (const c of this.units) if (c.lastEnd > t) t = c.lastEnd;
    for (const c of this.ch) if (c.lastEnd > t) t = c.lastEnd;
    for (const v of this.ctrl) if (v > t) t = v;
    return t;
  }

  /** Checks the invariants of every calendar and queue (tests; COPYLAB_ASSERT=1 runs). */
  check(): void {
    for (const c of [...this.units, ...this.ch, this.linkUp, this.linkDown, this.fabric, this.dram]) c.check();
    let n = 0;
    for (const q of this.unitQueues) n += q.length;
    if (n !== this.pendingCount) throw new Error(`timing: ${n} programs waiting, counted ${this.pendingCount}`);
    if (this.evQ) {
      let q = 0;
      for (let u = 0; u < this.units.length; u++) q += this.evQ[u]!.length + (this.evBusy[u] ? 1 : 0);
      if (q > this.evPages) throw new Error(`timing: ${q} event read pages queued or in flight, counted ${this.evPages}`);
    }
    if (this.cmt && this.cmt.size > this.cmt.capacity) throw new Error(`timing: ${this.cmt.size} mapping entries cached of ${this.cmt.capacity}`);
    if (this.bufBytes < 0 || (this.params.dram_bytes > 0 && this.bufBytes > this.params.dram_bytes + this.params.page_bytes)) {
      throw new Error(`timing: write-back buffer holds ${this.bufBytes} bytes of ${this.params.dram_bytes}`);
    }
  }
}
