/**
 * dm-stripe (drivers/md/dm-stripe.c; Documentation/admin-guide/device-mapper/striped.rst):
 * `striped <#stripes> <chunk_size> [<dev_path> <offset>]+`. Chunk c of the target lives on
 * stripe c mod #stripes, at chunk floor(c / #stripes) of that stripe. A copy is remapped piece
 * by piece at chunk boundaries; each piece offloads when its source and destination chunks sit
 * where the devices can copy (same leg, or one copy domain).
 */
import { ReqOp, SECTOR_SIZE } from '../../block/ops.js';
import type { BlockDevice } from '../../block/device.js';
import type { CopyExtent } from '../../block/remap.js';
import { checkExtent, deviceArg, devPath, firstError, lowerIo, parseCount, parseSectors, TableError, type DmTarget, type TargetIo, type TargetType } from '../target.js';

/** Most stripes one target takes (dm-stripe's limit is the table size; a limit on everything). */
export const STRIPED_MAX_STRIPES = 64;
/** Smallest chunk (sectors): one page, as dm-stripe requires chunk_size ≥ PAGE_SIZE >> 9. */
export const STRIPED_MIN_CHUNK_SECTORS = 8;

interface Stripe {
  readonly dev: BlockDevice;
  readonly start: number;
}

export class StripedTarget implements DmTarget {
  readonly type = 'striped';
  readonly devices: readonly BlockDevice[];
  constructor(readonly stripes: readonly Stripe[], readonly chunk: number, readonly length: number) {
    this.devices = stripes.map((s) => s.dev);
  }

  /** Where target byte `offset` lives, and how many bytes follow it in the same chunk. */
  locate(offset: number): { stripe: Stripe; offset: number; left: number } {
    const c = Math.floor(offset / this.chunk);
    const within = offset % this.chunk;
    const n = this.stripes.length;
    const stripe = this.stripes[c % n]!;
    return { stripe, offset: stripe.start + Math.floor(c / n) * this.chunk + within, left: this.chunk - within };
  }

  async io(req: TargetIo): Promise<number> {
    if (req.op === ReqOp.FLUSH) {
      const rs = await Promise.all(this.stripes.map((s) => lowerIo(s.dev, ReqOp.FLUSH, 0, 0, req.trace, undefined, req.flags)));
      return firstError(rs, 0);
    }
    const parts: Promise<number>[] = [];
    for (let pos = 0; pos < req.length; ) {
      const at = this.locate(req.offset + pos);
      const n = Math.min(at.left, req.length - pos);
      parts.push(lowerIo(at.stripe.dev, req.op, at.offset, n, req.trace, req.data?.subarray(pos, pos + n), req.flags));
      pos += n;
    }
    const rs = await Promise.all(parts);
    return firstError(rs, req.op === ReqOp.READ || req.op === ReqOp.WRITE ? req.length : 0);
  }

  copyMap(offset: number, length: number): CopyExtent {
    const at = this.locate(offset);
    return { kind: 'remap', length: Math.min(length, at.left), target: this.type, copies: [{ dev: at.stripe.dev, offset: at.offset }] };
  }

  tableArgs(): string {
    return `${this.stripes.length} ${this.chunk / SECTOR_SIZE} ${this.stripes.map((s) => `${devPath(s.dev)} ${s.start / SECTOR_SIZE}`).join(' ')}`;
  }

  statusArgs(): string {
    // dm-stripe STATUSTYPE_INFO: "<#stripes> <dev>… 1 <A|D per stripe>".
    return `${this.stripes.length} ${this.stripes.map((s) => devPath(s.dev)).join(' ')} 1 ${'A'.repeat(this.stripes.length)}`;
  }
}

export const stripedType: TargetType = {
  name: 'striped',
  create(args, length, ctx) {
    const n = parseCount(args[0], 'striped #stripes', 1, STRIPED_MAX_STRIPES);
    const chunkSectors = parseSectors(args[1], 'striped chunk_size');
    if (args.length !== 2 + 2 * n) throw new TableError(`striped: ${n} stripes need ${n} <dev_path> <offset> pairs, got ${args.length - 2} argument(s)`);
    if (chunkSectors < STRIPED_MIN_CHUNK_SECTORS) throw new TableError(`striped: invalid chunk size ${chunkSectors}: must be at least ${STRIPED_MIN_CHUNK_SECTORS} sectors`);
    const chunk = chunkSectors * SECTOR_SIZE;
    const stripes: Stripe[] = [];
    if (length % n !== 0) throw new TableError('striped: target length not divisible by number of stripes');
    const width = length / n;
    if (width % chunk !== 0) throw new TableError(`striped: target length not divisible by chunk size ${chunkSectors}`);
    for (let i = 0; i < n; i++) {
      const dev = deviceArg(ctx, args[2 + 2 * i], `striped stripe ${i}`);
      if (chunk % dev.limits.logical_block_size !== 0) throw new TableError(`striped: invalid chunk size ${chunkSectors}: not a multiple of ${dev.name}'s ${dev.limits.logical_block_size}-byte blocks`);
      const start = parseSectors(args[3 + 2 * i], `striped stripe ${i} offset`) * SECTOR_SIZE;
      checkExtent(dev, start, width, `striped stripe ${i}`);
      stripes.push({ dev, start });
    }
    return new StripedTarget(stripes, chunk, length);
  },
};
