/**
 * The device-mapper control interface of a Lab, with dmsetup's verbs (dmsetup(8)): create,
 * table, status, reload, suspend, resume, remove, ls, message. Results carry a negative errno
 * and a message, as the ioctl interface answers; nothing here throws for bad input.
 * Devices are `dm-N` (N the minor, lowest free) and /dev/mapper/NAME; /sys/block/dm-N/dm/name,
 * uuid and suspended show what dm's sysfs shows.
 */
import type { BlockDevice } from '../block/device.js';
import { SECTOR_SIZE } from '../block/ops.js';
import { Errno } from '../util/errno.js';
import { DmDevice, tableLimits } from './device.js';
import { parseTable, type DmTable } from './table.js';
import { TableError } from './target.js';

/** dm devices per lab (a limit on everything). */
export const DM_MAX_DEVICES = 128;
/** The major number dmsetup ls prints (device-mapper's usual dynamic major). */
export const DM_MAJOR = 253;
const NAME_RE = /^[A-Za-z0-9_.+-]{1,127}$/;
/** DM_UUID_LEN is 129 with its NUL: at most 128 characters, printable, no spaces (as dm-ioctl's check_name). */
const UUID_RE = /^[!-~]{1,128}$/;
/** Read ahead dmsetup info prints, in sectors: the kernel's default of 128 KiB (VM_READAHEAD_PAGES). */
export const DM_READ_AHEAD_SECTORS = 256;

/** What `dmsetup info` shows of a device (dm-ioctl's struct dm_ioctl status fields). */
export interface DmInfo {
  readonly name: string;
  readonly uuid: string;
  readonly suspended: boolean;
  readonly liveTable: boolean;
  readonly inactiveTable: boolean;
  /** Openers: the dm tables mapping onto it (the lab has no other long-lived opener). */
  readonly openCount: number;
  readonly eventNr: number;
  readonly major: number;
  readonly minor: number;
  readonly targets: number;
  readonly readAhead: number;
}

/** What the control interface needs of the Lab (kept narrow so dm does not depend on all of it). */
export interface DmHost {
  findDevice(path: string): BlockDevice | undefined;
  addDevice<D extends BlockDevice>(dev: D): D;
  removeDevice(name: string): void;
  list(): BlockDevice[];
  readonly sysfs: { add(path: string, attr: { show(): string }): void };
}

export interface DmResult {
  /** 0 on success, a negative errno on failure. */
  readonly res: number;
  readonly message?: string;
  /** Text output of table/status/ls. */
  readonly output?: string;
  readonly device?: DmDevice;
}

const fail = (errno: number, message: string): DmResult => ({ res: -errno, message });

export class DeviceMapper {
  private readonly byName = new Map<string, DmDevice>();

  constructor(private readonly host: DmHost) {}

  find(name: string): DmDevice | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  private parse(name: string, text: string): DmTable | DmResult {
    try {
      const table = parseTable(text, { dmName: name, resolve: (p) => this.host.findDevice(p), event: () => this.byName.get(name)?.raiseEvent() });
      tableLimits(table); // refuses misaligned boundaries
      return table;
    } catch (err) {
      if (err instanceof TableError) return fail(Errno.EINVAL, `${name}: ${err.message}`);
      throw err;
    }
  }

  /** dmsetup create NAME [--uuid UUID] --table TEXT */
  create(name: string, text: string, uuid = ''): DmResult {
    if (!NAME_RE.test(name)) return fail(Errno.EINVAL, `bad dm name ${JSON.stringify(name)}: 1-127 characters of [A-Za-z0-9_.+-]`);
    if (this.byName.has(name)) return fail(Errno.EBUSY, `${name}: a dm device of that name exists`);
    if (uuid && !UUID_RE.test(uuid)) return fail(Errno.EINVAL, `bad dm uuid ${JSON.stringify(uuid.slice(0, 140))}: 1-128 printable characters without spaces`);
    const owner = uuid ? [...this.byName.values()].find((d) => d.uuid === uuid) : undefined;
    if (owner) return fail(Errno.EBUSY, `${name}: uuid ${uuid} is taken by ${owner.mapperName}`);
    if (this.byName.size >= DM_MAX_DEVICES) return fail(Errno.ENOSPC, `at most ${DM_MAX_DEVICES} dm devices`);
    const table = this.parse(name, text);
    if ('res' in table) return table;
    let minor = 0;
    while (this.host.findDevice(`dm-${minor}`)) minor++;
    const dev = new DmDevice(minor, name, table, uuid);
    this.host.addDevice(dev);
    const base = `/sys/block/${dev.name}/dm`;
    this.host.sysfs.add(`${base}/name`, { show: () => `${name}\n` });
    this.host.sysfs.add(`${base}/uuid`, { show: () => `${uuid}\n` });
    this.host.sysfs.add(`${base}/suspended`, { show: () => `${dev.suspended ? 1 : 0}\n` });
    this.byName.set(name, dev);
    return { res: 0, device: dev };
  }

  private get(name: string): DmDevice | DmResult {
    return this.byName.get(name) ?? fail(Errno.ENXIO, `${name}: no such dm device`);
  }

  /** dmsetup table NAME */
  table(name: string): DmResult {
    const d = this.get(name);
    if (!(d instanceof DmDevice)) return d;
    const lines = d.table.entries.map((e) => `${e.start / SECTOR_SIZE} ${e.target.length / SECTOR_SIZE} ${e.target.type} ${e.target.tableArgs()}`);
    return { res: 0, output: lines.join('\n') };
  }

  /** dmsetup status NAME */
  status(name: string): DmResult {
    const d = this.get(name);
    if (!(d instanceof DmDevice)) return d;
    const lines = d.table.entries.map((e) => `${e.start / SECTOR_SIZE} ${e.target.length / SECTOR_SIZE} ${e.target.type}${e.target.statusArgs() ? ` ${e.target.statusArgs()}` : ''}`);
    return { res: 0, output: lines.join('\n') };
  }

  /** dmsetup info NAME: state, tables, open count, event number, device number, targets, uuid. */
  info(name: string): DmResult & { info?: DmInfo } {
    const d = this.get(name);
    if (!(d instanceof DmDevice)) return d;
    const info: DmInfo = {
      name,
      uuid: d.uuid,
      suspended: d.suspended,
      liveTable: true,
      inactiveTable: d.inactive !== null,
      openCount: [...this.byName.values()].filter((o) => o !== d && o.usesDevice(d)).length,
      eventNr: d.eventNr,
      major: DM_MAJOR,
      minor: d.minor,
      targets: d.table.entries.length,
      readAhead: DM_READ_AHEAD_SECTORS,
    };
    return { res: 0, info };
  }

  /** dmsetup reload NAME --table TEXT: loads the inactive table; resume activates it. */
  reload(name: string, text: string): DmResult {
    const d = this.get(name);
    if (!(d instanceof DmDevice)) return d;
    const table = this.parse(name, text);
    if ('res' in table) return table;
    if (table.entries.some((e) => e.target.devices.includes(d))) return fail(Errno.EINVAL, `${name}: a table cannot map onto its own device`);
    d.inactive = table;
    return { res: 0 };
  }

  async suspend(name: string): Promise<DmResult> {
    const d = this.get(name);
    if (!(d instanceof DmDevice)) return d;
    await d.suspend();
    return { res: 0 };
  }

  resume(name: string): DmResult {
    const d = this.get(name);
    if (!(d instanceof DmDevice)) return d;
    d.resume();
    return { res: 0 };
  }

  /** dmsetup remove NAME: refused with EBUSY while another table maps onto it. */
  remove(name: string): DmResult {
    const d = this.get(name);
    if (!(d instanceof DmDevice)) return d;
    const holder = [...this.byName.values()].find((o) => o !== d && o.usesDevice(d));
    if (holder) return fail(Errno.EBUSY, `${name}: device is in use by ${holder.mapperName} (${holder.name})`);
    if (d.suspended) d.resume();
    this.host.removeDevice(d.name);
    this.byName.delete(name);
    return { res: 0 };
  }

  /** dmsetup ls: `NAME\t(253:N)` per device. */
  ls(): DmResult {
    const lines = this.names().map((n) => `${n}\t(${DM_MAJOR}:${this.byName.get(n)!.minor})`);
    return { res: 0, output: lines.length ? lines.join('\n') : 'No devices found' };
  }

  /** dmsetup message NAME SECTOR WORDS…: to the target holding SECTOR. */
  async message(name: string, sector: number, words: readonly string[]): Promise<DmResult> {
    const d = this.get(name);
    if (!(d instanceof DmDevice)) return d;
    const e = d.table.entries.find((x) => sector * SECTOR_SIZE >= x.start && sector * SECTOR_SIZE < x.start + x.target.length);
    if (!e) return fail(Errno.EINVAL, `${name}: sector ${sector} is not mapped`);
    if (!e.target.message) return fail(Errno.EINVAL, `${name}: ${e.target.type} target takes no messages`);
    const problem = await e.target.message(words);
    return problem === null ? { res: 0 } : fail(Errno.EINVAL, `${name}: ${problem}`);
  }

  /** True when a dm table maps onto `dev` (a lower device may then not go away). */
  holds(dev: BlockDevice): boolean {
    return [...this.byName.values()].some((d) => d.usesDevice(dev));
  }
}
