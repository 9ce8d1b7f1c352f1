/**
 * Text key=value framing (RFC 7143 6.1) and operational key negotiation (RFC 7143 13): each
 * key's rule (list, boolean AND/OR, numeric min/max, declarative), its range and Reject,
 * Irrelevant in a discovery session and NotUnderstood for an unknown key. No sockets.
 */
import { describe, expect, it } from 'vitest';
import { parseText, encodeText, TEXT_LIMITS } from '../../src/app/iscsi/text.js';
import { negotiateKey, defaultSessionParams, defaultConnectionParams, DEFAULT_PREFS, type TargetPrefs } from '../../src/app/iscsi/params.js';
import { ISCSI_LIMITS } from '../../src/app/iscsi/constants.js';

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

describe('text key=value framing', () => {
  it('encodes each pair as key=value NUL and parses it back', () => {
    const wire = encodeText([['HeaderDigest', 'CRC32C,None'], ['MaxBurstLength', '262144']]);
    expect(wire).toEqualBytes(bytes('HeaderDigest=CRC32C,None\0MaxBurstLength=262144\0'));
    expect(parseText(wire)).toEqual([['HeaderDigest', 'CRC32C,None'], ['MaxBurstLength', '262144']]);
    expect(encodeText([]).length).toBe(0);
  });

  it('keeps an empty value and an "=" inside a value; tolerates a missing final NUL', () => {
    expect(parseText(bytes('TargetAlias=\0X=a=b'))).toEqual([['TargetAlias', ''], ['X', 'a=b']]);
  });

  it('refuses a pair without "=", an empty key, a key over 63 bytes, a value over the limit and too many pairs', () => {
    expect(parseText(bytes('NoEquals\0'))).toBeNull();
    expect(parseText(bytes('=v\0'))).toBeNull();
    expect(parseText(bytes(`${'K'.repeat(TEXT_LIMITS.maxKeyLength)}=v\0`))).not.toBeNull();
    expect(parseText(bytes(`${'K'.repeat(TEXT_LIMITS.maxKeyLength + 1)}=v\0`))).toBeNull();
    expect(parseText(bytes(`K=${'v'.repeat(TEXT_LIMITS.maxValueLength + 1)}\0`))).toBeNull();
    expect(parseText(bytes('A=1\0'.repeat(TEXT_LIMITS.maxPairs)))).toHaveLength(TEXT_LIMITS.maxPairs);
    expect(parseText(bytes('A=1\0'.repeat(TEXT_LIMITS.maxPairs + 1)))).toBeNull();
  });
});

describe('operational key negotiation', () => {
  const fresh = (prefs: TargetPrefs = DEFAULT_PREFS, discovery = false) => {
    const s = defaultSessionParams();
    const c = defaultConnectionParams();
    return { s, c, neg: (k: string, v: string) => negotiateKey(k, v, s, c, prefs, discovery) };
  };

  it('digests: the first of the initiator list we support; None only when the target offers no digests', () => {
    const a = fresh();
    expect(a.neg('HeaderDigest', 'CRC32C,None')).toBe('CRC32C');
    expect(a.neg('DataDigest', 'None,CRC32C')).toBe('None');
    expect([a.c.headerDigest, a.c.dataDigest]).toEqual([true, false]);
    const b = fresh({ ...DEFAULT_PREFS, digests: false });
    expect(b.neg('HeaderDigest', 'CRC32C,None')).toBe('None');
    expect(b.neg('DataDigest', 'CRC32C')).toBe('Reject');
    expect(b.c.dataDigest).toBe(false);
  });

  it('numeric keys take the minimum of offer and preference; out of range or malformed is Reject', () => {
    const a = fresh();
    expect(a.neg('MaxBurstLength', String(16 * 1024 * 1024 - 1))).toBe(String(DEFAULT_PREFS.maxBurstLength));
    expect(a.neg('FirstBurstLength', '0x4000')).toBe('16384');
    expect(a.s.firstBurstLength).toBe(16384);
    expect(a.neg('MaxOutstandingR2T', '100')).toBe(String(DEFAULT_PREFS.maxOutstandingR2T));
    expect(a.neg('MaxConnections', '1000')).toBe(String(Math.min(1000, ISCSI_LIMITS.maxConnectionsPerSession)));
    const b = fresh();
    expect(b.neg('MaxBurstLength', '511')).toBe('Reject');
    expect(b.neg('MaxBurstLength', '16777216')).toBe('Reject');
    expect(b.neg('MaxOutstandingR2T', '0')).toBe('Reject');
    expect(b.neg('FirstBurstLength', '-1')).toBe('Reject');
    expect(b.neg('FirstBurstLength', '1e6')).toBe('Reject');
    expect(b.s).toEqual(defaultSessionParams());
  });

  it('FirstBurstLength never exceeds MaxBurstLength, whichever comes first', () => {
    const a = fresh();
    expect(a.neg('FirstBurstLength', '65536')).toBe('65536');
    expect(a.neg('MaxBurstLength', '8192')).toBe('8192');
    expect(a.s.firstBurstLength).toBe(8192);
  });

  it('booleans: InitialR2T is OR (No accepted), ImmediateData AND, DataPDUInOrder forced Yes; bad values Reject', () => {
    const a = fresh();
    expect(a.neg('InitialR2T', 'No')).toBe('No');
    expect(a.neg('ImmediateData', 'No')).toBe('No');
    expect(a.neg('DataPDUInOrder', 'No')).toBe('Yes');
    expect(a.neg('DataSequenceInOrder', 'No')).toBe('Yes');
    expect(a.neg('ImmediateData', 'yes')).toBe('Reject');
  });

  it('declarative MaxRecvDataSegmentLength gets no answer; recovery levels and timers are held to what is implemented', () => {
    const a = fresh();
    expect(a.neg('MaxRecvDataSegmentLength', '65536')).toBeNull();
    expect(a.c.initiatorMaxRecvDataSegmentLength).toBe(65536);
    expect(a.neg('MaxRecvDataSegmentLength', '511')).toBe('Reject');
    expect(a.neg('ErrorRecoveryLevel', '2')).toBe('0');
    expect(a.neg('ErrorRecoveryLevel', '3')).toBe('Reject');
    expect(a.neg('DefaultTime2Wait', '0')).toBe('2');
    expect(a.neg('DefaultTime2Retain', '20')).toBe('0');
    expect(a.neg('IFMarker', 'Yes')).toBe('No');
  });

  it('session keys of a normal session are Irrelevant in a discovery session; unknown keys NotUnderstood', () => {
    const d = fresh(DEFAULT_PREFS, true);
    for (const k of ['InitialR2T', 'ImmediateData']) expect(d.neg(k, 'Yes')).toBe('Irrelevant');
    for (const k of ['MaxBurstLength', 'FirstBurstLength']) expect(d.neg(k, '65536')).toBe('Irrelevant');
    expect(d.neg('HeaderDigest', 'None')).toBe('None');
    expect(d.neg('X-com.example.Vendor', '1')).toBe('NotUnderstood');
  });
});
