/**
 * The Lab: owns devices, the sysfs tree and the copy engine's settings, and offers the
 * library API (open a device by path, read/write/copy on it, read/write sysfs).
 */
import type { BlockDevice } from '../core/block/device.js';
import type { Bio } from '../core/block/bio.js';
import type { CopyControl, CopyOptions, CopyRange, CopyResult } from '../core/block/copy/types.js';
import { COPY_DEFAULTS, COPY_OPTION_LIMITS } from '../core/block/copy/types.js';
import { blkdevCopy } from '../core/block/copy/engine.js';
import { submitBioWait } from '../core/block/submit.js';
import { ReqOp } from '../core/block/ops.js';
import { Trace } from '../core/block/trace.js';
import { Sysfs, type SysfsResult } from '../core/sysfs/tree.js';
import { registerBlockDevice } from '../core/sysfs/block-attrs.js';
import { registerCopyReach } from '../core/sysfs/copy-reach.js';
import { Errno, ErrnoError } from '../core/util/errno.js';
import type { NullBlkDevice, NullBlkOptions } from '../../devices/nullblk/nullblk.js';
import { CompletionPoller } from '../core/block/completion-poller.js';
import { WorkPool } from '../core/util/pool.js';
import { Ring, type RingParams } from '../core/ring/ring.js';
import type { FileCopyRequest, RingHost } from '../core/ring/consumer.js';
import { ringCopyFileRange } from './fs/async-copy.js';
import { DeviceMapper } from '../core/dm/control.js';
import { COPY_STRATEGIES, type CopyStrategy } from '../core/block/copy/types.js';
import { nvmeController, type NvmeAttachment } from '../../devices/nvme/attach.js';
import type { NvmeControllerOptions } from '../../devices/nvme/defaults.js';
import type { ScsiLabOptions } from '../../devices/scsi/attach.js';
import { DEVICE_BACKENDS, type BackendAttachment, type BackendOptions, type DeviceKind } from '../../devices/backends.js';
import type { DeviceHost } from '../core/block/host.js';
import type { ScsiArray } from '../../devices/scsi/array.js';
import type { SdDevice } from '../../devices/scsi/sd.js';
import { Clock, type ClockMode } from '../core/time/clock.js';

/** How a copy travels through the stack (block/copy/strategies.ts): vectored, paired, token. */
export { COPY_STRATEGIES, type CopyStrategy };

export interface LabOptions {
  /** Fall back to emulation when an offloaded piece fails (default true). */
  readonly fallback?: boolean;
  readonly emulationBufferBytes?: number;
  readonly maxCopyRanges?: number;
  readonly maxCopyBytes?: number;
  readonly copyStrategy?: CopyStrategy;
  /** The lab's clock (docs/timing.md): `virtual` (default) or `realtime`. */
  readonly clock?: { readonly mode?: ClockMode };
}

/** Devices per lab (a limit on everything). */
export const LAB_MAX_DEVICES = 256;

/** A copy range as the Lab takes it: the source may be named by path. */
export interface LabCopyRange {
  readonly src?: string | BlockDevice;
  readonly srcOffset: number;
  readonly dstOffset: number;
  readonly length: number;
}

/** Asynchronous copies running at once per lab. */
export const LAB_MAX_ASYNC_COPIES = 1024;

/** An asynchronous copy (lab.copyAsync): its cookie, progress, cancel and result. */
export interface CopyOperation {
  readonly cookie: number;
  readonly state: 'running' | 'done' | 'cancelled' | 'failed';
  readonly bytesDone: number;
  readonly piecesDone: number;
  readonly totalBytes: number;
  /** Modeled time since it started (until it finished). */
  readonly modeledUs: number;
  /** Asks it to stop at the next piece boundary; false when it is no longer running. */
  cancel(): boolean;
  readonly done: Promise<CopyResult>;
}

/** Open device file descriptors per lab. */
export const LAB_MAX_FDS = 4096;
/** The first fd lab.open() hands out (0-2 are stdin, stdout, stderr). */
const FIRST_FD = 3;

/** A device that failed under the lab (a worker that died), as the lab reports it. */
export interface DeviceFailure {
  readonly device: string;
  readonly reason: string;
  readonly at: Date;
}

export class Lab implements RingHost, DeviceHost {
  readonly sysfs = new Sysfs();
  /** The one clock of the lab: modeled time, read by every layer; timed devices complete on it. */
  readonly clock: Clock;
  /** Reaps completions of devices that run on worker threads. */
  readonly poller = new CompletionPoller();
  /** Worker pool for CPU work that is not a device queue (parallel verify, transforms). */
  readonly pool = new WorkPool();
  /** Devices that failed (for example a worker that exited), oldest first. */
  readonly failures: DeviceFailure[] = [];
  private readonly fds = new Map<number, BlockDevice>();
  private nextFd = FIRST_FD;
  /** The device mapper: dmsetup's verbs; devices appear as /dev/mapper/NAME and /dev/dm-N. */
  readonly dm: DeviceMapper = new DeviceMapper(this);
  private readonly devices = new Map<string, BlockDevice>();
  private copyDefaults: CopyOptions;
  /** The copy engine's settings for copies that do not give their own (the ring's COPY opcode). */
  get copyOptions(): CopyOptions {
    return this.copyDefaults;
  }
  private readonly closers: (() => void | Promise<void>)[] = [];
  private readonly asyncCopies = new Map<number, CopyOperation>();
  private nextCookie = 0;

  constructor(options: LabOptions = {}) {
    this.clock = new Clock(options.clock ?? {});
    this.onClose(() => this.clock.stop());
    this.copyDefaults = {
      fallback: options.fallback ?? COPY_DEFAULTS.fallback,
      emulationBufferBytes: options.emulationBufferBytes ?? COPY_DEFAULTS.emulationBufferBytes,
      maxRanges: options.maxCopyRanges ?? COPY_DEFAULTS.maxRanges,
      maxBytes: options.maxCopyBytes ?? COPY_DEFAULTS.maxBytes,
      strategy: options.copyStrategy ?? COPY_DEFAULTS.strategy,
    };
    if (!COPY_STRATEGIES.includes(this.copyDefaults.strategy)) throw new RangeError(`unknown copy strategy ${String(this.copyDefaults.strategy)}`);
    for (const key of ['emulationBufferBytes', 'maxRanges', 'maxBytes'] as const) {
      const v = this.copyDefaults[key];
      const { min, max } = COPY_OPTION_LIMITS[key];
      if (!Number.isSafeInteger(v) || v < min || v > max) throw new RangeError(`${key} must be an integer in ${min}..${max}`);
    }
  }

  /** The copy plumbing strategy every copy of this lab uses (copy options' `strategy`, the one place it is kept). */
  get copyStrategy(): CopyStrategy {
    return this.copyDefaults.strategy;
  }

  /** Most ranges and bytes one copy request may carry (lab options maxCopyRanges, maxCopyBytes). */
  get copyRequestLimits(): { readonly maxRanges: number; readonly maxBytes: number } {
    return { maxRanges: this.copyOptions.maxRanges, maxBytes: this.copyOptions.maxBytes };
  }

  get fallback(): boolean {
    return this.copyDefaults.fallback;
  }

  set fallback(on: boolean) {
    this.copyDefaults = { ...this.copyDefaults, fallback: on };
  }

  /** Registers a block device: it appears as /dev/<name> and in /sys/block/<name>. */
  addDevice<D extends BlockDevice>(dev: D): D {
    if (this.devices.has(dev.name)) throw new ErrnoError(Errno.EBUSY, `device ${dev.name} already exists`);
    if (this.devices.size >= LAB_MAX_DEVICES) throw new ErrnoError(Errno.ENOSPC, `a lab holds at most ${LAB_MAX_DEVICES} devices`);
    this.devices.set(dev.name, dev);
    registerBlockDevice(this.sysfs, dev);
    registerCopyReach(this.sysfs, dev, () => [...this.devices.values()]);
    return dev;
  }

  hasDevice(name: string): boolean {
    return this.devices.has(name);
  }

  /**
   * Attaches a device of a registered kind (devices/backends.ts): `nullblk`, `nvme`, `scsi`.
   * Options as the scenario's device entry of that kind; RangeError for options the model refuses.
   */
  attach<K extends DeviceKind>(kind: K, options: BackendOptions<K>): BackendAttachment<K> {
    if (!Object.hasOwn(DEVICE_BACKENDS, kind)) throw new RangeError(`unknown device kind ${String(kind)} (one of ${Object.keys(DEVICE_BACKENDS).join(', ')})`);
    const backend = DEVICE_BACKENDS[kind] as unknown as { attach(host: DeviceHost, o: BackendOptions<K>): BackendAttachment<K> };
    return backend.attach(this, options);
  }

  /** Adds a null_blk device (docs/scenario.md); options as a scenario's `kind: nullblk`. */
  addNullBlk(options: NullBlkOptions): NullBlkDevice {
    return this.attach('nullblk', options);
  }

  /**
   * Adds an NVMe controller and its namespaces (`/dev/nvme0n1`, …) with the host driver bound to
   * it (docs/nvme.md); `.host.passthru()` sends raw commands. Options as a scenario's `kind: nvme`.
   */
  addNvmeController(options: NvmeControllerOptions): NvmeAttachment {
    return this.attach('nvme', options);
  }

  /** The NVMe controller named `nvme0` (its host driver, controller and namespace devices), or undefined. */
  nvmeController(name: string): NvmeAttachment | undefined {
    return nvmeController(this, name.replace(/^\/dev\//, ''));
  }

  /**
   * Adds a SCSI array (logical units and a copy manager) and the sd disks the host initiator sees
   * (`/dev/sda`, …) (docs/scsi.md). Options as a scenario's `kind: scsi`.
   */
  addScsiArray(options: ScsiLabOptions): { array: ScsiArray; disks: SdDevice[] } {
    return this.attach('scsi', options);
  }

  /** The device at a path (`/dev/nullb0` or `nullb0`), or undefined. */
  findDevice(path: string): BlockDevice | undefined {
    if (path.startsWith('/dev/mapper/')) return this.dm.find(path.slice('/dev/mapper/'.length));
    return this.devices.get(path.startsWith('/dev/') ? path.slice(5) : path);
  }

  /** Removes a device and its sysfs directory; refused (EBUSY) while a dm table maps onto it. */
  removeDevice(name: string): void {
    const dev = this.devices.get(name);
    if (!dev) throw new ErrnoError(Errno.ENOENT, `no block device ${name}`);
    if (this.dm.holds(dev)) throw new ErrnoError(Errno.EBUSY, `device ${name} is in use by a dm table`);
    this.devices.delete(name);
    this.sysfs.removeTree(`/sys/block/${name}`);
  }

  /** The device at a path; throws ErrnoError(-ENOENT) when there is none. */
  device(path: string | BlockDevice): BlockDevice {
    if (typeof path !== 'string') return path;
    const dev = this.findDevice(path);
    if (!dev) throw new ErrnoError(Errno.ENOENT, `no block device ${path}`);
    return dev;
  }

  list(): BlockDevice[] {
    return [...this.devices.values()];
  }

  /** Submits one bio and resolves with its result (bytes, 0 or -errno); never rejects for I/O errors. */
  submit(path: string | BlockDevice, bio: { op: ReqOp; offset: number; length: number; data?: Uint8Array; sources?: Bio['sources']; flags?: number }, trace?: Trace): Promise<number> {
    return submitBioWait(this.device(path), { ...bio, ...(trace ? { trace } : {}) });
  }

  /** A trace whose events carry this lab's modeled time next to wall time. */
  newTrace(): Trace {
    return new Trace(this.clock);
  }

  async read(path: string | BlockDevice, offset: number, length: number): Promise<Uint8Array> {
    const data = new Uint8Array(length);
    const res = await this.submit(path, { op: ReqOp.READ, offset, length, data });
    if (res < 0) throw new ErrnoError(-res, `read ${offset}+${length} from ${this.device(path).name}`);
    return data;
  }

  async write(path: string | BlockDevice, offset: number, data: Uint8Array): Promise<void> {
    const res = await this.submit(path, { op: ReqOp.WRITE, offset, length: data.length, data });
    if (res < 0) throw new ErrnoError(-res, `write ${offset}+${data.length} to ${this.device(path).name}`);
  }

  /**
   * Copies ranges onto the destination device through the copy engine. Resolves with the
   * result (res = bytes or -errno, path, pieces, host bytes, trace); never rejects for I/O errors.
   */
  copy(dst: string | BlockDevice, ranges: readonly LabCopyRange[], options: Partial<CopyOptions> = {}, trace?: Trace, control?: CopyControl): Promise<CopyResult> {
    const d = this.device(dst);
    const resolved: CopyRange[] = ranges.map((r) => ({
      srcOffset: r.srcOffset,
      dstOffset: r.dstOffset,
      length: r.length,
      ...(r.src !== undefined ? { src: this.device(r.src) } : {}),
    }));
    return blkdevCopy(d, resolved, { ...this.copyDefaults, ...options }, trace ?? this.newTrace(), control);
  }

  /** The copy engine on resolved devices with the lab's settings (an iSCSI gateway LU's copies). */
  copyRanges(dst: BlockDevice, ranges: readonly CopyRange[], control?: CopyControl, trace?: Trace): Promise<CopyResult> {
    return blkdevCopy(dst, ranges, this.copyDefaults, trace ?? this.newTrace(), control);
  }

  /**
   * Starts a copy and returns at once with its cookie (LSF/MM 2013's asynchronous copy): progress
   * while it runs, cancel() to stop it at the next piece boundary (it then completes with
   * -ECANCELED and the bytes done), and `done` for its result. At most LAB_MAX_ASYNC_COPIES run
   * at once (EBUSY beyond).
   */
  copyAsync(dst: string | BlockDevice, ranges: readonly LabCopyRange[], options: Partial<CopyOptions> = {}): CopyOperation {
    if (this.asyncCopies.size >= LAB_MAX_ASYNC_COPIES) throw new ErrnoError(Errno.EBUSY, `at most ${LAB_MAX_ASYNC_COPIES} asynchronous copies run at once`);
    const cookie = ++this.nextCookie;
    const control: CopyControl & { bytes: number; pieces: number; total: number } = {
      cancelled: false,
      bytes: 0,
      pieces: 0,
      total: ranges.reduce((n, r) => n + r.length, 0),
      onProgress(bytes, pieces, total) {
        control.bytes = bytes;
        control.pieces = pieces;
        control.total = total;
      },
    };
    const clock = this.clock;
    const started = clock.now();
    let state: CopyOperation['state'] = 'running';
    let finished: number | null = null;
    const done = this.copy(dst, ranges, options, undefined, control).then((r) => {
      state = r.res === -Errno.ECANCELED ? 'cancelled' : r.res < 0 ? 'failed' : 'done';
      finished = this.clock.now();
      this.asyncCopies.delete(cookie);
      return r;
    });
    const op: CopyOperation = {
      cookie,
      get state() { return state; },
      get bytesDone() { return control.bytes; },
      get piecesDone() { return control.pieces; },
      get totalBytes() { return control.total; },
      get modeledUs() { return ((finished ?? clock.now()) - started) / 1000; },
      cancel: () => {
        if (state !== 'running' || control.cancelled) return false;
        control.cancelled = true;
        return true;
      },
      done,
    };
    this.asyncCopies.set(cookie, op);
    return op;
  }

  /** A running asynchronous copy by its cookie. */
  copyOperation(cookie: number): CopyOperation | undefined {
    return this.asyncCopies.get(cookie);
  }

  /** Releases what the lab holds (worker threads, servers); a closed lab takes no more I/O. */
  async close(): Promise<void> {
    for (const fn of this.closers.splice(0).reverse()) await fn();
    await this.pool.destroy();
  }

  /** Registers something to release on close (device workers, pools). */
  onClose(fn: () => void | Promise<void>): void {
    this.closers.push(fn);
  }

  /** Opens a device by path (open(2) of /dev/NAME); returns a file descriptor for rings. */
  open(path: string): number {
    const dev = this.device(path);
    if (this.fds.size >= LAB_MAX_FDS) throw new ErrnoError(Errno.EMFILE, `at most ${LAB_MAX_FDS} open devices`);
    while (this.fds.has(this.nextFd)) this.nextFd = this.nextFd >= FIRST_FD + LAB_MAX_FDS * 2 ? FIRST_FD : this.nextFd + 1;
    const fd = this.nextFd++;
    this.fds.set(fd, dev);
    return fd;
  }

  closeFd(fd: number): void {
    if (!this.fds.delete(fd)) throw new ErrnoError(Errno.EBADF, `fd ${fd} is not open`);
  }

  fdDevice(fd: number): BlockDevice | undefined {
    return this.fds.get(fd);
  }

  /** io_uring_queue_init_params: a ring whose SQEs run against this lab's devices. */
  createRing(params: RingParams): Ring {
    const ring = new Ring(this, params);
    if (ring.sqpoll) this.onClose(() => ring.close());
    return ring;
  }

  /** The ring's COPY_FILE_RANGE (copylab's opcode) on this lab's file systems (src/app/fs/async-copy.ts). */
  copyFileRange(req: FileCopyRequest, control: CopyControl): Promise<{ res: number; bytes: number }> {
    return ringCopyFileRange(this, req, control);
  }

  /** Reaps completions of worker-run devices; returns how many. */
  poll(): number {
    return this.poller.poll();
  }

  get deviceWorkPending(): boolean {
    return this.poller.inflight > 0;
  }

  /** Resolves when worker-run devices may have completed something. */
  waitEvent(): Promise<void> {
    return this.poller.wait();
  }

  /** Records a device failure (the lab's report of it). */
  reportFailure(device: string, reason: string): void {
    this.failures.push({ device, reason, at: new Date() });
    if (this.failures.length > 1000) this.failures.shift();
    process.emitWarning(`copylab: device ${device} failed: ${reason}`);
  }

  readSysfs(path: string): SysfsResult {
    return this.sysfs.read(path);
  }

  writeSysfs(path: string, value: string): SysfsResult {
    return this.sysfs.write(path, value);
  }
}
