/** PERSISTENT RESERVE IN READ FULL STATUS (SPC-4 6.15.5), byte by byte (libiscsi PrinServiceactionRange.Range). */
import { describe, expect, it } from 'vitest';
import { twoArrays, ok, sense } from './helpers.js';

const I1 = 'iqn.2024-01.lab:one';
const I2 = 'iqn.2024-01.lab:a-longer-initiator-name';

const prOut = (a: ReturnType<typeof twoArrays>['a0'], who: string, sa: number, type: number, key: bigint, saKey: bigint) => {
  const p = new Uint8Array(24);
  new DataView(p.buffer).setBigUint64(0, key);
  new DataView(p.buffer).setBigUint64(8, saKey);
  return a.execute(who, 0, new Uint8Array([0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0]), p);
};
const prIn = (sa: number, alloc: number) => new Uint8Array([0x5e, sa, 0, 0, 0, 0, 0, alloc >> 8, alloc & 0xff, 0]);

/** Splits READ FULL STATUS data into descriptors, reading every length field the way an initiator would. */
function parse(d: Uint8Array) {
  const v = new DataView(d.buffer, d.byteOffset, d.length);
  const out: { key: bigint; rHolder: boolean; allTgPt: boolean; scopeType: number; port: number; name: string; idLength: number; idByte0: number }[] = [];
  const end = 8 + v.getUint32(4);
  for (let o = 8; o < end; ) {
    const len = v.getUint32(o + 20);
    const id = d.subarray(o + 24, o + 24 + len);
    const nameLen = new DataView(id.buffer, id.byteOffset).getUint16(2);
    const name = Buffer.from(id.subarray(4, 4 + nameLen)).toString('utf8').replace(/\0+$/, '');
    out.push({ key: v.getBigUint64(o), rHolder: (d[o + 12]! & 1) === 1, allTgPt: (d[o + 12]! & 2) === 2, scopeType: d[o + 13]!, port: v.getUint16(o + 18), name, idLength: len, idByte0: id[0]! });
    o += 24 + len;
  }
  return { generation: v.getUint32(0), descriptors: out };
}

describe('PERSISTENT RESERVE IN: READ FULL STATUS', () => {
  it('one descriptor per registration: key, R_HOLDER with scope and type, relative target port 1, the iSCSI TransportID', () => {
    const { a0 } = twoArrays();
    expect(parse(ok(a0.execute(I1, 0, prIn(3, 4096), undefined, 4096)).dataIn).descriptors).toEqual([]);
    ok(prOut(a0, I1, 0x06, 0, 0n, 0x11n));
    ok(prOut(a0, I2, 0x06, 0, 0n, 0x22n));
    ok(prOut(a0, I1, 0x01, 1, 0x11n, 0n)); // WRITE EXCLUSIVE
    const full = parse(ok(a0.execute(I2, 0, prIn(3, 4096), undefined, 4096)).dataIn);
    expect(full.generation).toBe(2);
    expect(full.descriptors).toEqual([
      { key: 0x11n, rHolder: true, allTgPt: false, scopeType: 0x01, port: 1, name: I1, idLength: 24, idByte0: 0x05 },
      { key: 0x22n, rHolder: false, allTgPt: false, scopeType: 0, port: 1, name: I2, idLength: 4 + 40, idByte0: 0x05 },
    ]);
    for (const d of full.descriptors) expect(d.idLength % 4).toBe(0);
  });

  it('every registrant holds an all-registrants reservation; the ADDITIONAL LENGTH stays whole when the allocation length cuts the data', () => {
    const { a0 } = twoArrays();
    ok(prOut(a0, I1, 0x06, 0, 0n, 0x11n));
    ok(prOut(a0, I2, 0x06, 0, 0n, 0x22n));
    ok(prOut(a0, I1, 0x01, 8, 0x11n, 0n)); // EXCLUSIVE ACCESS, ALL REGISTRANTS
    const full = ok(a0.execute(I1, 0, prIn(3, 4096), undefined, 4096)).dataIn;
    expect(parse(full).descriptors.map((d) => [d.rHolder, d.scopeType])).toEqual([[true, 8], [true, 8]]);
    const cut = ok(a0.execute(I1, 0, prIn(3, 16), undefined, 16)).dataIn;
    expect(cut).toEqual(full.subarray(0, 16));
    expect(sense(a0.execute(I1, 0, prIn(4, 4096), undefined, 4096)).asc).toBe(0x24); // SA 4: INVALID FIELD IN CDB
  });
});
