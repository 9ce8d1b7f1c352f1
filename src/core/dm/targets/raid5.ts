/**
 * dm-raid raid5_ls: RAID5, left-symmetric (md's ALGORITHM_LEFT_SYMMETRIC, drivers/md/raid5.c
 * raid5_compute_sector): with n devices and n-1 data chunks per stripe, stripe s keeps parity
 * on device pd = (n-1) - (s mod n) and data chunk i on device (pd + 1 + i) mod n. Parity is the
 * XOR of the stripe's data chunks.
 *
 * Writes are reconstruct-writes: the stripe's other data is read (reconstructed when its device
 * is dead), the new parity computed, data and parity written. Reads of a dead device's chunk
 * are reconstructed from the other devices. One dead device is tolerated; two fail with EIO.
 * A device that fails a read or a write is marked dead, as md's raid5 fails a disk (the read is
 * then reconstructed, the write goes on degraded), and so is one that fails a copy piece (the
 * locations' `failed`); every change of a device's health is told to the dm device
 * (mapChanged), so copies plan again.
 *
 * Copies: a source chunk on a live device is remapped (its data lies there raw); a destination
 * needs parity, so the engine emulates, except for full stripes copied onto full stripes of the
 * same geometry with the source's parity: the XOR of the copied data chunks is the copied
 * parity, whatever the stripes' parity rotation, so every chunk (and the parity) may be copied
 * device to device. Degraded arrays never offer that.
 */
import { ReqOp, SECTOR_SIZE } from '../../block/ops.js';
import type { BlockDevice } from '../../block/device.js';
import type { QueueLimits } from '../../block/limits.js';
import type { CopyExtent, CopyRole, StripeSegment } from '../../block/remap.js';
import type { Trace } from '../../block/trace.js';
import { Errno } from '../../util/errno.js';
import { devPath, lowerIo, type DmTarget, type TargetIo } from '../target.js';
import { legIndex, type RaidLeg } from './raid-leg.js';

function xorInto(acc: Uint8Array, b: Uint8Array): void {
  for (let i = 0; i < acc.length; i++) acc[i]! ^= b[i]!;
}

export class Raid5Target implements DmTarget {
  readonly type = 'raid';
  readonly devices: readonly BlockDevice[];
  readonly layout: string;
  private readonly n: number;
  private readonly stripeData: number;
  /** Serialises requests: a reconstruct-write must not interleave with another on its stripe. */
  private lock: Promise<unknown> = Promise.resolve();
  mapChanged?: () => void;
  earlierCopiesDone?: () => Promise<void>;

  constructor(readonly legs: RaidLeg[], readonly length: number, readonly chunk: number) {
    this.devices = legs.map((l) => l.dev);
    this.n = legs.length;
    this.stripeData = chunk * (this.n - 1);
    this.layout = `raid5_ls:${this.n}:${chunk}`;
  }

  parityLeg(stripe: number): number {
    return this.n - 1 - (stripe % this.n);
  }

  dataLeg(stripe: number, i: number): number {
    return (this.parityLeg(stripe) + 1 + i) % this.n;
  }

  /** Stripe, data index, device and device offset of target byte `offset`. */
  locate(offset: number): { stripe: number; index: number; leg: number; within: number; legOffset: number; left: number } {
    const c = Math.floor(offset / this.chunk);
    const within = offset % this.chunk;
    const stripe = Math.floor(c / (this.n - 1));
    const index = c % (this.n - 1);
    return { stripe, index, leg: this.dataLeg(stripe, index), within, legOffset: stripe * this.chunk + within, left: this.chunk - within };
  }

  private get degraded(): boolean {
    return this.legs.some((l) => l.health !== 'A');
  }

  /** Marks device `i` dead (an I/O error or `fail i`). */
  private markDead(i: number): void {
    if (this.legs[i]!.health === 'D') return;
    this.legs[i]!.health = 'D';
    this.mapChanged?.();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Reads device `leg`'s bytes [legOffset, +len) of a stripe, reconstructing when it is not in sync. */
  private async readLeg(leg: number, legOffset: number, len: number, trace: Trace | undefined, out: Uint8Array): Promise<number> {
    if (this.legs[leg]!.health === 'A') {
      const res = await lowerIo(this.legs[leg]!.dev, ReqOp.READ, legOffset, len, trace, out);
      if (res >= 0 || res === -Errno.ENOTSUP) return res;
      this.markDead(leg); // a failed read: reconstruct it
    }
    out.fill(0);
    const tmp = new Uint8Array(len);
    for (let j = 0; j < this.n; j++) {
      if (j === leg) continue;
      if (this.legs[j]!.health !== 'A') return -Errno.EIO; // two devices gone
      const res = await lowerIo(this.legs[j]!.dev, ReqOp.READ, legOffset, len, trace, tmp);
      if (res < 0) {
        this.markDead(j);
        return -Errno.EIO; // a second device gone
      }
      xorInto(out, tmp);
    }
    return len;
  }

  io(req: TargetIo): Promise<number> {
    return this.serial(() => this.ioLocked(req));
  }

  private async ioLocked(req: TargetIo): Promise<number> {
    if (req.op === ReqOp.FLUSH) {
      for (const l of this.legs) {
        if (l.health === 'D') continue;
        const res = await lowerIo(l.dev, ReqOp.FLUSH, 0, 0, req.trace, undefined, req.flags);
        if (res < 0) return res;
      }
      return 0;
    }
    if (req.op !== ReqOp.READ && req.op !== ReqOp.WRITE) return -Errno.ENOTSUP;
    for (let pos = 0; pos < req.length; ) {
      const at = this.locate(req.offset + pos);
      const len = Math.min(at.left, req.length - pos);
      const data = req.data!.subarray(pos, pos + len);
      const res = req.op === ReqOp.READ ? await this.readLeg(at.leg, at.legOffset, len, req.trace, data) : await this.writeChunk(at.stripe, at.leg, at.legOffset, data, req.trace);
      if (res < 0) return res;
      pos += len;
    }
    return req.length;
  }

  /** Reconstruct-write of `data` at `legOffset` on data device `leg` of `stripe`. */
  private async writeChunk(stripe: number, leg: number, legOffset: number, data: Uint8Array, trace: Trace | undefined): Promise<number> {
    const len = data.length;
    const pd = this.parityLeg(stripe);
    const parity = new Uint8Array(data);
    const tmp = new Uint8Array(len);
    for (let j = 0; j < this.n; j++) {
      if (j === pd || j === leg) continue;
      const res = await this.readLeg(j, legOffset, len, trace, tmp);
      if (res < 0) return res;
      xorInto(parity, tmp);
    }
    // A device that fails its write is marked dead; the stripe stays readable while one device is.
    for (const [j, bytes] of [[leg, data], [pd, parity]] as const) {
      if (this.legs[j]!.health === 'D') continue;
      const res = await lowerIo(this.legs[j]!.dev, ReqOp.WRITE, legOffset, len, trace, bytes);
      if (res === -Errno.ENOTSUP) return res;
      if (res < 0) this.markDead(j);
    }
    return this.legs.filter((l) => l.health === 'D').length > 1 ? -Errno.EIO : len;
  }

  private fullStripe(offset: number, length: number): StripeSegment[] | null {
    if (this.degraded || offset % this.stripeData !== 0 || length < this.stripeData) return null;
    const stripe = offset / this.stripeData;
    const at = stripe * this.chunk;
    const segs: StripeSegment[] = [];
    const seg = (leg: number): StripeSegment => ({ dev: this.legs[leg]!.dev, offset: at, length: this.chunk, failed: () => this.markDead(leg) });
    for (let i = 0; i < this.n - 1; i++) segs.push(seg(this.dataLeg(stripe, i)));
    segs.push(seg(this.parityLeg(stripe)));
    return segs;
  }

  copyMap(offset: number, length: number, role: CopyRole, peerLayout?: string): CopyExtent {
    const full = this.fullStripe(offset, length);
    if (role === 'dst') {
      if (full) return { kind: 'stripe', length: this.stripeData, target: 'raid5', layout: this.layout, segments: full };
      const toStripeEnd = this.stripeData - (offset % this.stripeData);
      const why = this.degraded ? 'raid5 is degraded: writes reconstruct parity' : 'raid5 partial-stripe write needs parity (read-modify-write)';
      return { kind: 'refuse', length: Math.min(length, toStripeEnd), target: 'raid5', reason: { code: 'target_refused', detail: why } };
    }
    if (full && peerLayout === this.layout) return { kind: 'stripe', length: this.stripeData, target: 'raid5', layout: this.layout, segments: full };
    const at = this.locate(offset);
    const n = Math.min(length, at.left);
    if (this.legs[at.leg]!.health !== 'A') {
      return { kind: 'refuse', length: n, target: 'raid5', reason: { code: 'target_refused', detail: `raid5 source chunk is on dead device ${this.legs[at.leg]!.dev.name}: reconstruction needs a read` } };
    }
    return { kind: 'remap', length: n, target: 'raid5', copies: [{ dev: this.legs[at.leg]!.dev, offset: at.legOffset, failed: () => this.markDead(at.leg) }] };
  }

  adjustLimits(l: QueueLimits): void {
    l.max_hw_discard_sectors = l.max_discard_sectors = 0;
    l.max_write_zeroes_sectors = 0;
    l.physical_block_size = Math.max(l.physical_block_size, Math.min(this.chunk, 65536));
  }

  async message(args: readonly string[]): Promise<string | null> {
    const [verb, arg] = args;
    if (verb === 'fail' || verb === 'revive') {
      const i = legIndex(arg, this.n);
      if (i === null) return `${verb}: expected a device index 0..${this.n - 1}`;
      if (verb === 'fail') this.markDead(i);
      else if (this.legs[i]!.health === 'D') {
        this.legs[i]!.health = 'a';
        this.mapChanged?.();
      }
      return null;
    }
    if (verb === 'resync' || verb === 'recover') return this.serial(() => this.rebuild());
    return `unknown message ${verb ?? ''} (fail N, revive N, resync)`;
  }

  /**
   * Rebuilds every recovering device from the others, stripe by stripe, under the lock that
   * orders writes; copy pieces planned while the array was whole (offloaded stripes bypass the
   * lock) have ended first: the array has been degraded since, so none are planned now.
   */
  private async rebuild(): Promise<string | null> {
    await this.earlierCopiesDone?.();
    const stripes = this.length / this.stripeData;
    for (let i = 0; i < this.n; i++) {
      if (this.legs[i]!.health !== 'a') continue;
      if (this.legs.some((l, j) => j !== i && l.health !== 'A')) return 'cannot rebuild: another device is not in sync';
      const buf = new Uint8Array(this.chunk);
      for (let s = 0; s < stripes; s++) {
        const res = await this.readLeg(i, s * this.chunk, this.chunk, undefined, buf);
        if (res < 0) return `rebuild of device ${i} failed reading stripe ${s}`;
        const w = await lowerIo(this.legs[i]!.dev, ReqOp.WRITE, s * this.chunk, this.chunk, undefined, buf);
        if (w < 0) return `rebuild of device ${i} failed writing stripe ${s}`;
      }
      this.legs[i]!.health = 'A';
      this.mapChanged?.();
    }
    return null;
  }

  tableArgs(): string {
    return `raid5_ls 1 ${this.chunk / SECTOR_SIZE} ${this.n} ${this.legs.map((l) => `- ${devPath(l.dev)}`).join(' ')}`;
  }

  statusArgs(): string {
    const action = this.legs.some((l) => l.health === 'a') ? 'recover' : 'idle';
    const sectors = this.length / SECTOR_SIZE;
    return `raid5_ls ${this.n} ${this.legs.map((l) => l.health).join('')} ${this.degraded ? 0 : sectors}/${sectors} ${action} 0`;
  }
}
