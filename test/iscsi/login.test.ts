/**
 * The login state machine (RFC 7143 6, 11.12-13) as pure decisions over key=value requests:
 * required keys, target lookup and initiator ACL, stage transitions, renegotiation, CHAP
 * (RFC 1994 MD5 response checked against an independently computed vector) and mutual CHAP.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Lab } from '../../src/app/lab.js';
import { addScsiArray } from '../../devices/scsi/attach.js';
import { discoveryListed, loginStep, newLoginState, loginFlags, type LoginEnv, type LoginState } from '../../src/app/iscsi/login.js';
import { defaultConnectionParams, DEFAULT_PREFS } from '../../src/app/iscsi/params.js';
import { LoginStatus, Stage, Login, ISCSI_LIMITS } from '../../src/app/iscsi/constants.js';
import { chapResponse, hex, decodeBinary } from '../../src/app/iscsi/chap.js';
import type { ExportedTarget } from '../../src/app/iscsi/target-config.js';
import { MiB } from '../helpers.js';

const IQN = 'iqn.2024-01.org.copylab:disk0';
const INI = 'iqn.2024-01.org.example:host1';
const SEC = Stage.SECURITY_NEGOTIATION;
const OP = Stage.OPERATIONAL_NEGOTIATION;
const FFP = Stage.FULL_FEATURE_PHASE;

function env(extra: Partial<ExportedTarget> = {}, others: Partial<ExportedTarget>[] = []): LoginEnv {
  const lab = new Lab();
  const { array } = addScsiArray(lab, { name: 'arr0', lus: [{ name: 'sda', size: 4 * MiB }] });
  const targets: ExportedTarget[] = [{ iqn: IQN, array, luns: [0], ...extra }, ...others.map((o, i) => ({ iqn: `${IQN}-${i}`, array, luns: [0], ...o }))];
  return {
    findTarget: (iqn) => targets.find((t) => t.iqn === iqn),
    discoveryTargets: (ini) => targets.filter((t) => !t.initiators || t.initiators.includes(ini)),
    prefs: DEFAULT_PREFS,
  };
}

const state = (): LoginState => newLoginState(defaultConnectionParams());
const keys = (o: Record<string, string>): [string, string][] => Object.entries(o);

describe('login', () => {
  it('a plain login: security (AuthMethod None) → operational → full feature, with MaxRecvDataSegmentLength and TPGT declared once', () => {
    const e = env();
    const st = state();
    const a = loginStep(st, SEC, true, OP, keys({ InitiatorName: INI, TargetName: IQN, SessionType: 'Normal', AuthMethod: 'None' }), e);
    expect(a).toMatchObject({ status: LoginStatus.SUCCESS, transit: true, nsg: OP });
    expect(a.answer).toEqual([['AuthMethod', 'None'], ['TargetPortalGroupTag', '1']]);
    const b = loginStep(st, OP, true, FFP, keys({ HeaderDigest: 'CRC32C,None', MaxBurstLength: '65536' }), e);
    expect(b).toMatchObject({ status: LoginStatus.SUCCESS, transit: true, nsg: FFP });
    expect(b.answer).toEqual([['HeaderDigest', 'CRC32C'], ['MaxBurstLength', '65536'], ['MaxRecvDataSegmentLength', String(ISCSI_LIMITS.maxRecvDataSegmentLength)]]);
    expect(st.conn.headerDigest).toBe(true);
    expect(st.session.maxBurstLength).toBe(65536);
  });

  it('the response flags byte: T bit, CSG in bits 2-3, NSG in bits 0-1 only when transiting', () => {
    expect(loginFlags(true, OP, FFP)).toBe(Login.FLAG_TRANSIT | (1 << 2) | 3);
    expect(loginFlags(false, SEC, FFP)).toBe(0);
  });

  it('first request: missing InitiatorName or TargetName, an invalid name, an unknown target, an unlisted initiator, a bad session type', () => {
    const cases: [Record<string, string>, number, Partial<ExportedTarget>?][] = [
      [{ TargetName: IQN }, LoginStatus.MISSING_PARAMETER],
      [{ InitiatorName: INI }, LoginStatus.MISSING_PARAMETER],
      [{ InitiatorName: 'IQN.bad name', TargetName: IQN }, LoginStatus.INITIATOR_ERROR],
      [{ InitiatorName: INI, TargetName: 'iqn.2024-01.org.copylab:nope' }, LoginStatus.NOT_FOUND],
      [{ InitiatorName: INI, TargetName: IQN }, LoginStatus.AUTHORIZATION_FAILURE, { initiators: ['iqn.2024-01.org.example:other'] }],
      [{ InitiatorName: INI, TargetName: IQN, SessionType: 'Bogus' }, LoginStatus.SESSION_TYPE_NOT_SUPPORTED],
    ];
    for (const [kv, status, extra] of cases) expect(loginStep(state(), SEC, true, OP, keys(kv), env(extra)).status, JSON.stringify(kv)).toBe(status);
  });

  it('a discovery session needs no TargetName and sends no TPGT', () => {
    const a = loginStep(state(), SEC, true, OP, keys({ InitiatorName: INI, SessionType: 'Discovery', AuthMethod: 'None' }), env());
    expect(a.status).toBe(LoginStatus.SUCCESS);
    expect(a.answer).toEqual([['AuthMethod', 'None']]);
  });

  it('refuses bad stage transitions, a key twice in one request and a key negotiated again later (initiator error)', () => {
    const first = keys({ InitiatorName: INI, TargetName: IQN });
    expect(loginStep(state(), FFP, false, 0, first, env()).status).toBe(LoginStatus.INITIATOR_ERROR);
    expect(loginStep(state(), OP, true, SEC, first, env()).status).toBe(LoginStatus.INITIATOR_ERROR);
    expect(loginStep(state(), SEC, true, 2, first, env()).status).toBe(LoginStatus.INITIATOR_ERROR);
    expect(loginStep(state(), SEC, false, 0, [...first, ['MaxBurstLength', '512'], ['MaxBurstLength', '1024']], env()).status).toBe(LoginStatus.INITIATOR_ERROR);
    const e = env();
    const st = state();
    expect(loginStep(st, SEC, true, OP, [...first, ['AuthMethod', 'None']], e).status).toBe(LoginStatus.SUCCESS);
    expect(loginStep(st, OP, false, 0, keys({ MaxBurstLength: '8192' }), e).status).toBe(LoginStatus.SUCCESS);
    expect(loginStep(st, OP, true, FFP, keys({ MaxBurstLength: '4096' }), e).status).toBe(LoginStatus.INITIATOR_ERROR);
    // A leading-only key may not change value after the first request.
    const st2 = state();
    loginStep(st2, SEC, false, 0, first, e);
    expect(loginStep(st2, SEC, false, 0, keys({ InitiatorName: 'iqn.2024-01.org.example:host2' }), e).status).toBe(LoginStatus.INITIATOR_ERROR);
  });

  it('AuthMethod outside the security stage is an initiator error; with no acceptable method, authentication failure', () => {
    const first = { InitiatorName: INI, TargetName: IQN };
    expect(loginStep(state(), OP, true, FFP, keys({ ...first, AuthMethod: 'None' }), env()).status).toBe(LoginStatus.INITIATOR_ERROR);
    expect(loginStep(state(), SEC, true, OP, keys({ ...first, AuthMethod: 'SRP' }), env()).status).toBe(LoginStatus.AUTHENTICATION_FAILURE);
  });

  describe('CHAP (MD5)', () => {
    const chap = { user: 'alice', secret: 'secret-one-12', targetUser: 'tgt', targetSecret: 'secret-two-34' };
    const first = { InitiatorName: INI, TargetName: IQN };

    it('computes CHAP_R = MD5(id || secret || challenge) (RFC 1994), checked against a fixed vector', () => {
      // md5(0x07 || "secret-one" || 00 01 .. 0f), computed outside this code base.
      expect(hex(chapResponse(7, 'secret-one', Uint8Array.from({ length: 16 }, (_, i) => i)))).toBe('0x5de6b615cda139cf9444fa7a0ecc71b8');
      expect(decodeBinary('0x0a0B')).toEqualBytes(Uint8Array.of(0x0a, 0x0b));
      expect(decodeBinary('0bAAEC')).toEqualBytes(Uint8Array.of(0, 1, 2));
      expect(decodeBinary('0x')).toBeNull();
      expect(decodeBinary('abc')).toBeNull();
      expect(decodeBinary(`0x${'00'.repeat(1025)}`)).toBeNull();
    });

    function challenged(e: LoginEnv): { st: LoginState; id: number; c: Uint8Array } {
      const st = state();
      const a = loginStep(st, SEC, false, 0, keys({ ...first, AuthMethod: 'CHAP,None' }), e);
      expect(a.answer[0]).toEqual(['AuthMethod', 'CHAP']);
      expect(a.transit).toBe(false);
      const b = loginStep(st, SEC, false, 0, keys({ CHAP_A: '7,5' }), e);
      const m = new Map(b.answer);
      expect(m.get('CHAP_A')).toBe('5');
      return { st, id: Number(m.get('CHAP_I')), c: decodeBinary(m.get('CHAP_C')!)! };
    }

    it('the right response logs in; a wrong one or a wrong name is authentication failure', () => {
      const e = env({ chap });
      const ok = challenged(e);
      const r = createHash('md5').update(Uint8Array.of(ok.id)).update(chap.secret).update(ok.c).digest();
      const done = loginStep(ok.st, SEC, true, OP, keys({ CHAP_N: 'alice', CHAP_R: `0x${r.toString('hex')}` }), e);
      expect(done).toMatchObject({ status: LoginStatus.SUCCESS, transit: true, nsg: OP });
      const bad = challenged(e);
      const wrong = loginStep(bad.st, SEC, true, OP, keys({ CHAP_N: 'alice', CHAP_R: `0x${'00'.repeat(16)}` }), e);
      expect(wrong.status).toBe(LoginStatus.AUTHENTICATION_FAILURE);
      expect(bad.st.chapFailed).toBe(true);
      const name = challenged(e);
      expect(loginStep(name.st, SEC, true, OP, keys({ CHAP_N: 'mallory', CHAP_R: hex(chapResponse(name.id, chap.secret, name.c)) }), e).status).toBe(LoginStatus.AUTHENTICATION_FAILURE);
    });

    it('only MD5 is offered; skipping the security stage or transiting before the response fails', () => {
      const e = env({ chap });
      const st = state();
      loginStep(st, SEC, false, 0, keys({ ...first, AuthMethod: 'CHAP' }), e);
      expect(loginStep(st, SEC, false, 0, keys({ CHAP_A: '7' }), e).status).toBe(LoginStatus.AUTHENTICATION_FAILURE);
      expect(loginStep(state(), OP, true, FFP, keys(first), e).status).toBe(LoginStatus.AUTHENTICATION_FAILURE);
      expect(loginStep(state(), SEC, true, OP, keys({ ...first, AuthMethod: 'None' }), e).status).toBe(LoginStatus.AUTHENTICATION_FAILURE);
    });

    it('mutual CHAP: the target answers the initiator challenge with its own name and response; a reflected challenge is refused', () => {
      const e = env({ chap });
      const m = challenged(e);
      const mine = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
      const res = loginStep(m.st, SEC, true, OP, keys({ CHAP_N: 'alice', CHAP_R: hex(chapResponse(m.id, chap.secret, m.c)), CHAP_I: '9', CHAP_C: hex(mine) }), e);
      expect(res.status).toBe(LoginStatus.SUCCESS);
      const ans = new Map(res.answer);
      expect(ans.get('CHAP_N')).toBe('tgt');
      expect(ans.get('CHAP_R')).toBe(`0x${createHash('md5').update(Uint8Array.of(9)).update(chap.targetSecret).update(mine).digest('hex')}`);
      const r = challenged(e);
      const reflected = loginStep(r.st, SEC, true, OP, keys({ CHAP_N: 'alice', CHAP_R: hex(chapResponse(r.id, chap.secret, r.c)), CHAP_I: String(r.id), CHAP_C: hex(r.c) }), e);
      expect(reflected.status).toBe(LoginStatus.AUTHENTICATION_FAILURE);
    });
  });
  describe('discovery sessions follow the targets\' CHAP', () => {
    const chap = { user: 'alice', secret: 'secret-one-12' };
    const other = { user: 'bob', secret: 'secret-two-34' };
    const disc = { InitiatorName: INI, SessionType: 'Discovery' };
    const listed = (st: LoginState, e: LoginEnv): string[] => e.discoveryTargets(INI).filter((t) => discoveryListed(st, t)).map((t) => t.iqn);

    /** A discovery login through CHAP with `cred`; the step's status. */
    function viaChap(e: LoginEnv, st: LoginState, cred: { user: string; secret: string }, offer = 'CHAP'): number {
      const a = loginStep(st, SEC, false, 0, keys({ ...disc, AuthMethod: offer }), e);
      if (a.status) return a.status;
      expect(a.answer[0]).toEqual(['AuthMethod', 'CHAP']);
      const m = new Map(loginStep(st, SEC, false, 0, keys({ CHAP_A: '5' }), e).answer);
      return loginStep(st, SEC, true, OP, keys({ CHAP_N: cred.user, CHAP_R: hex(chapResponse(Number(m.get('CHAP_I')), cred.secret, decodeBinary(m.get('CHAP_C')!)!)) }), e).status;
    }

    it('the probe: a target that requires CHAP requires it for discovery too; None, a skipped security stage and a wrong secret fail', () => {
      const e = env({ chap });
      expect(loginStep(state(), SEC, true, OP, keys({ ...disc, AuthMethod: 'None' }), e).status).toBe(LoginStatus.AUTHENTICATION_FAILURE);
      expect(loginStep(state(), SEC, true, OP, keys(disc), e).status).toBe(LoginStatus.AUTHENTICATION_FAILURE);
      expect(loginStep(state(), OP, true, FFP, keys(disc), e).status).toBe(LoginStatus.AUTHENTICATION_FAILURE);
      expect(viaChap(e, state(), { user: 'alice', secret: 'wrong-secret-0' })).toBe(LoginStatus.AUTHENTICATION_FAILURE);
      const st = state();
      expect(viaChap(e, st, chap)).toBe(LoginStatus.SUCCESS);
      expect(listed(st, e)).toEqual([IQN]);
    });

    it('discovery_auth none: listed without authentication', () => {
      const e = env({ chap, discoveryAuth: 'none' });
      const st = state();
      expect(loginStep(st, SEC, true, OP, keys({ ...disc, AuthMethod: 'None' }), e).status).toBe(LoginStatus.SUCCESS);
      expect(listed(st, e)).toEqual([IQN]);
    });

    it('targets with and without CHAP: None lists the open ones; CHAP lists those whose credentials were proved; the initiator\'s order picks', () => {
      const e = env({ chap }, [{}, { chap: other }]);
      const open = state();
      const a = loginStep(open, SEC, true, OP, keys({ ...disc, AuthMethod: 'None,CHAP' }), e);
      expect([a.status, a.answer[0]]).toEqual([LoginStatus.SUCCESS, ['AuthMethod', 'None']]);
      expect(listed(open, e)).toEqual([`${IQN}-0`]);
      const alice = state();
      expect(viaChap(e, alice, chap, 'CHAP,None')).toBe(LoginStatus.SUCCESS);
      expect(listed(alice, e)).toEqual([IQN, `${IQN}-0`]);
      const bob = state();
      expect(viaChap(e, bob, other)).toBe(LoginStatus.SUCCESS);
      expect(listed(bob, e)).toEqual([`${IQN}-0`, `${IQN}-1`]);
      // CHAP begun must be finished: skipping to the operational stage fails.
      const begun = state();
      loginStep(begun, SEC, false, 0, keys({ ...disc, AuthMethod: 'CHAP' }), e);
      expect(loginStep(begun, OP, true, FFP, keys({ MaxBurstLength: '4096' }), e).status).toBe(LoginStatus.AUTHENTICATION_FAILURE);
      // CHAP keys after None was chosen are an initiator error.
      const none = state();
      loginStep(none, SEC, false, 0, keys({ ...disc, AuthMethod: 'None' }), e);
      expect(loginStep(none, SEC, false, 0, keys({ CHAP_A: '5' }), e).status).toBe(LoginStatus.INITIATOR_ERROR);
    });

    it('a target the initiator may not log in to counts for nothing: its CHAP is not asked, it is not listed', () => {
      const e = env({ chap, initiators: ['iqn.2024-01.org.example:other'] }, [{}]);
      const st = state();
      expect(loginStep(st, SEC, true, OP, keys({ ...disc, AuthMethod: 'None' }), e).status).toBe(LoginStatus.SUCCESS);
      expect(listed(st, e)).toEqual([`${IQN}-0`]);
      expect(loginStep(state(), SEC, false, 0, keys({ ...disc, AuthMethod: 'CHAP' }), e).status).toBe(LoginStatus.AUTHENTICATION_FAILURE);
    });
  });
});
