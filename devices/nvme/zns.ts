/**
 * Zone resource management for one zoned namespace (ZNS 2.1 "Zone State Machine"), following
 * QEMU's nvme_zrm_* functions: open and active resources are counted, implicitly opened zones are
 * closed to make room when the open limit is reached (auto transition), a zone whose write pointer
 * reaches its capacity becomes Full and gives its resources back. Every failed transition returns
 * a ZNS status and changes nothing.
 */
import { Status, ZoneState, type ZoneStateT } from './spec.js';

export interface Zone {
  readonly index: number;
  /** Zone start LBA. */
  readonly zslba: number;
  /** Zone capacity (LBs). */
  readonly zcap: number;
  state: ZoneStateT;
  /** Write pointer (LBA). */
  wp: number;
}

export interface ZoneConfig {
  /** Zone size and capacity in LBs. */
  readonly zsze: number;
  readonly zcap: number;
  readonly nzones: number;
  /** 0 = no limit. */
  readonly maxOpen: number;
  readonly maxActive: number;
  readonly autoTransition: boolean;
}

const isOpen = (s: ZoneStateT): boolean => s === ZoneState.IMPLICITLY_OPEN || s === ZoneState.EXPLICITLY_OPEN;
const isActive = (s: ZoneStateT): boolean => isOpen(s) || s === ZoneState.CLOSED;

export class ZoneSet {
  readonly zones: Zone[];
  nrOpen = 0;
  nrActive = 0;
  /** Implicitly opened zones in the order they were opened (the auto-close victim is the oldest). */
  private readonly impOpen: Zone[] = [];

  constructor(readonly cfg: ZoneConfig) {
    this.zones = Array.from({ length: cfg.nzones }, (_, i) => ({ index: i, zslba: i * cfg.zsze, zcap: cfg.zcap, state: ZoneState.EMPTY, wp: i * cfg.zsze }));
  }

  zoneOf(lba: number): Zone | undefined {
    return this.zones[Math.floor(lba / this.cfg.zsze)];
  }

  /** End of the writable part of a zone (zslba + zcap). */
  writeBoundary(z: Zone): number {
    return z.zslba + z.zcap;
  }

  private assign(z: Zone, s: ZoneStateT): void {
    if (z.state === ZoneState.IMPLICITLY_OPEN) {
      const i = this.impOpen.indexOf(z);
      if (i >= 0) this.impOpen.splice(i, 1);
    }
    z.state = s;
    if (s === ZoneState.IMPLICITLY_OPEN) this.impOpen.push(z);
  }

  /** nvme_aor_check: would `act` more active and `opn` more open zones exceed the limits? */
  private aorCheck(act: number, opn: number): number {
    if (this.cfg.maxActive && this.nrActive + act > this.cfg.maxActive) return Status.ZONE_TOO_MANY_ACTIVE;
    if (this.cfg.maxOpen && this.nrOpen + opn > this.cfg.maxOpen) return Status.ZONE_TOO_MANY_OPEN;
    return Status.SUCCESS;
  }

  /** Closes the oldest implicitly opened zone when the open limit is reached (QEMU nvme_zrm_auto_transition_zone). */
  private autoTransition(): void {
    if (!this.cfg.autoTransition || !this.cfg.maxOpen || this.nrOpen < this.cfg.maxOpen) return;
    const victim = this.impOpen[0];
    if (victim) this.close(victim);
  }

  /** Opens a zone implicitly (auto: a write) or explicitly (Zone Management Send Open). */
  open(z: Zone, auto: boolean): number {
    switch (z.state) {
      case ZoneState.EMPTY:
      case ZoneState.CLOSED: {
        const act = z.state === ZoneState.EMPTY ? 1 : 0;
        this.autoTransition();
        const st = this.aorCheck(act, 1);
        if (st) return st;
        this.nrActive += act;
        this.nrOpen++;
        this.assign(z, auto ? ZoneState.IMPLICITLY_OPEN : ZoneState.EXPLICITLY_OPEN);
        return Status.SUCCESS;
      }
      case ZoneState.IMPLICITLY_OPEN:
        if (!auto) this.assign(z, ZoneState.EXPLICITLY_OPEN);
        return Status.SUCCESS;
      case ZoneState.EXPLICITLY_OPEN:
        return Status.SUCCESS;
      default:
        return Status.ZONE_INVALID_TRANSITION;
    }
  }

  /**
   * Close: an open zone becomes Closed, or Empty when nothing was written to it (ZNS 2.1.1.3.1,
   * as the kernel's null_blk does); a Closed zone stays Closed.
   */
  close(z: Zone): number {
    switch (z.state) {
      case ZoneState.IMPLICITLY_OPEN:
      case ZoneState.EXPLICITLY_OPEN:
        this.nrOpen--;
        if (z.wp === z.zslba) {
          this.nrActive--;
          this.assign(z, ZoneState.EMPTY);
        } else this.assign(z, ZoneState.CLOSED);
        return Status.SUCCESS;
      case ZoneState.CLOSED:
        return Status.SUCCESS;
      default:
        return Status.ZONE_INVALID_TRANSITION;
    }
  }

  /** Gives back the open and active resources a zone holds (before it becomes Empty or Full). */
  private release(z: Zone): void {
    if (isOpen(z.state)) this.nrOpen--;
    if (isActive(z.state)) this.nrActive--;
  }

  finish(z: Zone): number {
    if (z.state === ZoneState.FULL) return Status.SUCCESS;
    if (!isActive(z.state) && z.state !== ZoneState.EMPTY) return Status.ZONE_INVALID_TRANSITION;
    this.release(z);
    z.wp = this.writeBoundary(z);
    this.assign(z, ZoneState.FULL);
    return Status.SUCCESS;
  }

  reset(z: Zone): number {
    if (z.state === ZoneState.EMPTY) return Status.SUCCESS;
    if (!isActive(z.state) && z.state !== ZoneState.FULL) return Status.ZONE_INVALID_TRANSITION;
    this.release(z);
    z.wp = z.zslba;
    this.assign(z, ZoneState.EMPTY);
    return Status.SUCCESS;
  }

  /** Offline: only a Read Only zone may be taken offline (ZNS 2.1.1.3.5). */
  offline(z: Zone): number {
    if (z.state === ZoneState.READ_ONLY) {
      this.assign(z, ZoneState.OFFLINE);
      return Status.SUCCESS;
    }
    return z.state === ZoneState.OFFLINE ? Status.SUCCESS : Status.ZONE_INVALID_TRANSITION;
  }

  /** The controller's own transition to Read Only or Offline (media failure), for fault scenarios. */
  fail(z: Zone, s: typeof ZoneState.READ_ONLY | typeof ZoneState.OFFLINE): void {
    this.release(z);
    this.assign(z, s);
  }

  /** nvme_check_zone_write: state, write pointer, capacity. */
  checkWrite(z: Zone, slba: number, nlb: number): number {
    switch (z.state) {
      case ZoneState.FULL:
        return Status.ZONE_FULL;
      case ZoneState.OFFLINE:
        return Status.ZONE_OFFLINE;
      case ZoneState.READ_ONLY:
        return Status.ZONE_READ_ONLY;
    }
    if (slba !== z.wp) return Status.ZONE_INVALID_WRITE;
    if (slba + nlb > this.writeBoundary(z)) return Status.ZONE_BOUNDARY_ERROR;
    return Status.SUCCESS;
  }

  /** nvme_check_zone_read: offline zones and reads across zone boundaries (no RAZB) fail. */
  checkRead(slba: number, nlb: number): number {
    const z = this.zoneOf(slba);
    if (!z) return Status.LBA_RANGE;
    if (z.state === ZoneState.OFFLINE) return Status.ZONE_OFFLINE;
    if (slba + nlb > z.zslba + this.cfg.zsze) return Status.ZONE_BOUNDARY_ERROR;
    return Status.SUCCESS;
  }

  /** Advances the write pointer after a write; at capacity the zone becomes Full (nvme_zrm_finalize). */
  advance(z: Zone, nlb: number): void {
    z.wp += nlb;
    if (z.wp === this.writeBoundary(z)) {
      this.release(z);
      this.assign(z, ZoneState.FULL);
    }
  }
}
