/** Persistent reservations of the all-registrants types (libiscsi ProutReserve.OwnershipEAAR/WEAR). */
import { describe, expect, it } from 'vitest';
import { twoArrays, ok } from './helpers.js';

const I1 = 'iqn.2024-01.lab:one';
const I2 = 'iqn.2024-01.lab:two';

describe('PERSISTENT RESERVE: all-registrants reservations', () => {
  it('outlive the registration of the initiator that reserved, and end with the last registrant', () => {
    const { a0 } = twoArrays();
    const prOut = (who: string, sa: number, type: number, key: bigint, saKey: bigint) => {
      const p = new Uint8Array(24);
      new DataView(p.buffer).setBigUint64(0, key);
      new DataView(p.buffer).setBigUint64(8, saKey);
      return a0.execute(who, 0, new Uint8Array([0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0]), p);
    };
    const readReservation = () => ok(a0.execute(I1, 0, new Uint8Array([0x5e, 0x01, 0, 0, 0, 0, 0, 0x01, 0, 0]), undefined, 256)).dataIn;
    for (const type of [7, 8]) {
      ok(prOut(I1, 0x06, 0, 0n, 0x11n)); // REGISTER AND IGNORE EXISTING KEY
      ok(prOut(I2, 0x06, 0, 0n, 0x22n));
      ok(prOut(I1, 0x01, type, 0x11n, 0n)); // RESERVE
      ok(prOut(I1, 0x00, 0, 0x11n, 0n)); // unregister the initiator that reserved
      const rr = readReservation();
      expect(new DataView(rr.buffer, rr.byteOffset).getUint32(4)).toBe(16); // a reservation descriptor is there
      expect(rr[8 + 13]! & 0x0f).toBe(type);
      ok(prOut(I2, 0x00, 0, 0x22n, 0n)); // the last registrant goes: so does the reservation
      expect(new DataView(readReservation().buffer).getUint32(4)).toBe(0);
    }
  });
});
