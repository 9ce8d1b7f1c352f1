/** The Identify data structures (Base 5.17.2, NVM 4.1.5, ZNS 4.1.5), built byte for byte. */
import type { NvmeController } from './controller.js';
import type { NvmeNamespace } from './namespace.js';
import {
  CQE_SIZE, ID_CTRL, ID_CTRL_ZNS, ID_NS, ID_NS_ZNS, IDENTIFY_SIZE, LPA_CSE, NVME_VERSION, ONCS, SQE_SIZE, DLFEAT_READ_ZEROES,
} from './spec.js';
import { NVME_DEFAULTS, NVME_LIMITS } from './defaults.js';
import { dataView, putAscii, putLe64 } from '../../src/core/util/bytes.js';

/** LBA formats every namespace lists: 0 = 512 bytes, 1 = 4096 bytes, no metadata. */
export const LBA_FORMATS = [512, 4096] as const;

export function identifyController(c: NvmeController): Uint8Array {
  const b = new Uint8Array(IDENTIFY_SIZE);
  const v = dataView(b);
  putAscii(b, ID_CTRL.SN, ID_CTRL.SN_LEN, c.serial);
  putAscii(b, ID_CTRL.MN, ID_CTRL.MN_LEN, NVME_DEFAULTS.model);
  putAscii(b, ID_CTRL.FR, ID_CTRL.FR_LEN, NVME_DEFAULTS.firmware);
  v.setUint8(ID_CTRL.RAB, 6);
  // CMIC bit 1: the subsystem may hold more than one controller; bit 3: ANA not reported.
  v.setUint8(ID_CTRL.CMIC, 1 << 1);
  v.setUint8(ID_CTRL.MDTS, c.mdts);
  v.setUint16(ID_CTRL.CNTLID, c.cntlid, true);
  v.setUint32(ID_CTRL.VER, NVME_VERSION, true);
  v.setUint8(ID_CTRL.CNTRLTYPE, 1); // I/O controller
  v.setUint8(ID_CTRL.ELPE, NVME_DEFAULTS.error_log_entries - 1);
  v.setUint8(ID_CTRL.LPA, LPA_CSE);
  // SQES/CQES: required and maximum entry sizes as powers of two (64 and 16 bytes).
  v.setUint8(ID_CTRL.SQES, (Math.log2(SQE_SIZE) << 4) | Math.log2(SQE_SIZE));
  v.setUint8(ID_CTRL.CQES, (Math.log2(CQE_SIZE) << 4) | Math.log2(CQE_SIZE));
  v.setUint16(ID_CTRL.MAXCMD, NVME_LIMITS.maxQueueDepth, true);
  v.setUint32(ID_CTRL.NN, NVME_LIMITS.maxNamespaces, true);
  // Copy single atomicity is not claimed: a failed Copy leaves its earlier ranges copied.
  const oncs = ONCS.DSM | ONCS.WRITE_ZEROES | ONCS.COPY | (c.fastCopy === 'all' ? ONCS.ALL_FAST_COPY : 0);
  v.setUint16(ID_CTRL.ONCS, oncs, true);
  v.setUint16(ID_CTRL.OCFS, c.ocfs, true);
  v.setUint32(ID_CTRL.MNAN, NVME_LIMITS.maxNamespaces, true);
  const nqn = new TextEncoder().encode(c.subsystem.nqn).subarray(0, ID_CTRL.SUBNQN_LEN - 1);
  b.set(nqn, ID_CTRL.SUBNQN);
  return b;
}

export function identifyNamespace(ns: NvmeNamespace): Uint8Array {
  const b = new Uint8Array(IDENTIFY_SIZE);
  const v = dataView(b);
  putLe64(b, ID_NS.NSZE, ns.nsze);
  putLe64(b, ID_NS.NCAP, ns.nsze);
  putLe64(b, ID_NS.NUSE, ns.nsze);
  v.setUint8(ID_NS.NLBAF, LBA_FORMATS.length - 1);
  v.setUint8(ID_NS.FLBAS, LBA_FORMATS.indexOf(ns.lbs as 512 | 4096));
  v.setUint8(ID_NS.NMIC, 1); // shared namespace: attached to every controller of the subsystem
  v.setUint8(ID_NS.DLFEAT, DLFEAT_READ_ZEROES);
  v.setUint16(ID_NS.MSSRL, ns.mssrl, true);
  v.setUint32(ID_NS.MCL, ns.mcl, true);
  v.setUint8(ID_NS.MSRC, ns.msrc);
  // NGUID: unique per subsystem and NSID (not a registered identifier).
  const id = new TextEncoder().encode(`${ns.nsid}`);
  b.set(id.subarray(0, 16), ID_NS.NGUID);
  LBA_FORMATS.forEach((lbs, i) => v.setUint32(ID_NS.LBAF0 + 4 * i, Math.log2(lbs) << 16, true));
  return b;
}

/** NVM command set specific Identify Namespace (NVM Figure 114): ELBAF n at 12 + 4n, PIF in bits 8:7. */
export function identifyNamespaceNvm(ns: NvmeNamespace): Uint8Array {
  const b = new Uint8Array(IDENTIFY_SIZE);
  const v = dataView(b);
  LBA_FORMATS.forEach((_, i) => v.setUint32(12 + 4 * i, ns.pif << 7, true));
  return b;
}

export function identifyNamespaceZns(ns: NvmeNamespace): Uint8Array {
  const b = new Uint8Array(IDENTIFY_SIZE);
  const v = dataView(b);
  const z = ns.zones!.cfg;
  v.setUint32(ID_NS_ZNS.MAR, z.maxActive ? z.maxActive - 1 : 0xffffffff, true);
  v.setUint32(ID_NS_ZNS.MOR, z.maxOpen ? z.maxOpen - 1 : 0xffffffff, true);
  LBA_FORMATS.forEach((lbs, i) => putLe64(b, ID_NS_ZNS.LBAFE0 + ID_NS_ZNS.LBAFE_SIZE * i, Math.floor((z.zsze * ns.lbs) / lbs)));
  return b;
}

export function identifyControllerZns(c: NvmeController): Uint8Array {
  const b = new Uint8Array(IDENTIFY_SIZE);
  dataView(b).setUint8(ID_CTRL_ZNS.ZASL, c.zasl);
  return b;
}

/** Active Namespace ID list (CNS 02h): NSIDs greater than `after`, ascending, at most 1024. */
export function activeNsList(c: NvmeController, after: number): Uint8Array {
  const b = new Uint8Array(IDENTIFY_SIZE);
  const v = dataView(b);
  const ids = [...c.subsystem.namespaces.keys()].filter((n) => n > after).sort((a, z) => a - z).slice(0, IDENTIFY_SIZE / 4);
  ids.forEach((n, i) => v.setUint32(i * 4, n, true));
  return b;
}
