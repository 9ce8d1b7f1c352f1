/** PERSISTENT RESERVE IN / OUT (SPC-4 6.15, 6.16; semantics 5.13). READ FULL STATUS is 6.15.5. */
import { ASC, PrInSa, PrOutSa, PrType, RELATIVE_TARGET_PORT, TransportId } from './constants.js';
import { be16, be32, concatBytes, dataView, putBe16, putBe32 } from '../../src/core/util/bytes.js';
import { illegal, invalidFieldInCdb, invalidFieldInParam, paramListLengthError, reservationConflict } from './sense.js';
import { luOf, type CmdContext } from './context.js';
import { PR_MAX_REGISTRATIONS, VALID_PR_TYPES, type PersistentReservations } from './pr.js';

/** PR OUT parameter list length for every service action but REGISTER AND MOVE (SPC-4 6.16.3). */
const PR_OUT_PARAM_LENGTH = 24;
const INVALID_RELEASE = { asc: 0x26, ascq: 0x04, name: 'INVALID RELEASE OF PERSISTENT RESERVATION' };

export function persistentReserveIn(c: CmdContext): Uint8Array {
  const pr = luOf(c).pr;
  const sa = c.cdb[1]! & 0x1f;
  const alloc = be16(c.cdb, 7);
  let d: Uint8Array;
  switch (sa) {
    case PrInSa.READ_KEYS: {
      const keys = [...pr.keys.values()];
      d = new Uint8Array(8 + 8 * keys.length);
      putBe32(d, 0, pr.generation);
      putBe32(d, 4, 8 * keys.length);
      keys.forEach((k, i) => dataView(d).setBigUint64(8 + 8 * i, k));
      break;
    }
    case PrInSa.READ_RESERVATION: {
      d = new Uint8Array(pr.reserved ? 24 : 8);
      putBe32(d, 0, pr.generation);
      if (pr.reserved) {
        putBe32(d, 4, 16);
        const holderKey = pr.allRegistrants() ? 0n : (pr.keys.get(pr.holder ?? '') ?? 0n);
        dataView(d).setBigUint64(8, holderKey);
        d[21] = pr.type; // SCOPE 0 (LU_SCOPE), TYPE
      }
      break;
    }
    case PrInSa.REPORT_CAPABILITIES: {
      d = new Uint8Array(8);
      putBe16(d, 0, 8);
      d[3] = 0x80; // TMV: the type mask is valid
      d[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02; // WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX
      d[5] = 0x01; // EX_AC_AR
      break;
    }
    case PrInSa.READ_FULL_STATUS:
      d = readFullStatus(pr);
      break;
    default:
      throw invalidFieldInCdb(1, 4);
  }
  return d.subarray(0, Math.min(d.length, alloc));
}

/** Full status descriptor (SPC-4 6.15.5): the TransportID starts at byte 24. */
const FULL_STATUS = { OFF_FLAGS: 12, R_HOLDER: 0x01, OFF_SCOPE_TYPE: 13, OFF_RELATIVE_PORT: 18, OFF_DESCRIPTOR_LENGTH: 20, HEADER: 24 } as const;

/**
 * READ FULL STATUS (SPC-4 6.15.5): every registration with its key, whether it holds the
 * reservation (and then the reservation's scope and type), the target port it came through and
 * the initiator's TransportID. Registrations are made through the one target port (ALL_TG_PT 0).
 */
function readFullStatus(pr: PersistentReservations): Uint8Array {
  const descriptors = [...pr.keys].map(([initiator, key]) => {
    const id = transportId(initiator);
    const d = new Uint8Array(FULL_STATUS.HEADER + id.length);
    dataView(d).setBigUint64(0, key);
    if (pr.isHolder(initiator)) {
      d[FULL_STATUS.OFF_FLAGS] = FULL_STATUS.R_HOLDER;
      d[FULL_STATUS.OFF_SCOPE_TYPE] = pr.type; // SCOPE 0 (LU_SCOPE), TYPE
    }
    putBe16(d, FULL_STATUS.OFF_RELATIVE_PORT, RELATIVE_TARGET_PORT);
    putBe32(d, FULL_STATUS.OFF_DESCRIPTOR_LENGTH, id.length);
    d.set(id, FULL_STATUS.HEADER);
    return d;
  });
  const body = concatBytes(descriptors);
  const d = new Uint8Array(8 + body.length);
  putBe32(d, 0, pr.generation);
  putBe32(d, 4, body.length);
  d.set(body, 8);
  return d;
}

/** An iSCSI TransportID, format 00b (SPC-4 7.6.4.6): the name, null-terminated, padded to 4 bytes. */
export function transportId(iscsiName: string): Uint8Array {
  const name = new TextEncoder().encode(iscsiName);
  const nameField = Math.max(TransportId.MIN_LENGTH - TransportId.HEADER, Math.ceil((name.length + 1) / 4) * 4);
  const t = new Uint8Array(TransportId.HEADER + nameField);
  t[0] = TransportId.FORMAT_ISCSI_NAME | TransportId.PROTOCOL_ISCSI;
  putBe16(t, 2, nameField);
  t.set(name, TransportId.HEADER);
  return t;
}

export function persistentReserveOut(c: CmdContext): void {
  const pr = luOf(c).pr;
  const sa = c.cdb[1]! & 0x1f;
  const scope = c.cdb[2]! >> 4;
  const type = c.cdb[2]! & 0x0f;
  const len = be32(c.cdb, 5);
  if (sa > PrOutSa.REGISTER_AND_IGNORE_EXISTING_KEY) throw invalidFieldInCdb(1, 4);
  if (len !== PR_OUT_PARAM_LENGTH) throw paramListLengthError();
  if (c.dataOut.length < len) throw paramListLengthError();
  const p = c.dataOut;
  const key = dataView(p).getBigUint64(0);
  const saKey = dataView(p).getBigUint64(8);
  if (p[20]! & 0x08) throw invalidFieldInParam(20, 3); // SPEC_I_PT: not supported (SIP_C 0)
  if (p[20]! & 0x04) throw invalidFieldInParam(20, 2); // ALL_TG_PT: one target port only
  if (p[20]! & 0x01) throw invalidFieldInParam(20, 0); // APTPL: no persistence through power loss (PTPL_C 0)
  const me = c.initiator;
  const mine = pr.keys.get(me);
  const needsType = sa === PrOutSa.RESERVE || sa === PrOutSa.RELEASE || ((sa === PrOutSa.PREEMPT || sa === PrOutSa.PREEMPT_AND_ABORT) && pr.reserved);
  if (needsType) {
    if (scope !== 0) throw invalidFieldInCdb(2, 4);
    if (!VALID_PR_TYPES.includes(type)) throw invalidFieldInCdb(2, 0);
  }
  switch (sa) {
    case PrOutSa.REGISTER:
    case PrOutSa.REGISTER_AND_IGNORE_EXISTING_KEY: {
      if (sa === PrOutSa.REGISTER && (mine ?? 0n) !== key) throw reservationConflict();
      if (saKey === 0n) {
        if (mine !== undefined) {
          pr.keys.delete(me);
          // An all-registrants reservation lasts while any registrant is left (SPC-4 5.13.10:
          // every registrant is a holder); other types end with their holder's registration.
          if (pr.reserved && (pr.allRegistrants() ? pr.keys.size === 0 : pr.holder === me)) pr.release();
        }
      } else {
        if (mine === undefined && pr.keys.size >= PR_MAX_REGISTRATIONS) throw illegal(ASC.INSUFFICIENT_RESOURCES);
        pr.keys.set(me, saKey);
      }
      pr.generation++;
      return;
    }
    case PrOutSa.RESERVE:
      if (mine === undefined || mine !== key) throw reservationConflict();
      if (!pr.reserved) {
        pr.holder = me;
        pr.type = type;
        return;
      }
      if (pr.isHolder(me) && pr.type === type) return;
      throw reservationConflict();
    case PrOutSa.RELEASE:
      if (mine === undefined || mine !== key) throw reservationConflict();
      if (!pr.reserved || !pr.isHolder(me)) return;
      if (pr.type !== type) throw illegal(INVALID_RELEASE);
      pr.release();
      return;
    case PrOutSa.CLEAR:
      if (mine === undefined || mine !== key) throw reservationConflict();
      pr.keys.clear();
      pr.release();
      pr.generation++;
      return;
    case PrOutSa.PREEMPT:
    case PrOutSa.PREEMPT_AND_ABORT: {
      if (mine === undefined || mine !== key) throw reservationConflict();
      if (pr.reserved && pr.allRegistrants()) {
        // SPC-4 5.13.11.2.3: with an all-registrants reservation, SA key 0 preempts every other registrant.
        for (const [who, k] of [...pr.keys]) if (who !== me && (saKey === 0n || k === saKey)) pr.keys.delete(who);
        if (saKey === 0n) {
          pr.holder = me;
          pr.type = type;
        }
        pr.generation++;
        return;
      }
      if (saKey === 0n) throw invalidFieldInParam(8);
      const holderKey = pr.reserved && pr.holder ? pr.keys.get(pr.holder) : undefined;
      let removed = 0;
      for (const [who, k] of [...pr.keys]) {
        if (k === saKey && who !== me) {
          pr.keys.delete(who);
          removed++;
        }
      }
      if (holderKey !== undefined && holderKey === saKey) {
        pr.holder = me;
        pr.type = type;
      } else if (removed === 0) {
        throw reservationConflict();
      }
      pr.generation++;
      return;
    }
  }
}

export { PrType };
