/**
 * Admission control through the real target: idle or slow connections that never finish login
 * cannot lock initiators out (login timer, pre-login caps with eviction of the oldest; libiscsi's
 * iscsi-inq logs in through a flood), logged-in
 * sessions outlive a flood, Data-Out held for pending writes stays under the target-wide cap,
 * a wrong CHAP response is answered late; and the RFC 7143 login points (first acceptable
 * digest of the offer, a key negotiated again in a later PDU, invalid iSCSI names).
 */
import { connect, type Socket } from 'node:net';
import { execFile } from 'node:child_process';
import { describe, it, expect, afterEach } from 'vitest';
import * as b from '../../devices/scsi/build.js';
import { LoginStatus, Op, R2t, Rsp, Stage } from '../../src/app/iscsi/constants.js';
import { opcodeOf } from '../../src/app/iscsi/pdu.js';
import { be32 } from '../../src/core/util/bytes.js';
import { DEFAULT_ISCSI_SCENARIO_YAML } from '../../src/app/iscsi/default-scenario.js';
import { DEFAULT_ADMISSION } from '../../src/app/iscsi/admission.js';
import { TestInitiator } from './initiator.js';
import { login, serve, unserve, type Served } from './fixture.js';

const IQN = 'iqn.2024-01.org.copylab';
const YAML = `${DEFAULT_ISCSI_SCENARIO_YAML}    - iqn: ${IQN}:secret
      luns: [ /dev/sdb ]
      chap: { user: alice, secret: alice-secret-1 }
`;

let served: Served | null = null;
const open: TestInitiator[] = [];
const raw: Socket[] = [];

afterEach(async () => {
  for (const s of raw.splice(0)) s.destroy();
  if (served) await unserve(served, open);
  served = null;
});

/** Opens n TCP connections that send nothing; resolves when all are connected. */
async function idle(port: number, n: number): Promise<{ closed: () => number }> {
  let closed = 0;
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((res, rej) => {
    const s = connect(port, '127.0.0.1', () => res());
    s.on('error', () => {});
    s.once('error', rej);
    s.on('close', () => closed++);
    raw.push(s);
  })));
  return { closed: () => closed };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('iSCSI admission: a target that cannot be starved', () => {
  it('600 idle connections from one host: a valid login succeeds at once (oldest unfinished logins evicted), a logged-in session survives', { timeout: 30_000 }, async () => {
    served = await serve(YAML);
    const before = await login(served.port, open); // logged in before the flood
    const flood = await idle(served.port, 600);
    await sleep(200);
    expect(served.target.preLoginCount).toBeLessThanOrEqual(DEFAULT_ADMISSION.maxPreLoginPerHost);
    expect(served.target.connectionCount).toBeLessThanOrEqual(DEFAULT_ADMISSION.maxPreLoginPerHost + 1);
    expect(flood.closed()).toBeGreaterThanOrEqual(600 - DEFAULT_ADMISSION.maxPreLoginPerHost);
    const t0 = Date.now();
    const i = await TestInitiator.open(served.port);
    open.push(i);
    expect(await i.login({ initiator: `${IQN}:alice`, target: `${IQN}:secret`, chap: { user: 'alice', secret: 'alice-secret-1' } })).toBe(true);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect((await i.command(0, b.testUnitReadyCdb())).status).toBe(0);
    expect(await before.ping()).not.toBeNull();
    expect((await before.command(0, b.testUnitReadyCdb())).status).toBe(0);
    // A real initiator's verdict: libiscsi's iscsi-inq logs in through a second flood.
    await idle(served.port, 600);
    const out = await new Promise<string>((res, rej) => execFile('iscsi-inq', [`iscsi://127.0.0.1:${served!.port}/${IQN}:lab/0`], { timeout: 20_000 }, (err, stdout) => (err ? rej(err) : res(stdout))));
    expect(out).toMatch(/DIRECT_ACCESS/);
  });

  it('the login timer ends connections that have not completed login (silent, or stalled after the first PDU)', async () => {
    served = await serve(YAML, { admission: { loginTimeoutMs: 300 } });
    const silent = await idle(served.port, 3);
    const half = await TestInitiator.open(served.port);
    open.push(half);
    const r = await half.loginExchange(Stage.SECURITY_NEGOTIATION, 0, false, [['InitiatorName', `${IQN}:slow`], ['TargetName', `${IQN}:lab`], ['AuthMethod', 'None']]);
    expect(r && opcodeOf(r.bhs)).toBe(Op.LOGIN_RESPONSE);
    const done = await login(served.port, open); // finishes in time: not ended
    await sleep(900);
    expect(silent.closed()).toBe(3);
    expect(half.closed).toBe(true);
    expect(served.target.preLoginCount).toBe(0);
    expect(await done.ping()).not.toBeNull();
  });

  it('Data-Out held for pending writes stays under the target-wide cap: writes over it get TASK SET FULL until the budget frees', { timeout: 20_000 }, async () => {
    const cap = 64 * 1024 * 1024;
    served = await serve(`devices:
  - { kind: nullblk, name: nullb0, size: 256MiB }
iscsi:
  targets:
    - iqn: ${IQN}:big
      luns: [ /dev/nullb0 ]
`, { admission: { maxBufferedDataOutTotal: cap } });
    const WRITE = 16 * 1024 * 1024;
    const answers: number[] = [];
    const sessions: TestInitiator[] = [];
    for (let k = 0; k < 8; k++) {
      const i = await login(served.port, open, { initiator: `${IQN}:w${k}`, target: `${IQN}:big` });
      sessions.push(i);
      // A 16 MiB WRITE whose Data-Out is never sent (the last Data-Out withheld).
      i.send(i.commandBhs(0, b.rw16Cdb(true, k * 32768, 32768), WRITE, false, true));
      const p = await i.next();
      answers.push(p ? (opcodeOf(p.bhs) === Op.R2T ? -1 : p.bhs[Rsp.OFF_STATUS]!) : -2);
    }
    // Four fit in 64 MiB; the others are TASK SET FULL (SAM-5 status 28h), nothing buffered for them.
    expect(answers).toEqual([-1, -1, -1, -1, 0x28, 0x28, 0x28, 0x28]);
    expect(served.target.dataOut.bytes).toBe(cap);
    // One holder goes away: its budget is freed and a new write is admitted.
    sessions[0]!.close();
    await sleep(100);
    expect(served.target.dataOut.bytes).toBe(cap - WRITE);
    const i = sessions[7]!;
    i.send(i.commandBhs(0, b.rw16Cdb(true, 0, 32768), WRITE, false, true));
    const p = await i.next();
    expect(p && opcodeOf(p.bhs)).toBe(Op.R2T);
    expect(p && be32(p.bhs, R2t.OFF_DESIRED_LENGTH)).toBeGreaterThan(0);
  });

  it('a wrong CHAP response is answered only after the failure delay; the right one logs in', async () => {
    served = await serve(YAML, { admission: { chapFailureDelayMs: 400 } });
    const wrong = await TestInitiator.open(served.port);
    open.push(wrong);
    const t0 = Date.now();
    expect(await wrong.login({ initiator: `${IQN}:alice`, target: `${IQN}:secret`, chap: { user: 'alice', secret: 'not-the-secret' } })).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(wrong.loginStatus).toBe(LoginStatus.AUTHENTICATION_FAILURE);
    await login(served.port, open, { initiator: `${IQN}:alice`, target: `${IQN}:secret`, chap: { user: 'alice', secret: 'alice-secret-1' } });
  });
});

describe('iSCSI login: RFC 7143 points', () => {
  const first: [string, string][] = [['InitiatorName', `${IQN}:rfc`], ['TargetName', `${IQN}:lab`], ['SessionType', 'Normal']];

  it('HeaderDigest/DataDigest: the first value of the offer the target supports', async () => {
    served = await serve(YAML);
    for (const [offer, want] of [['None,CRC32C', 'None'], ['CRC32C,None', 'CRC32C']] as const) {
      const i = await TestInitiator.open(served.port);
      open.push(i);
      await i.loginExchange(Stage.SECURITY_NEGOTIATION, Stage.OPERATIONAL_NEGOTIATION, true, [...first, ['AuthMethod', 'None']]);
      await i.loginExchange(Stage.OPERATIONAL_NEGOTIATION, Stage.FULL_FEATURE_PHASE, true, [['HeaderDigest', offer], ['DataDigest', offer]]);
      expect(i.loginStatus).toBe(0);
      expect([i.keys.get('HeaderDigest'), i.keys.get('DataDigest')]).toEqual([want, want]);
    }
  });

  it('a key negotiated again in a later login PDU is a login reject, initiator error (section 6.2)', async () => {
    served = await serve(YAML);
    const i = await TestInitiator.open(served.port);
    open.push(i);
    await i.loginExchange(Stage.SECURITY_NEGOTIATION, Stage.OPERATIONAL_NEGOTIATION, true, [...first, ['AuthMethod', 'None']]);
    await i.loginExchange(Stage.OPERATIONAL_NEGOTIATION, Stage.OPERATIONAL_NEGOTIATION, false, [['MaxBurstLength', '262144']]);
    expect(i.loginStatus).toBe(0);
    const r = await i.loginExchange(Stage.OPERATIONAL_NEGOTIATION, Stage.FULL_FEATURE_PHASE, true, [['MaxBurstLength', '65536']]);
    expect(r).not.toBeNull();
    expect(i.loginStatus).toBe(LoginStatus.INITIATOR_ERROR);
    expect(await i.next(1000)).toBeNull(); // the connection ends
    // AuthMethod again in a second security PDU likewise.
    const j = await TestInitiator.open(served.port);
    open.push(j);
    await j.loginExchange(Stage.SECURITY_NEGOTIATION, 0, false, [...first, ['AuthMethod', 'None']]);
    await j.loginExchange(Stage.SECURITY_NEGOTIATION, Stage.OPERATIONAL_NEGOTIATION, true, [['AuthMethod', 'None']]);
    expect(j.loginStatus).toBe(LoginStatus.INITIATOR_ERROR);
  });

  it('an InitiatorName that is not an iSCSI name (RFC 7143 4.2.7, RFC 3722) is refused', async () => {
    served = await serve(YAML);
    for (const name of ['2', 'iqn.2024-13.org.copylab:x', 'iqn.2024-01.org.copylab:Upper', 'iqn.2024-01.org.copylab:a_b', `iqn.2024-01.org.copylab:${'x'.repeat(220)}`, 'eui.12345']) {
      const i = await TestInitiator.open(served.port);
      open.push(i);
      await i.loginExchange(Stage.SECURITY_NEGOTIATION, Stage.OPERATIONAL_NEGOTIATION, true, [['InitiatorName', name], ['TargetName', `${IQN}:lab`], ['AuthMethod', 'None']]);
      expect(i.loginStatus, name).toBe(LoginStatus.INITIATOR_ERROR);
    }
    for (const name of ['eui.02004567A425678D', 'naa.52004567BA64678D', 'iqn.2005-03.org.open-iscsi:1f2e3d4c5b6a']) {
      const i = await TestInitiator.open(served.port);
      open.push(i);
      await i.loginExchange(Stage.SECURITY_NEGOTIATION, Stage.OPERATIONAL_NEGOTIATION, true, [['InitiatorName', name], ['TargetName', `${IQN}:lab`], ['AuthMethod', 'None']]);
      expect(i.loginStatus, name).toBe(0);
    }
  });
});
