/**
 * dm-crypt (drivers/md/dm-crypt.c; Documentation/admin-guide/device-mapper/dm-crypt.rst):
 * `crypt <cipher> <key> <iv_offset> <device path> <offset> [<#opt_params> <opt_params>]`.
 * Ciphers: aes-xts-plain64 (key 32 or 64 bytes: XTS takes two AES keys) and
 * aes-cbc-essiv:sha256 (key 16, 24 or 32 bytes), run through node:crypto. The key is hex.
 * Optional parameters: sector_size:<bytes> (512..4096, power of two), iv_large_sectors,
 * allow_discards (and the performance flags dm-crypt accepts, which change nothing here).
 *
 * IVs (dm-crypt.c's IV generator comments and dm-crypt.rst):
 * - the IV sector is dm_target_offset(bio sector) + iv_offset, in 512-byte units, or in
 *   <sector_size> units with iv_large_sectors (then iv_offset must be a multiple of it);
 * - plain64: the IV is the 64-bit little-endian sector number, padded with zeros;
 * - essiv:sha256: the sector number (as plain64) encrypted with the block cipher keyed by
 *   salt = SHA-256(key).
 * Every encryption sector is transformed on its own, so a raw copy of ciphertext decrypts to
 * the source's plaintext only when source and destination use the same key and the same IV
 * sector: that is the transform this target declares to the copy engine.
 */
import { createCipheriv, createDecipheriv, createHash, type Cipher, type Decipher } from 'node:crypto';
import { ReqOp, SECTOR_SIZE } from '../../block/ops.js';
import type { BlockDevice } from '../../block/device.js';
import type { QueueLimits } from '../../block/limits.js';
import type { CopyExtent } from '../../block/remap.js';
import { checkExtent, deviceArg, devPath, lowerIo, parseCount, parseSectors, TableError, type DmTarget, type TargetIo, type TargetType } from '../target.js';

/** The cipher specifications copylab implements (cipher-chainmode-ivmode[:ivopts]). */
export const CRYPT_CIPHERS = {
  'aes-xts-plain64': { keyBytes: [32, 64], algorithm: (k: number) => `aes-${(k / 2) * 8}-xts`, essiv: false },
  'aes-cbc-essiv:sha256': { keyBytes: [16, 24, 32], algorithm: (k: number) => `aes-${k * 8}-cbc`, essiv: true },
} as const;
export type CryptCipher = keyof typeof CRYPT_CIPHERS;

/** Optional parameters dm-crypt accepts that change nothing in this model. */
const CRYPT_NOOP_FLAGS = ['same_cpu_crypt', 'submit_from_crypt_cpus', 'no_read_workqueue', 'no_write_workqueue'];
/** Optional parameters per table line (a limit on everything). */
const CRYPT_MAX_OPT_PARAMS = 16;
const IV_BYTES = 16;

export class CryptTarget implements DmTarget {
  readonly type = 'crypt';
  readonly devices: readonly BlockDevice[];
  private readonly algorithm: string;
  private readonly essivKey: Buffer | null;
  /** IV sector unit: 512, or sector_size with iv_large_sectors. */
  private readonly ivUnit: number;
  /** Identifies the data transform for the copy engine (no key bytes in it: a digest). */
  readonly transformId: string;

  constructor(
    readonly cipher: CryptCipher,
    private readonly key: Buffer,
    readonly ivOffset: number,
    readonly dev: BlockDevice,
    readonly start: number,
    readonly length: number,
    readonly sectorSize: number,
    readonly ivLargeSectors: boolean,
    readonly allowDiscards: boolean,
  ) {
    this.devices = [dev];
    const spec = CRYPT_CIPHERS[cipher];
    this.algorithm = spec.algorithm(key.length);
    this.essivKey = spec.essiv ? createHash('sha256').update(key).digest() : null;
    this.ivUnit = ivLargeSectors ? sectorSize : SECTOR_SIZE;
    const digest = createHash('sha256').update('copylab-crypt-transform').update(key).digest('hex').slice(0, 16);
    this.transformId = `crypt:${cipher}:${digest}:${sectorSize}:${this.ivUnit}`;
  }

  /** The IV sector number of target byte `offset` (a multiple of the encryption sector). */
  ivSector(offset: number): number {
    return Math.floor(offset / this.ivUnit) + this.ivOffset;
  }

  private iv(sector: number): Buffer {
    const iv = Buffer.alloc(IV_BYTES);
    iv.writeBigUInt64LE(BigInt(sector), 0);
    if (!this.essivKey) return iv;
    const e = createCipheriv('aes-256-ecb', this.essivKey, null);
    e.setAutoPadding(false);
    return Buffer.concat([e.update(iv), e.final()]);
  }

  /** Encrypts or decrypts `src` (target bytes from `offset`) into `out`, sector by sector. */
  transform(encrypt: boolean, offset: number, src: Uint8Array, out: Uint8Array): void {
    const ss = this.sectorSize;
    for (let at = 0; at < src.length; at += ss) {
      const iv = this.iv(this.ivSector(offset + at));
      const c: Cipher | Decipher = encrypt ? createCipheriv(this.algorithm, this.key, iv) : createDecipheriv(this.algorithm, this.key, iv);
      c.setAutoPadding(false);
      const a = c.update(src.subarray(at, at + ss));
      const b = c.final();
      out.set(a, at);
      if (b.length) out.set(b, at + a.length);
    }
  }

  async io(req: TargetIo): Promise<number> {
    switch (req.op) {
      case ReqOp.READ: {
        const res = await lowerIo(this.dev, ReqOp.READ, this.start + req.offset, req.length, req.trace, req.data, req.flags);
        if (res < 0) return res;
        this.transform(false, req.offset, req.data!, req.data!);
        return res;
      }
      case ReqOp.WRITE: {
        // Encrypt into a buffer of our own: the caller's plaintext is not touched.
        const enc = new Uint8Array(req.length);
        this.transform(true, req.offset, req.data!, enc);
        return lowerIo(this.dev, ReqOp.WRITE, this.start + req.offset, req.length, req.trace, enc, req.flags);
      }
      case ReqOp.FLUSH:
        return lowerIo(this.dev, ReqOp.FLUSH, 0, 0, req.trace, undefined, req.flags);
      default:
        return lowerIo(this.dev, req.op, this.start + req.offset, req.length, req.trace, undefined, req.flags);
    }
  }

  copyMap(offset: number, length: number): CopyExtent {
    return {
      kind: 'remap',
      length,
      target: this.type,
      copies: [{ dev: this.dev, offset: this.start + offset }],
      transform: { id: this.transformId, tweak: this.ivSector(offset), unit: this.ivUnit },
    };
  }

  adjustLimits(l: QueueLimits): void {
    l.logical_block_size = Math.max(l.logical_block_size, this.sectorSize);
    l.physical_block_size = Math.max(l.physical_block_size, this.sectorSize);
    l.discard_granularity = Math.max(l.discard_granularity, this.sectorSize);
    if (!this.allowDiscards) {
      l.max_hw_discard_sectors = l.max_discard_sectors = 0;
      l.max_write_zeroes_sectors = 0;
    }
  }

  private optParams(): string[] {
    const p: string[] = [];
    if (this.allowDiscards) p.push('allow_discards');
    if (this.sectorSize !== SECTOR_SIZE) p.push(`sector_size:${this.sectorSize}`);
    if (this.ivLargeSectors) p.push('iv_large_sectors');
    return p;
  }

  tableArgs(): string {
    // The kernel returns the key (STATUSTYPE_TABLE); dmsetup hides it unless --showkeys (dmsetup.ts).
    const opts = this.optParams();
    return `${this.cipher} ${this.key.toString('hex')} ${this.ivOffset} ${devPath(this.dev)} ${this.start / SECTOR_SIZE}${opts.length ? ` ${opts.length} ${opts.join(' ')}` : ''}`;
  }

  /** dm-crypt reports no status (crypt_status, STATUSTYPE_INFO: an empty line after the type). */
  statusArgs(): string {
    return '';
  }
}

export const cryptType: TargetType = {
  name: 'crypt',
  create(args, length, ctx) {
    if (args.length < 5) throw new TableError(`crypt: expected <cipher> <key> <iv_offset> <device path> <offset> [<#opt_params> <opt_params>], got ${args.length} argument(s)`);
    const cipherText = args[0]!;
    if (!(cipherText in CRYPT_CIPHERS)) throw new TableError(`crypt: bad cipher ${cipherText}: supported are ${Object.keys(CRYPT_CIPHERS).join(', ')}`);
    const cipher = cipherText as CryptCipher;
    const keyText = args[1]!;
    if (!/^([0-9a-fA-F]{2})+$/.test(keyText)) throw new TableError('crypt: bad key: expected an even number of hex digits (keyring keys are not supported)');
    const key = Buffer.from(keyText, 'hex');
    const sizes: readonly number[] = CRYPT_CIPHERS[cipher].keyBytes;
    if (!sizes.includes(key.length)) throw new TableError(`crypt: bad key size ${key.length} bytes for ${cipher} (allowed: ${sizes.join(', ')} bytes)`);
    if (cipher === 'aes-xts-plain64' && key.subarray(0, key.length / 2).equals(key.subarray(key.length / 2))) {
      throw new TableError('crypt: bad key: the two XTS key halves are equal (weak key, refused as by the kernel in FIPS mode)');
    }
    const ivOffset = parseSectors(args[2], 'crypt iv_offset');
    const dev = deviceArg(ctx, args[3], 'crypt');
    const start = parseSectors(args[4], 'crypt offset') * SECTOR_SIZE;
    let sectorSize = SECTOR_SIZE;
    let ivLarge = false;
    let allowDiscards = false;
    if (args.length > 5) {
      const n = parseCount(args[5], 'crypt #opt_params', 0, CRYPT_MAX_OPT_PARAMS);
      const opts = args.slice(6);
      if (opts.length !== n) throw new TableError(`crypt: #opt_params is ${n} but ${opts.length} parameter(s) follow`);
      for (const o of opts) {
        if (o.startsWith('sector_size:')) {
          sectorSize = parseCount(o.slice('sector_size:'.length), 'crypt sector_size', 512, 4096);
          if ((sectorSize & (sectorSize - 1)) !== 0) throw new TableError(`crypt: sector_size ${sectorSize} is not a power of two`);
        } else if (o === 'iv_large_sectors') ivLarge = true;
        else if (o === 'allow_discards') allowDiscards = true;
        else if (!CRYPT_NOOP_FLAGS.includes(o)) throw new TableError(`crypt: invalid optional parameter ${o}`);
      }
    }
    if (length % sectorSize !== 0 || start % sectorSize !== 0) throw new TableError(`crypt: length and offset must be multiples of sector_size ${sectorSize}`);
    if (ivLarge && (ivOffset * SECTOR_SIZE) % sectorSize !== 0) throw new TableError('crypt: iv_offset must be a multiple of sector_size with iv_large_sectors');
    if (sectorSize < dev.limits.logical_block_size) throw new TableError(`crypt: sector_size ${sectorSize} is below ${dev.name}'s ${dev.limits.logical_block_size}-byte blocks`);
    checkExtent(dev, start, length, 'crypt');
    return new CryptTarget(cipher, key, ivOffset, dev, start, length, sectorSize, ivLarge, allowDiscards);
  },
};
