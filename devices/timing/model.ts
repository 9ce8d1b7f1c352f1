/**
 * A device timing model (docs/timing.md): the resources a command occupies and for how long.
 *
 * Resources are timelines, each the modeled time at which it is next free: the host link (one per
 * direction), the controller's units, every channel and every die. A command reserves them in
 * the order the work flows, each step starting when both its input is ready and the resource is
 * free, so contention queues commands and completions come out in modeled-time order.
 *
 * Where data lives: a page-mapped FTL's placement. Writes (and copies through the controller)
 * are programmed at a write frontier that moves across the dies channel first, one die per page
 * of data written, as FEMU's and NVMeVirt's page allocators advance their write pointer; the die
 * each logical page was last written to is remembered (a paged table, memory in proportion to
 * the pages touched). A page never written is read from its striped home (logical page p on
 * channel p mod C, way ⌊p / C⌋ mod W). Reads cost a full
 * tR per page touched and move only the bytes asked for over the channel; the die stays busy
 * until its page register has been emptied onto the channel. Host writes go over the link into
 * the write-back buffer (dram_bytes) and complete there; the buffer drains by programming, each
 * chunk costing its share of tPROG on its die (an FTL packs small writes into whole pages), and a
 * write waits when the buffer is full. With dram_bytes 0 a write completes when programmed.
 *
 * Copies inside the device:
 * - same-die copyback (with `copyback` on, a whole page is rewritten on the die it is read from):
 *   the die is busy tR + tPROG, no channel transfer (the path ZNS+ relies on); it completes when
 *   programmed;
 * - cross-die through the controller: tR, a transfer over the source channel, a transfer over the
 *   destination channel, tPROG; the data enters the write-back buffer like a host write's and the
 *   piece completes there (with dram_bytes 0: when programmed);
 * - cross-device inside a copy domain: as cross-die, with the fabric between the two devices in
 *   the middle (the source device's dies and channels are the ones used for the read).
 */
import { NS_PER_US, type Clock } from '../../src/core/time/clock.js';
import type { TimingParams } from './params.js';

/** Bytes per microsecond at `mbps` MB/s (10^6 B/s) is mbps; nanoseconds for `bytes`: */
const xferNs = (bytes: number, mbps: number): number => (bytes * 1000) / mbps;

export interface TimingStats {
  commands: number;
  reads: number;
  writes: number;
  copies: number;
  /** Copy pieces by path. */
  copyback_pages: number;
  cross_die_pieces: number;
  cross_device_pieces: number;
  /** Bytes over the host link, both directions. */
  link_bytes: number;
}

export interface TimedSource {
  readonly model: TimingModel;
  readonly offset: number;
  readonly length: number;
}

/** Pages per placement-table chunk (128 KiB of Uint16 each). */
const PLACE_CHUNK = 65536;

/** Write-back buffer entries kept at most (a limit; older releases are merged). */
const BUFFER_MAX_ENTRIES = 1 << 16;

export class TimingModel {
  readonly params: TimingParams;
  readonly stats: TimingStats = { commands: 0, reads: 0, writes: 0, copies: 0, copyback_pages: 0, cross_die_pieces: 0, cross_device_pieces: 0, link_bytes: 0 };
  readonly dies: number;
  private readonly die: Float64Array;
  private readonly ch: Float64Array;
  private readonly ctrl: Float64Array;
  private linkUp = 0;
  private linkDown = 0;
  private fabric = 0;
  // Write-back buffer: FIFO of (release time, bytes) of programs not yet known to be done.
  private bufT: number[] = [];
  private bufB: number[] = [];
  private bufHead = 0;
  private bufBytes = 0;
  private lastProgram = 0;
  // Durations in ns, precomputed.
  private readonly tR: number;
  private readonly tProg: number;
  private readonly tBers: number;
  private readonly ctrlNs: number;
  private readonly linkLat: number;
  // Placement: die + 1 of each logical page last written (0 = never), in chunks of PLACE_CHUNK pages.
  private readonly placed = new Map<number, Uint16Array>();
  private frontierPage = 0;
  private frontierFill = 0;

  constructor(params: TimingParams, readonly clock: Clock) {
    this.params = params;
    this.dies = params.channels * params.dies_per_channel;
    this.die = new Float64Array(this.dies);
    this.ch = new Float64Array(params.channels);
    this.ctrl = new Float64Array(params.ctrl_units);
    this.tR = params.tr_us * NS_PER_US;
    this.tProg = params.tprog_us * NS_PER_US;
    this.tBers = params.tbers_us * NS_PER_US;
    this.ctrlNs = params.ctrl_overhead_us * NS_PER_US;
    this.linkLat = params.link_latency_us * NS_PER_US;
  }

  /** Die holding the logical page of byte `offset`: where it was last written, else its striped home. */
  dieOf(offset: number): number {
    const p = Math.floor(offset / this.params.page_bytes);
    const chunk = this.placed.get(Math.floor(p / PLACE_CHUNK));
    const d = chunk ? chunk[p % PLACE_CHUNK]! : 0;
    return d > 0 ? d - 1 : this.stripedDie(p);
  }

  /** Channel-first striping of page index p. */
  private stripedDie(p: number): number {
    const c = p % this.params.channels;
    const w = Math.floor(p / this.params.channels) % this.params.dies_per_channel;
    return c * this.params.dies_per_channel + w;
  }

  /** The die the write frontier programs `bytes` of the logical page of `offset` on; records it. */
  private placeWrite(offset: number, bytes: number): number {
    const d = this.stripedDie(this.frontierPage);
    this.frontierFill += bytes;
    if (this.frontierFill >= this.params.page_bytes) {
      this.frontierFill = 0;
      this.frontierPage++;
    }
    this.record(Math.floor(offset / this.params.page_bytes), d);
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
    const arrive = this.clock.now() + this.linkLat;
    let u = 0;
    for (let i = 1; i < this.ctrl.length; i++) if (this.ctrl[i]! < this.ctrl[u]!) u = i;
    const start = Math.max(arrive, this.ctrl[u]!);
    const end = start + this.ctrlNs + extraNs;
    this.ctrl[u] = end;
    this.stats.commands++;
    return end;
  }

  /** READ: each page touched costs tR on its die, then its bytes over the channel and the link. */
  read(offset: number, length: number): number {
    const t = this.admit();
    this.stats.reads++;
    this.stats.link_bytes += length;
    const page = this.params.page_bytes;
    const chRate = this.params.channel_mbps;
    const linkRate = this.params.link_mbps;
    let done = t;
    for (let at = offset, end = offset + length; at < end; ) {
      const next = Math.min(end, (Math.floor(at / page) + 1) * page);
      const bytes = next - at;
      const d = this.dieOf(at);
      const c = this.channelOfDie(d);
      const sensed = Math.max(t, this.die[d]!) + this.tR;
      const chEnd = Math.max(sensed, this.ch[c]!) + xferNs(bytes, chRate);
      this.ch[c] = chEnd;
      this.die[d] = chEnd; // the page register is busy until the channel has emptied it
      const linkEnd = Math.max(chEnd, this.linkDown) + xferNs(bytes, linkRate);
      this.linkDown = linkEnd;
      if (linkEnd > done) done = linkEnd;
      at = next;
    }
    return done;
  }

  /** WRITE: over the link into the write-back buffer (or straight to flash with dram_bytes 0). */
  write(offset: number, length: number): number {
    const t = this.admit();
    this.stats.writes++;
    this.stats.link_bytes += length;
    const inDevice = Math.max(t, this.linkUp) + xferNs(length, this.params.link_mbps);
    this.linkUp = inDevice;
    const buffered = this.params.dram_bytes > 0 ? this.bufferAdmit(length, inDevice) : inDevice;
    const programmed = this.program(offset, length, buffered);
    if (this.params.dram_bytes > 0) {
      this.bufferPush(programmed, length);
      return buffered;
    }
    return programmed;
  }

  /** Programs `length` bytes at `offset` whose data is in the controller at `ready`; returns when the last is programmed. */
  private program(offset: number, length: number, ready: number): number {
    const page = this.params.page_bytes;
    const chRate = this.params.channel_mbps;
    let done = ready;
    for (let at = offset, end = offset + length; at < end; ) {
      const next = Math.min(end, (Math.floor(at / page) + 1) * page);
      const bytes = next - at;
      const d = this.placeWrite(at, bytes);
      const c = this.channelOfDie(d);
      const chEnd = Math.max(ready, this.ch[c]!) + xferNs(bytes, chRate);
      this.ch[c] = chEnd;
      const progEnd = Math.max(chEnd, this.die[d]!) + (this.tProg * bytes) / page;
      this.die[d] = progEnd;
      if (progEnd > done) done = progEnd;
      at = next;
    }
    if (done > this.lastProgram) this.lastProgram = done;
    return done;
  }

  /** When `bytes` more fit in the write-back buffer, at or after `t`. */
  private bufferAdmit(bytes: number, t: number): number {
    const cap = this.params.dram_bytes;
    let at = t;
    // Programs already finished by t have left the buffer.
    while (this.bufHead < this.bufT.length && this.bufT[this.bufHead]! <= at) this.bufferShift();
    // A write larger than the buffer streams through it: it waits for the buffer to empty.
    const need = Math.min(bytes, cap);
    while (this.bufBytes + need > cap && this.bufHead < this.bufT.length) {
      at = Math.max(at, this.bufT[this.bufHead]!);
      this.bufferShift();
    }
    return at;
  }

  private bufferShift(): void {
    this.bufBytes -= this.bufB[this.bufHead]!;
    this.bufHead++;
    if (this.bufHead > 4096 && this.bufHead * 2 > this.bufT.length) {
      this.bufT = this.bufT.slice(this.bufHead);
      this.bufB = this.bufB.slice(this.bufHead);
      this.bufHead = 0;
    }
  }

  private bufferPush(release: number, bytes: number): void {
    const n = this.bufT.length;
    if (n - this.bufHead >= BUFFER_MAX_ENTRIES) {
      // Merge into the newest entry: it releases no earlier than its own program.
      this.bufT[n - 1] = Math.max(this.bufT[n - 1]!, release);
      this.bufB[n - 1]! += bytes;
    } else {
      this.bufT.push(release);
      this.bufB.push(bytes);
    }
    this.bufBytes += bytes;
  }

  /** FLUSH: the controller, then every buffered program. */
  flush(): number {
    const t = this.admit();
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
    for (let i = 0; i < touched; i++) {
      const d = this.dieOf(offset + i * this.params.page_bytes);
      const end = Math.max(t, this.die[d]!) + this.tBers;
      this.die[d] = end;
      if (end > done) done = end;
    }
    return done;
  }

  /**
   * A copy inside the device (NVMe Copy, a nullblk copy, the media side of a SCSI copy): the
   * sources, in order, land at dstOffset onward. `perRangeUs` is the controller's cost per source
   * range (NVMe: copy_range_us). Returns when the last byte is programmed.
   */
  copy(sources: readonly TimedSource[], dstOffset: number, perRangeUs = this.params.copy_range_us): number {
    const t = this.admit(sources.length * perRangeUs * NS_PER_US);
    this.stats.copies++;
    let done = t;
    let dst = dstOffset;
    for (const s of sources) {
      const end = this.copyRange(s.model, s.offset, dst, s.length, t);
      if (end > done) done = end;
      dst += s.length;
    }
    return done;
  }

  private copyRange(src: TimingModel, srcOffset: number, dstOffset: number, length: number, t: number): number {
    const page = this.params.page_bytes;
    const srcPage = src.params.page_bytes;
    let done = t;
    let s = srcOffset;
    let d = dstOffset;
    const end = srcOffset + length;
    while (s < end) {
      // A piece stays inside one source page and one destination page.
      const bytes = Math.min(end - s, (Math.floor(s / srcPage) + 1) * srcPage - s, (Math.floor(d / page) + 1) * page - d);
      const sd = src.dieOf(s);
      let pieceEnd: number;
      if (src === this && this.params.copyback && bytes === page && s % page === 0 && d % page === 0) {
        // Same-die copyback: the page goes from the array to the page register and back.
        pieceEnd = Math.max(t, this.die[sd]!) + this.tR + this.tProg;
        this.die[sd] = pieceEnd;
        this.record(Math.floor(d / page), sd);
        this.stats.copyback_pages++;
      } else {
        const sc = src.channelOfDie(sd);
        const sensed = Math.max(t, src.die[sd]!) + src.tR;
        const outEnd = Math.max(sensed, src.ch[sc]!) + xferNs(bytes, src.params.channel_mbps);
        src.ch[sc] = outEnd;
        src.die[sd] = outEnd;
        let ready = outEnd;
        if (src !== this) {
          // Across the copy domain's fabric to the destination device's controller.
          const fab = Math.max(ready, this.fabric) + xferNs(bytes, this.params.fabric_mbps);
          this.fabric = fab;
          ready = fab + this.params.fabric_latency_us * NS_PER_US;
          this.stats.cross_device_pieces++;
        } else {
          this.stats.cross_die_pieces++;
        }
        // In the controller: through the write-back buffer as host writes are, or straight on.
        const buffered = this.params.dram_bytes > 0 ? this.bufferAdmit(bytes, ready) : ready;
        const dd = this.placeWrite(d, bytes);
        const dc = this.channelOfDie(dd);
        const inEnd = Math.max(buffered, this.ch[dc]!) + xferNs(bytes, this.params.channel_mbps);
        this.ch[dc] = inEnd;
        const progEnd = Math.max(inEnd, this.die[dd]!) + (this.tProg * bytes) / page;
        this.die[dd] = progEnd;
        if (progEnd > this.lastProgram) this.lastProgram = progEnd;
        if (this.params.dram_bytes > 0) {
          this.bufferPush(progEnd, bytes);
          pieceEnd = buffered;
        } else {
          pieceEnd = progEnd;
        }
      }
      if (pieceEnd > this.lastProgram) this.lastProgram = pieceEnd;
      if (pieceEnd > done) done = pieceEnd;
      s += bytes;
      d += bytes;
    }
    return done;
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

  /** The time at which every resource is idle (for tests and drains). */
  idleAt(): number {
    let t = Math.max(this.linkUp, this.linkDown, this.fabric, this.lastProgram, this.cmFree);
    for (const v of this.die) if (v > t) t = v;
    for (const v of this.ch) if (v > t) t = v;
    for (const v of this.ctrl) if (v > t) t = v;
    return t;
  }
}
