/**
 * dm-linear (drivers/md/dm-linear.c; Documentation/admin-guide/device-mapper/linear.rst):
 * `linear <dev_path> <offset>`. Maps the target's range onto one device at an offset. Copies
 * are remapped unchanged: the only target the 2024 copy-offload series let pass a copy bio.
 */
import { ReqOp, SECTOR_SIZE } from '../../block/ops.js';
import type { BlockDevice } from '../../block/device.js';
import type { CopyExtent } from '../../block/remap.js';
import { checkExtent, deviceArg, devPath, lowerIo, parseSectors, TableError, type DmTarget, type TargetIo, type TargetType } from '../target.js';

export class LinearTarget implements DmTarget {
  readonly type = 'linear';
  readonly devices: readonly BlockDevice[];
  constructor(readonly dev: BlockDevice, readonly start: number, readonly length: number) {
    this.devices = [dev];
  }

  io(req: TargetIo): Promise<number> {
    const off = req.op === ReqOp.FLUSH ? 0 : this.start + req.offset;
    return lowerIo(this.dev, req.op, off, req.length, req.trace, req.data, req.flags);
  }

  copyMap(offset: number, length: number): CopyExtent {
    return { kind: 'remap', length, target: this.type, copies: [{ dev: this.dev, offset: this.start + offset }] };
  }

  tableArgs(): string {
    return `${devPath(this.dev)} ${this.start / SECTOR_SIZE}`;
  }

  statusArgs(): string {
    return '';
  }
}

export const linearType: TargetType = {
  name: 'linear',
  create(args, length, ctx) {
    if (args.length !== 2) throw new TableError(`linear: expected <dev_path> <offset>, got ${args.length} argument(s)`);
    const dev = deviceArg(ctx, args[0], 'linear');
    const start = parseSectors(args[1], 'linear offset') * SECTOR_SIZE;
    checkExtent(dev, start, length, 'linear');
    return new LinearTarget(dev, start, length);
  },
};
