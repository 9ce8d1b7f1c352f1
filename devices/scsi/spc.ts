/**
 * SPC-4 commands every LU answers: TEST UNIT READY, REQUEST SENSE, INQUIRY (standard data and
 * the VPD pages), MODE SENSE (6)/(10) and REPORT LUNS. Parse the CDB, then build the data.
 */
import {
  ASC, Desig, INQUIRY_PRODUCT, INQUIRY_REVISION, INQUIRY_VENDOR, ModePage, PDT_DIRECT_ACCESS, PQ_NOT_CONNECTED,
  RELATIVE_TARGET_PORT, SenseKey, VersionDescriptor, Vpd,
} from './constants.js';
import { be16, be32, concatBytes, putAscii, putBe16, putBe32, putBe64 } from '../../src/core/util/bytes.js';
import { buildSense, illegal, invalidFieldInCdb } from './sense.js';
import { luOf, type CmdContext } from './context.js';
import type { LogicalUnit } from './lu.js';
import { BLOCK_LIMITS } from './sbc.js';
import { tpcVpdPage } from './tpc-vpd.js';

export function testUnitReady(): void {
  return;
}

/** REQUEST SENSE (SPC-4 6.39): autosense is used, so nothing is pending: NO SENSE, fixed format. */
export function requestSense(c: CmdContext): Uint8Array {
  if (c.cdb[1]! & 0x01) throw invalidFieldInCdb(1, 0); // DESC: descriptor format is not supported
  // A pending unit attention is the sense data REQUEST SENSE returns, and is cleared (SAM-5 5.14).
  const ua = c.lu?.unitAttentions.get(c.initiator);
  if (ua) c.lu!.unitAttentions.delete(c.initiator);
  const s = ua ? buildSense(SenseKey.UNIT_ATTENTION, ua) : buildSense(SenseKey.NO_SENSE, ASC.NO_ADDITIONAL_SENSE);
  return s.subarray(0, Math.min(s.length, c.cdb[4]!));
}

/** INQUIRY (SPC-4 6.6). */
export function inquiry(c: CmdContext): Uint8Array {
  const evpd = c.cdb[1]! & 0x01;
  if (c.cdb[1]! & 0x02) throw invalidFieldInCdb(1, 1); // CMDDT (obsolete)
  const page = c.cdb[2]!;
  const alloc = be16(c.cdb, 3);
  if (!evpd && page !== 0) throw invalidFieldInCdb(2);
  let data: Uint8Array;
  if (!evpd) data = standardInquiry(c.lu, c.array.copyManagerEnabled);
  else {
    if (!c.lu) throw illegal(ASC.LOGICAL_UNIT_NOT_SUPPORTED);
    data = vpdPage(c, c.lu, page);
  }
  return data.subarray(0, Math.min(data.length, alloc));
}

/** Standard INQUIRY data (SPC-4 6.6.2 table 176), 74 bytes with version descriptors. */
function standardInquiry(lu: LogicalUnit | null, threePc: boolean): Uint8Array {
  const d = new Uint8Array(74);
  d[0] = lu ? PDT_DIRECT_ACCESS : PQ_NOT_CONNECTED;
  d[2] = 0x06; // VERSION: SPC-4
  d[3] = 0x10 | 0x02; // HISUP, RESPONSE DATA FORMAT 2
  d[4] = d.length - 5;
  d[5] = threePc ? 0x08 : 0; // 3PC: third-party copy supported (SPC-4 6.6.2)
  d[7] = 0x02; // CMDQUE
  putAscii(d, 8, 8, INQUIRY_VENDOR);
  putAscii(d, 16, 16, INQUIRY_PRODUCT);
  putAscii(d, 32, 4, INQUIRY_REVISION);
  putBe16(d, 58, VersionDescriptor.SAM5);
  putBe16(d, 60, VersionDescriptor.SPC4);
  putBe16(d, 62, VersionDescriptor.SBC3);
  return d;
}

const SUPPORTED_VPD = [
  Vpd.SUPPORTED_PAGES, Vpd.UNIT_SERIAL_NUMBER, Vpd.DEVICE_IDENTIFICATION, Vpd.THIRD_PARTY_COPY,
  Vpd.BLOCK_LIMITS, Vpd.BLOCK_DEVICE_CHARACTERISTICS, Vpd.LOGICAL_BLOCK_PROVISIONING,
];

function vpdPage(c: CmdContext, lu: LogicalUnit, page: number): Uint8Array {
  switch (page) {
    case Vpd.SUPPORTED_PAGES: {
      const pages = c.array.copyManagerEnabled ? SUPPORTED_VPD : SUPPORTED_VPD.filter((p) => p !== Vpd.THIRD_PARTY_COPY);
      return vpd(page, Uint8Array.from(pages));
    }
    case Vpd.UNIT_SERIAL_NUMBER: {
      const b = new Uint8Array(lu.serial.length);
      putAscii(b, 0, lu.serial.length, lu.serial);
      return vpd(page, b);
    }
    case Vpd.DEVICE_IDENTIFICATION:
      return vpd(page, deviceIdentification(lu));
    case Vpd.THIRD_PARTY_COPY:
      if (!c.array.copyManagerEnabled) throw invalidFieldInCdb(2);
      return vpd(page, tpcVpdPage(lu));
    case Vpd.BLOCK_LIMITS:
      return vpd(page, blockLimits(lu));
    case Vpd.BLOCK_DEVICE_CHARACTERISTICS: {
      const b = new Uint8Array(0x3c);
      putBe16(b, 0, 0x0001); // MEDIUM ROTATION RATE: non-rotating (SBC-3 6.5.2)
      return vpd(page, b);
    }
    case Vpd.LOGICAL_BLOCK_PROVISIONING: {
      const b = new Uint8Array(4);
      b[1] = 0x80 | 0x40 | 0x20 | 0x04; // LBPU, LBPWS, LBPWS10, LBPRZ (SBC-3 6.5.4)
      b[2] = 0x02; // PROVISIONING TYPE: thin
      return vpd(page, b);
    }
    default:
      throw invalidFieldInCdb(2);
  }
}

/** A VPD page: peripheral byte, page code, page length, body (SPC-4 7.8.1). */
function vpd(page: number, body: Uint8Array): Uint8Array {
  const d = new Uint8Array(4 + body.length);
  d[0] = PDT_DIRECT_ACCESS;
  d[1] = page;
  putBe16(d, 2, body.length);
  d.set(body, 4);
  return d;
}

/** One designation descriptor (SPC-4 7.8.6.1 table 460). */
export function designator(codeSet: number, assoc: number, type: number, value: Uint8Array): Uint8Array {
  const d = new Uint8Array(4 + value.length);
  d[0] = codeSet;
  d[1] = (assoc << 4) | type;
  d[3] = value.length;
  d.set(value, 4);
  return d;
}

/** VPD 83h body: NAA 6 (what EXTENDED COPY's E4 descriptors name), T10 vendor id, relative target port. */
export function deviceIdentification(lu: LogicalUnit): Uint8Array {
  const t10 = new Uint8Array(8 + lu.serial.length);
  putAscii(t10, 0, 8, INQUIRY_VENDOR);
  putAscii(t10, 8, lu.serial.length, lu.serial);
  const port = new Uint8Array(4);
  putBe32(port, 0, RELATIVE_TARGET_PORT);
  const parts = [
    designator(Desig.CODE_SET_BINARY, Desig.ASSOC_LU, Desig.TYPE_NAA, lu.naa),
    designator(Desig.CODE_SET_ASCII, Desig.ASSOC_LU, Desig.TYPE_T10_VENDOR_ID, t10),
    designator(Desig.CODE_SET_BINARY, Desig.ASSOC_TARGET_PORT, Desig.TYPE_RELATIVE_TARGET_PORT, port),
  ];
  return concatBytes(parts);
}

/** VPD B0h body (SBC-3 6.5.3 table 183; page length 3Ch). */
function blockLimits(lu: LogicalUnit): Uint8Array {
  const b = new Uint8Array(0x3c);
  // WSNZ 0: WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 writes through the last LBA (SBC-4 6.6.4).
  b[1] = BLOCK_LIMITS.maxCompareAndWriteBlocks;
  putBe16(b, 2, 1); // OPTIMAL TRANSFER LENGTH GRANULARITY
  putBe32(b, 4, BLOCK_LIMITS.maxTransferBytes / lu.lbs);
  putBe32(b, 8, BLOCK_LIMITS.optimalTransferBytes / lu.lbs);
  putBe32(b, 16, BLOCK_LIMITS.maxUnmapBlocks);
  putBe32(b, 20, BLOCK_LIMITS.maxUnmapDescriptors);
  putBe32(b, 24, 1); // OPTIMAL UNMAP GRANULARITY
  putBe64(b, 32, BLOCK_LIMITS.maxWriteSameBlocks);
  return b;
}

/** MODE SENSE (6) and (10) (SPC-4 6.11, 6.12). */
export function modeSense(c: CmdContext, ten: boolean): Uint8Array {
  const lu = luOf(c);
  const cdb = c.cdb;
  const dbd = (cdb[1]! & 0x08) !== 0;
  const llbaa = ten && (cdb[1]! & 0x10) !== 0;
  const pc = cdb[2]! >> 6;
  const page = cdb[2]! & 0x3f;
  const subpage = cdb[3]!;
  const alloc = ten ? be16(cdb, 7) : cdb[4]!;
  if (pc === 3) throw illegal(ASC.SAVING_PARAMETERS_NOT_SUPPORTED);
  if (subpage !== 0 && subpage !== 0xff) throw invalidFieldInCdb(3);
  const pages: Uint8Array[] = [];
  const want = (p: number): boolean => page === ModePage.ALL || page === p;
  const changeable = pc === 1;
  if (want(ModePage.READ_WRITE_ERROR_RECOVERY)) pages.push(modePage(ModePage.READ_WRITE_ERROR_RECOVERY, 0x0a, changeable ? [] : [[0, 0x80]])); // AWRE
  if (want(ModePage.CACHING)) pages.push(modePage(ModePage.CACHING, 0x12, changeable ? [] : [[0, 0x04]])); // WCE: writes are acknowledged from "cache", SYNCHRONIZE CACHE is honoured
  if (want(ModePage.CONTROL)) pages.push(modePage(ModePage.CONTROL, 0x0a, changeable ? [] : [[1, 0x10], [6, 0xff], [7, 0xff]])); // QERR 0, QAM 1; BUSY TIMEOUT PERIOD unlimited
  if (want(ModePage.INFORMATIONAL_EXCEPTIONS)) pages.push(modePage(ModePage.INFORMATIONAL_EXCEPTIONS, 0x0a, []));
  if (pages.length === 0) throw invalidFieldInCdb(2);
  const blockDesc = dbd ? new Uint8Array(0) : blockDescriptor(lu, llbaa);
  const headerLen = ten ? 8 : 4;
  const body = pages.reduce((n, p) => n + p.length, 0);
  const d = new Uint8Array(headerLen + blockDesc.length + body);
  if (ten) {
    putBe16(d, 0, d.length - 2);
    d[3] = 0x10; // DPOFUA
    if (llbaa && !dbd) d[4] = 0x01; // LONGLBA
    putBe16(d, 6, blockDesc.length);
  } else {
    d[0] = Math.min(d.length - 1, 0xff);
    d[2] = 0x10;
    d[3] = blockDesc.length;
  }
  d.set(blockDesc, headerLen);
  let at = headerLen + blockDesc.length;
  for (const p of pages) {
    d.set(p, at);
    at += p.length;
  }
  return d.subarray(0, Math.min(d.length, alloc));
}

function modePage(code: number, length: number, bytes: readonly (readonly [number, number])[]): Uint8Array {
  const p = new Uint8Array(2 + length);
  p[0] = code;
  p[1] = length;
  for (const [off, v] of bytes) p[2 + off] = v;
  return p;
}

/** Short (8-byte) or long (16-byte) LBA block descriptor (SPC-4 7.5.5, SBC-3 6.4.2). */
function blockDescriptor(lu: LogicalUnit, long: boolean): Uint8Array {
  if (long) {
    const b = new Uint8Array(16);
    putBe64(b, 0, lu.blocks);
    putBe32(b, 12, lu.lbs);
    return b;
  }
  const b = new Uint8Array(8);
  putBe32(b, 0, Math.min(lu.blocks, 0xffffffff));
  b[5] = (lu.lbs >>> 16) & 0xff;
  b[6] = (lu.lbs >>> 8) & 0xff;
  b[7] = lu.lbs & 0xff;
  return b;
}

/** REPORT LUNS (SPC-4 6.33): the LUNs this initiator may see, single-level LUN format (SAM-5 4.7). */
export function reportLuns(c: CmdContext): Uint8Array {
  const select = c.cdb[2]!;
  const alloc = be32(c.cdb, 6);
  if (select > 0x02) throw invalidFieldInCdb(2);
  if (alloc < 16) throw invalidFieldInCdb(6);
  const luns = c.array.visibleLuns(c.initiator, c.exported);
  const d = new Uint8Array(8 + 8 * luns.length);
  putBe32(d, 0, 8 * luns.length);
  luns.forEach((lun, i) => {
    const o = 8 + 8 * i;
    if (lun < 256) d[o + 1] = lun;
    else {
      d[o] = 0x40 | ((lun >> 8) & 0x3f); // flat space addressing
      d[o + 1] = lun & 0xff;
    }
  });
  return d.subarray(0, Math.min(d.length, alloc));
}
