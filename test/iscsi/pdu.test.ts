/**
 * PDU framing (RFC 7143 11.2) byte by byte, no sockets: BHS fields, AHS, padding to 4 bytes,
 * CRC32C header and data digests (vectors from RFC 3720 B.4), and the reader's answers to a bad
 * digest, an oversize segment and an oversize AHS.
 */
import { describe, expect, it } from 'vitest';
import { BHS_LENGTH, DIGEST_LENGTH, Off, Op, FLAG_FINAL, BHS_IMMEDIATE } from '../../src/app/iscsi/constants.js';
import { PduReader, encodePdu, newBhs, opcodeOf, dataSegmentLength, setDataSegmentLength, pad4, snLess, snAdd, type PduEvent } from '../../src/app/iscsi/pdu.js';
import { be16, be32, putBe16, putBe32 } from '../../src/core/util/bytes.js';
import { crc32c, digestBytes } from '../../src/app/iscsi/crc32c.js';

const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const h = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** The SCSI READ(10) command PDU of RFC 3720 B.4, whose header digest is 56 3a 96 d9 on the wire. */
const RFC3720_READ10 = h(`01c00000 00000000 00000000 00000000 14000000 00000400 00000014 00000018
                          28000000 00000000 02000000 00000000`);

function pdus(events: PduEvent[]): { bhs: Uint8Array; ahs: Uint8Array; data: Uint8Array }[] {
  return events.map((e) => {
    if (e.kind !== 'pdu') throw new Error(`expected a PDU, got ${e.kind}`);
    return e.pdu;
  });
}

describe('CRC32C (RFC 3720 B.4 vectors)', () => {
  it('digests the RFC test patterns to the published wire bytes', () => {
    expect(digestBytes(new Uint8Array(32))).toEqualBytes(h('aa36918a'));
    expect(digestBytes(new Uint8Array(32).fill(0xff))).toEqualBytes(h('43aba862'));
    expect(digestBytes(Uint8Array.from({ length: 32 }, (_, i) => i))).toEqualBytes(h('4e79dd46'));
    expect(digestBytes(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toEqualBytes(h('5cdb3f11'));
    expect(digestBytes(RFC3720_READ10)).toEqualBytes(h('563a96d9'));
  });

  it('is the same over parts as over their concatenation', () => {
    const a = Uint8Array.from({ length: 37 }, (_, i) => i * 7);
    const b = Uint8Array.from({ length: 11 }, (_, i) => 255 - i);
    expect(crc32c(a, b)).toBe(crc32c(concat([a, b])));
  });
});

describe('BHS fields', () => {
  it('reads opcode (without the immediate bit), the 24-bit data segment length and big-endian words', () => {
    const bhs = newBhs(Op.SCSI_COMMAND | BHS_IMMEDIATE, FLAG_FINAL);
    expect(bhs.length).toBe(BHS_LENGTH);
    expect(opcodeOf(bhs)).toBe(Op.SCSI_COMMAND);
    setDataSegmentLength(bhs, 0x123456);
    expect(bhs.subarray(Off.DATA_SEGMENT_LENGTH, Off.DATA_SEGMENT_LENGTH + 3)).toEqualBytes(h('123456'));
    expect(dataSegmentLength(bhs)).toBe(0x123456);
    putBe32(bhs, Off.ITT, 0xdeadbeef);
    expect(bhs.subarray(16, 20)).toEqualBytes(h('deadbeef'));
    expect(be32(bhs, Off.ITT)).toBe(0xdeadbeef);
    putBe16(bhs, 2, 0xabcd);
    expect(be16(bhs, 2)).toBe(0xabcd);
    // The RFC's READ(10) PDU: ITT 0x14000000, expected length 1024, CmdSN 0x14, CDB opcode 0x28.
    expect(opcodeOf(RFC3720_READ10)).toBe(Op.SCSI_COMMAND);
    expect(be32(RFC3720_READ10, Off.ITT)).toBe(0x14000000);
    expect(be32(RFC3720_READ10, 20)).toBe(1024);
    expect(be32(RFC3720_READ10, Off.CMDSN)).toBe(0x14);
    expect(RFC3720_READ10[32]).toBe(0x28);
  });

  it('pads to 4 bytes and compares sequence numbers modulo 2^32 (RFC 1982)', () => {
    expect([0, 1, 2, 3, 4, 5, 8].map(pad4)).toEqual([0, 4, 4, 4, 4, 8, 8]);
    expect(snLess(1, 2)).toBe(true);
    expect(snLess(2, 1)).toBe(false);
    expect(snLess(0xffffffff, 0)).toBe(true);
    expect(snLess(0, 0x7fffffff)).toBe(true);
    expect(snLess(5, 5)).toBe(false);
    expect(snAdd(0xffffffff, 2)).toBe(1);
  });
});

describe('encodePdu and PduReader', () => {
  const data5 = Uint8Array.of(1, 2, 3, 4, 5);

  it('encodes BHS, header digest, data, 3 pad bytes and a data digest over data and padding', () => {
    const bhs = newBhs(Op.NOP_IN, FLAG_FINAL);
    const wire = concat(encodePdu(bhs, data5, { header: true, data: true }));
    expect(wire.length).toBe(BHS_LENGTH + DIGEST_LENGTH + 8 + DIGEST_LENGTH);
    expect(dataSegmentLength(wire)).toBe(5);
    expect(wire.subarray(48, 52)).toEqualBytes(digestBytes(wire.subarray(0, 48)));
    expect(wire.subarray(52, 60)).toEqualBytes(Uint8Array.of(1, 2, 3, 4, 5, 0, 0, 0));
    expect(wire.subarray(60, 64)).toEqualBytes(digestBytes(wire.subarray(52, 60)));
  });

  it('sends no data digest for an empty data segment and nothing but the BHS without digests', () => {
    expect(concat(encodePdu(newBhs(Op.NOP_IN, FLAG_FINAL), new Uint8Array(0), { header: true, data: true })).length).toBe(52);
    expect(concat(encodePdu(newBhs(Op.NOP_IN, FLAG_FINAL), new Uint8Array(0), { header: false, data: false })).length).toBe(48);
  });

  it('reassembles PDUs fed one byte at a time, with and without digests, and strips padding', () => {
    for (const digests of [{ header: false, data: false }, { header: true, data: true }]) {
      const wire = concat([...encodePdu(newBhs(Op.NOP_OUT, FLAG_FINAL), data5, digests), ...encodePdu(newBhs(Op.TEXT_REQUEST, FLAG_FINAL), Uint8Array.of(9), digests)]);
      const r = new PduReader(digests, () => 8192, 1020);
      const events: PduEvent[] = [];
      for (const b of wire) events.push(...r.push(Uint8Array.of(b)));
      const got = pdus(events);
      expect(got.map((p) => opcodeOf(p.bhs))).toEqual([Op.NOP_OUT, Op.TEXT_REQUEST]);
      expect(got[0]!.data).toEqualBytes(data5);
      expect(got[1]!.data).toEqualBytes(Uint8Array.of(9));
      expect(r.bufferedBytes).toBe(0);
    }
  });

  it('hands out the AHS (TotalAHSLength in 4-byte words) between BHS and data', () => {
    const bhs = newBhs(Op.SCSI_COMMAND, FLAG_FINAL);
    bhs[Off.TOTAL_AHS_LENGTH] = 2;
    setDataSegmentLength(bhs, 4);
    const ahs = h('00050100 00000000'); // AHSLength 5, type 1 (extended CDB), then the AHS bytes
    const wire = concat([bhs, ahs, h('cafebabe')]);
    const [p] = pdus(new PduReader({ header: false, data: false }, () => 8192, 1020).push(wire));
    expect(p!.ahs).toEqualBytes(ahs);
    expect(p!.data).toEqualBytes(h('cafebabe'));
  });

  it('reports a header digest error and a data digest error with the BHS', () => {
    const digests = { header: true, data: true };
    const good = concat(encodePdu(newBhs(Op.NOP_OUT, FLAG_FINAL), data5, digests));
    const badHeader = good.slice();
    badHeader[50] = badHeader[50]! ^ 1;
    expect(new PduReader(digests, () => 8192, 1020).push(badHeader).map((e) => e.kind)).toEqual(['header-digest-error']);
    const badData = good.slice();
    badData[53] = badData[53]! ^ 0x80;
    const events = new PduReader(digests, () => 8192, 1020).push(badData);
    expect(events.map((e) => e.kind)).toEqual(['data-digest-error']);
    expect(events[0]!.kind === 'pdu' ? null : events[0]!.bhs).toEqualBytes(good.subarray(0, 48));
  });

  it('skips an oversize data segment without buffering it, then reads the next PDU', () => {
    const digests = { header: false, data: false };
    const big = new Uint8Array(10_000).fill(7);
    const wire = concat([...encodePdu(newBhs(Op.NOP_OUT, FLAG_FINAL), big, digests), ...encodePdu(newBhs(Op.NOP_OUT, FLAG_FINAL), data5, digests)]);
    const r = new PduReader(digests, () => 8192, 1020);
    const events: PduEvent[] = [];
    for (let i = 0; i < wire.length; i += 1000) {
      events.push(...r.push(wire.subarray(i, i + 1000)));
      expect(r.bufferedBytes).toBeLessThan(2 * 1000);
    }
    expect(events.map((e) => e.kind)).toEqual(['oversize', 'pdu']);
    expect(events[0]).toMatchObject({ kind: 'oversize', length: 10_000 });
    expect((events[1] as Extract<PduEvent, { kind: 'pdu' }>).pdu.data).toEqualBytes(data5);
  });

  it('reports an AHS over the limit as bad-ahs', () => {
    const bhs = newBhs(Op.SCSI_COMMAND, FLAG_FINAL);
    bhs[Off.TOTAL_AHS_LENGTH] = 255;
    expect(new PduReader({ header: false, data: false }, () => 8192, 16).push(bhs).map((e) => e.kind)).toEqual(['bad-ahs']);
  });
});
