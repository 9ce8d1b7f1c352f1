/**
 * I/O command handlers (NVM 3, ZNS 4): Flush, Read, Write, Write Zeroes, Dataset Management,
 * Zone Append, Zone Management Send/Receive; Copy lives in copy.ts. Each handler checks in QEMU's
 * order (MDTS, bounds, zone state) and touches the media only once every check has passed.
 */
import { fail, ok, type CmdResult, type Request } from './command.js';
import type { NvmeNamespace } from './namespace.js';
import { slbaOf } from './codec.js';
import { copyCommand } from './copy.js';
import { mediaStatus } from './media-status.js';
import {
  DSM_AD, DSM_RANGE_SIZE, IoOpc, NSID_BROADCAST, RW_NLB_MASK, Status, ZMR_PARTIAL, ZMS_SELECT_ALL, ZONE_REPORT, ZONE_TYPE_SEQ_WRITE_REQUIRED,
  ZRA, ZRASF, ZSA, ZoneState, type ZoneStateT,
} from './spec.js';
import { NVME_LIMITS } from './defaults.js';
import type { Zone } from './zns.js';
import { dataView, le64, putLe64 } from '../../src/core/util/bytes.js';

export function ioCommand(req: Request): CmdResult {
  const { cmd, ctrl } = req;
  if (cmd.opcode === IoOpc.FLUSH && cmd.nsid === NSID_BROADCAST) return ok();
  if (cmd.nsid === 0 || cmd.nsid === NSID_BROADCAST || cmd.nsid > NVME_LIMITS.maxNamespaces) return fail(Status.INVALID_NSID);
  const ns = ctrl.namespace(cmd.nsid);
  if (!ns) return fail(Status.INVALID_FIELD);
  switch (cmd.opcode) {
    case IoOpc.FLUSH:
      return ok();
    case IoOpc.READ:
      return read(req, ns);
    case IoOpc.WRITE:
      return write(req, ns, 'write');
    case IoOpc.WRITE_ZEROES:
      return write(req, ns, 'zeroes');
    case IoOpc.ZONE_APPEND:
      return ns.zones ? write(req, ns, 'append') : fail(Status.INVALID_OPCODE);
    case IoOpc.DSM:
      return dsm(req, ns);
    case IoOpc.COPY:
      return copyCommand(req, ns);
    case IoOpc.ZONE_MGMT_SEND:
      return ns.zones ? zoneMgmtSend(req, ns) : fail(Status.INVALID_OPCODE);
    case IoOpc.ZONE_MGMT_RECV:
      return ns.zones ? zoneMgmtRecv(req, ns) : fail(Status.INVALID_OPCODE);
    default:
      return fail(Status.INVALID_OPCODE);
  }
}

function read(req: Request, ns: NvmeNamespace): CmdResult {
  const { cmd, ctrl } = req;
  const slba = slbaOf(cmd);
  const nlb = (cmd.cdw12 & RW_NLB_MASK) + 1;
  const len = nlb * ns.lbs;
  if (len > ctrl.maxTransfer) return fail(Status.INVALID_FIELD);
  if (!ns.inBounds(slba, nlb)) return fail(Status.LBA_RANGE);
  if (ns.zones) {
    const st = ns.zones.checkRead(slba, nlb);
    if (st) return fail(st);
  }
  if (ns.faultAt('read', slba, nlb)) return fail(Status.UNRECOVERED_READ);
  const segs = ctrl.segments(cmd, len);
  if (typeof segs === 'number') return fail(segs);
  let at = slba * ns.lbs;
  for (const s of segs) {
    ns.backing.read(at, s);
    at += s.length;
  }
  return ok();
}

function write(req: Request, ns: NvmeNamespace, kind: 'write' | 'zeroes' | 'append'): CmdResult {
  const { cmd, ctrl } = req;
  let slba = slbaOf(cmd);
  const nlb = (cmd.cdw12 & RW_NLB_MASK) + 1;
  const len = nlb * ns.lbs;
  if (kind !== 'zeroes' && len > ctrl.maxTransfer) return fail(Status.INVALID_FIELD);
  if (!ns.inBounds(slba, nlb)) return fail(Status.LBA_RANGE);
  let zone: Zone | undefined;
  if (ns.zones) {
    zone = ns.zones.zoneOf(slba)!;
    if (kind === 'append') {
      // Zone Append: SLBA names the zone start; the controller picks the LBA (ZNS 4.5).
      if (slba !== zone.zslba) return fail(Status.INVALID_FIELD);
      if (len > ctrl.maxAppend) return fail(Status.INVALID_FIELD);
      slba = zone.wp;
    }
    const st = ns.zones.checkWrite(zone, slba, nlb);
    if (st) return fail(st);
  }
  if (ns.faultAt('write', slba, nlb)) return fail(Status.WRITE_FAULT);
  let segs: Uint8Array[] = [];
  if (kind !== 'zeroes') {
    const s = ctrl.segments(cmd, len);
    if (typeof s === 'number') return fail(s);
    segs = s;
  }
  if (zone) {
    const st = ns.zones!.open(zone, true);
    if (st) return fail(st);
  }
  let at = slba * ns.lbs;
  if (kind === 'zeroes') ns.backing.zero(at, len);
  else {
    for (const s of segs) {
      const st = mediaStatus(ns.backing.write(at, s));
      if (st) return fail(st);
      at += s.length;
    }
  }
  if (zone) ns.zones!.advance(zone, nlb);
  // Zone Append returns the LBA it wrote at in DW0 (low) and DW1 (high) (ZNS Figure 33).
  return kind === 'append' ? ok(slba >>> 0, Math.floor(slba / 2 ** 32)) : ok();
}

function dsm(req: Request, ns: NvmeNamespace): CmdResult {
  const { cmd, ctrl } = req;
  const nr = (cmd.cdw10 & 0xff) + 1;
  const data = ctrl.h2c(cmd, nr * DSM_RANGE_SIZE);
  if (typeof data === 'number') return fail(data);
  if (!(cmd.cdw11 & DSM_AD)) return ok(); // attribute hints only: nothing to do
  const v = dataView(data);
  const ranges: [number, number][] = [];
  for (let i = 0; i < nr; i++) {
    const nlb = v.getUint32(i * DSM_RANGE_SIZE + 4, true);
    const slba = le64(data, i * DSM_RANGE_SIZE + 8);
    if (!ns.inBounds(slba, nlb)) return fail(Status.LBA_RANGE);
    ranges.push([slba, nlb]);
  }
  // Deallocated blocks read as zeros (DLFEAT = 001b). On a zoned namespace the write pointer is not moved.
  for (const [slba, nlb] of ranges) ns.backing.zero(slba * ns.lbs, nlb * ns.lbs);
  return ok();
}

const SELECT_ALL_STATES: Readonly<Record<number, readonly ZoneStateT[]>> = {
  [ZSA.OPEN]: [ZoneState.CLOSED],
  [ZSA.CLOSE]: [ZoneState.IMPLICITLY_OPEN, ZoneState.EXPLICITLY_OPEN],
  [ZSA.FINISH]: [ZoneState.IMPLICITLY_OPEN, ZoneState.EXPLICITLY_OPEN, ZoneState.CLOSED],
  [ZSA.RESET]: [ZoneState.IMPLICITLY_OPEN, ZoneState.EXPLICITLY_OPEN, ZoneState.CLOSED, ZoneState.FULL],
  [ZSA.OFFLINE]: [ZoneState.READ_ONLY],
};

function zoneMgmtSend(req: Request, ns: NvmeNamespace): CmdResult {
  const { cmd } = req;
  const zs = ns.zones!;
  const action = cmd.cdw13 & 0xff;
  const all = (cmd.cdw13 & ZMS_SELECT_ALL) !== 0;
  const slba = slbaOf(cmd);
  let zone: Zone | undefined;
  if (!all) {
    if (slba >= ns.nsze) return fail(Status.LBA_RANGE);
    zone = zs.zoneOf(slba)!;
    if (slba !== zone.zslba) return fail(Status.INVALID_FIELD);
  }
  const op = (z: Zone): number => {
    switch (action) {
      case ZSA.OPEN: return zs.open(z, false);
      case ZSA.CLOSE: return zs.close(z);
      case ZSA.FINISH: return zs.finish(z);
      case ZSA.RESET: {
        const st = zs.reset(z);
        if (!st) ns.backing.zero(z.zslba * ns.lbs, zs.cfg.zsze * ns.lbs);
        return st;
      }
      case ZSA.OFFLINE: return zs.offline(z);
      default: return Status.INVALID_FIELD;
    }
  };
  if (!(action in SELECT_ALL_STATES)) return fail(Status.INVALID_FIELD); // includes Set Zone Descriptor Extension: no extensions
  if (!all) {
    const st = op(zone!);
    return st ? fail(st) : ok();
  }
  const states = SELECT_ALL_STATES[action]!;
  for (const z of zs.zones) {
    if (!states.includes(z.state)) continue;
    const st = op(z);
    if (st) return fail(st);
  }
  return ok();
}

const FILTER: Readonly<Record<number, ZoneStateT | null>> = {
  [ZRASF.ALL]: null,
  [ZRASF.EMPTY]: ZoneState.EMPTY,
  [ZRASF.IMPLICITLY_OPEN]: ZoneState.IMPLICITLY_OPEN,
  [ZRASF.EXPLICITLY_OPEN]: ZoneState.EXPLICITLY_OPEN,
  [ZRASF.CLOSED]: ZoneState.CLOSED,
  [ZRASF.FULL]: ZoneState.FULL,
  [ZRASF.READ_ONLY]: ZoneState.READ_ONLY,
  [ZRASF.OFFLINE]: ZoneState.OFFLINE,
};

function zoneMgmtRecv(req: Request, ns: NvmeNamespace): CmdResult {
  const { cmd, ctrl } = req;
  const zs = ns.zones!;
  const len = (cmd.cdw12 + 1) * 4;
  const slba = slbaOf(cmd);
  if (slba >= ns.nsze) return fail(Status.LBA_RANGE);
  const zra = cmd.cdw13 & 0xff;
  const zrasf = (cmd.cdw13 >>> 8) & 0xff;
  const partial = (cmd.cdw13 & ZMR_PARTIAL) !== 0;
  if (zra !== ZRA.REPORT) return fail(Status.INVALID_FIELD); // no zone descriptor extensions, so no extended report
  if (!(zrasf in FILTER)) return fail(Status.INVALID_FIELD);
  if (len < ZONE_REPORT.HEADER || len > ctrl.maxTransfer) return fail(Status.INVALID_FIELD);
  const want = FILTER[zrasf]!;
  const first = zs.zoneOf(slba)!.index;
  const max = Math.floor((len - ZONE_REPORT.HEADER) / ZONE_REPORT.DESC);
  const matching = zs.zones.slice(first).filter((z) => want === null || z.state === want);
  const out = new Uint8Array(len);
  const v = dataView(out);
  // Without the partial bit the header counts every matching zone; with it, only those reported.
  putLe64(out, ZONE_REPORT.NR_ZONES, partial ? Math.min(max, matching.length) : matching.length);
  matching.slice(0, max).forEach((z, i) => {
    const o = ZONE_REPORT.HEADER + i * ZONE_REPORT.DESC;
    v.setUint8(o + ZONE_REPORT.ZT, ZONE_TYPE_SEQ_WRITE_REQUIRED);
    v.setUint8(o + ZONE_REPORT.ZS, z.state << 4);
    putLe64(out, o + ZONE_REPORT.ZCAP, z.zcap);
    putLe64(out, o + ZONE_REPORT.ZSLBA, z.zslba);
    // The write pointer is not valid in Full, Read Only and Offline zones: all ones (ZNS Figure 41).
    const wpValid = z.state !== ZoneState.FULL && z.state !== ZoneState.READ_ONLY && z.state !== ZoneState.OFFLINE;
    if (wpValid) putLe64(out, o + ZONE_REPORT.WP, z.wp);
    else { v.setUint32(o + ZONE_REPORT.WP, 0xffffffff, true); v.setUint32(o + ZONE_REPORT.WP + 4, 0xffffffff, true); }
  });
  const st = ctrl.c2h(cmd, out);
  return st ? fail(st) : ok();
}
