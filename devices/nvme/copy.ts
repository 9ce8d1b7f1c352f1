/**
 * The Copy command (NVM 3.2.2): ranges of one or more source namespaces copied, one after
 * another, to consecutive LBAs of the destination namespace from SDLBA, inside the device (no
 * host buffer is touched; only the descriptor list crosses the bus).
 *
 * Checks run in QEMU's order (hw/nvme/ctrl.c nvme_copy, nvme_do_copy, nvme_copy_in_completed_cb):
 *  1. DESFMT must be in OCFS, and formats 2/3 enabled by the host (Host Behavior Support CDFE) → 0002h
 *  2. NR + 1 > MSRC + 1 → 0183h
 *  3. the format must match the namespace's PI format (16b guard: 0/2, else 1/3) → 010Ah
 *  4. the descriptor list is fetched; on a zoned namespace the zone of SDLBA must exist (0080h) and is implicitly opened
 *  5. Σ (NLB + 1) > MCL → 0183h
 *  6. per range: (formats 2/3) SNSID valid (000Bh) and attached (0002h), fast-copy-only honoured (0186h);
 *     overlap with the destination when the source namespace is the destination (0187h);
 *     another namespace must have the same LBA format and PI (0185h); NLB + 1 > MSSRL → 0183h;
 *     source bounds (0080h); source zone readable; media (0281h)
 *  7. write side per range: destination bounds (0080h); zoned: at the write pointer, inside capacity
 *     (01BCh / 01B8h / 01B9h …); the write pointer advances and the zone becomes Full at capacity.
 * On a failure after range k started, CQE DW0 = k (ranges fully copied), as QEMU reports it.
 *
 * Deviation from QEMU, on purpose: the overlap check runs for every format (QEMU only checks it
 * for formats 2/3, and only the end of the source range) and tests whole intervals, so that a
 * copy whose result would depend on the order of ranges is always refused.
 */
import { fail, ok, type CmdResult, type Request } from './command.js';
import type { NvmeNamespace } from './namespace.js';
import { decodeRanges, parseCopyCmd } from './codec.js';
import { descSize, NSID_BROADCAST, SOPT_FCO, Status } from './spec.js';
import { NVME_LIMITS } from './defaults.js';
import { copyBetween } from '../backing/backing.js';
import { Errno } from '../../src/core/util/errno.js';
import { mediaStatus } from './media-status.js';

export function copyCommand(req: Request, dns: NvmeNamespace): CmdResult {
  const { ctrl, cmd } = req;
  const c = parseCopyCmd(cmd);
  const fmt = c.format;
  // 1.
  if (fmt > 15 || !(ctrl.ocfs & (1 << fmt)) || ((fmt === 2 || fmt === 3) && !(ctrl.cdfe & (1 << fmt)))) return fail(Status.INVALID_FIELD);
  // 2.
  if (c.nr > dns.msrc + 1) return fail(Status.CMD_SIZE_LIMIT);
  // 3.
  const piFormats = dns.pif === 0 ? [0, 2] : [1, 3];
  if (!piFormats.includes(fmt)) return fail(Status.INVALID_FORMAT);
  // 4.
  const list = ctrl.h2c(cmd, c.nr * descSize(fmt));
  if (typeof list === 'number') return fail(list);
  const ranges = decodeRanges(fmt, list, c.nr);
  const zs = dns.zones;
  const zone = zs ? zs.zoneOf(c.sdlba) : undefined;
  if (zs) {
    if (!zone || c.sdlba >= dns.nsze) return fail(Status.LBA_RANGE);
    const st = zs.open(zone, true);
    if (st) return fail(st);
  }
  // 5.
  const total = ranges.reduce((n, r) => n + r.nlb, 0);
  if (total > dns.mcl) return fail(Status.CMD_SIZE_LIMIT);

  let dlba = c.sdlba;
  const moved: { nsid: number; offset: number; length: number }[] = [];
  for (let idx = 0; idx < ranges.length; idx++) {
    const r = ranges[idx]!;
    const failAt = (status: number): CmdResult => fail(status, idx);
    // 6.
    let sns = dns;
    if (fmt === 2 || fmt === 3) {
      if (r.snsid !== cmd.nsid) {
        if (r.snsid === 0 || r.snsid === NSID_BROADCAST || r.snsid > NVME_LIMITS.maxNamespaces) return failAt(Status.INVALID_NSID);
        const s = ctrl.namespace(r.snsid);
        if (!s) return failAt(Status.INVALID_FIELD);
        sns = s;
        if (r.sopt & SOPT_FCO && ctrl.fastCopy !== 'all') return failAt(Status.FAST_COPY_NOT_POSSIBLE);
      }
    }
    if (sns === dns) {
      if (r.slba < c.sdlba + total && c.sdlba < r.slba + r.nlb) return failAt(Status.OVERLAPPING_IO_RANGE);
    } else if (sns.lbs !== dns.lbs || sns.pif !== dns.pif) {
      return failAt(Status.INCOMPATIBLE_NS_OR_FORMAT);
    }
    if (r.nlb > sns.mssrl) return failAt(Status.CMD_SIZE_LIMIT);
    if (!sns.inBounds(r.slba, r.nlb)) return failAt(Status.LBA_RANGE);
    if (sns.zones) {
      const st = sns.zones.checkRead(r.slba, r.nlb);
      if (st) return failAt(st);
    }
    if (sns.faultAt('read', r.slba, r.nlb)) return failAt(Status.UNRECOVERED_READ);
    // 7.
    if (!dns.inBounds(dlba, r.nlb)) return failAt(Status.LBA_RANGE);
    if (zs && zone) {
      const st = zs.checkWrite(zone, dlba, r.nlb);
      if (st) return failAt(st);
    }
    if (dns.faultAt('write', dlba, r.nlb)) return failAt(Status.WRITE_FAULT);
    const res = copyBetween(sns.backing, r.slba * sns.lbs, dns.backing, dlba * dns.lbs, r.nlb * dns.lbs);
    // A thin-provisioned destination that cannot grow leaves the controller without the resources
    // to finish the copy: Insufficient Resources (NVM Command Set, Copy command specific status 89h).
    if (res === -Errno.ENOSPC) return failAt(Status.INSUFFICIENT_RESOURCES);
    const st = mediaStatus(res);
    if (st) return failAt(st);
    if (zs && zone) zs.advance(zone, r.nlb);
    ctrl.stats.copy_bytes += r.nlb * dns.lbs;
    moved.push({ nsid: sns.nsid, offset: r.slba * sns.lbs, length: r.nlb * sns.lbs });
    dlba += r.nlb;
  }
  // FUA: the model has no volatile write cache (VWC = 0), so every copy is durable when it completes.
  return { ...ok(), copySources: moved };
}
