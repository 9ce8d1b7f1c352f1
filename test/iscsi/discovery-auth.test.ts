/**
 * Discovery sessions follow the targets' authentication (over TCP): a target that requires CHAP
 * requires it of a discovery session too, and SendTargets names it only to a session that proved
 * its credentials, unless the scenario says `discovery_auth: none`. Before issue 24 a discovery
 * session logged in without CHAP and listed the CHAP-protected target's name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FLAG_FINAL, LoginStatus, Off, Op } from '../../src/app/iscsi/constants.js';
import { newBhs, opcodeOf } from '../../src/app/iscsi/pdu.js';
import { putBe32 } from '../../src/core/util/bytes.js';
import { parseText } from '../../src/app/iscsi/text.js';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { TestInitiator } from './initiator.js';
import { serve, unserve, type Served } from './fixture.js';

const IQN = 'iqn.2024-01.org.copylab:lab';
const ALICE = { user: 'alice', secret: 'alice-secret-1' };
const yaml = (extra = ''): string => `
devices:
  - kind: scsi
    array: lab
    lus: [ { name: sda, size: 4MiB } ]
iscsi:
  targets:
    - iqn: ${IQN}
      luns: [ /dev/sda ]
      chap: { user: alice, secret: alice-secret-1 }
${extra}`;

let served: Served | null = null;
const open: TestInitiator[] = [];

afterEach(async () => {
  if (served) await unserve(served, open);
  served = null;
});

async function connect(): Promise<TestInitiator> {
  const i = await TestInitiator.open(served!.port);
  open.push(i);
  return i;
}

/** SendTargets=All (RFC 7143 appendix C): the target names listed. */
async function sendTargets(d: TestInitiator): Promise<string[]> {
  const t = newBhs(Op.TEXT_REQUEST | 0x40, FLAG_FINAL);
  putBe32(t, Off.ITT, 5);
  putBe32(t, Off.TTT, 0xffffffff);
  putBe32(t, Off.CMDSN, d.cmdSN);
  d.send(t, new TextEncoder().encode('SendTargets=All\0'));
  const r = await d.next();
  expect(r && opcodeOf(r.bhs)).toBe(Op.TEXT_RESPONSE);
  return parseText(r!.data)!.filter(([k]) => k === 'TargetName').map(([, v]) => v);
}

describe('discovery sessions and CHAP', () => {
  it('the probe: a target that requires CHAP refuses a discovery session without it (0201h) and lists itself only after CHAP', async () => {
    served = await serve(yaml());
    const anon = await connect();
    expect(await anon.login({ discovery: true })).toBe(false);
    expect(anon.loginStatus).toBe(LoginStatus.AUTHENTICATION_FAILURE);
    const wrong = await connect();
    expect(await wrong.login({ discovery: true, chap: { user: 'alice', secret: 'not-the-secret' } })).toBe(false);
    expect(wrong.loginStatus).toBe(LoginStatus.AUTHENTICATION_FAILURE);
    const alice = await connect();
    expect(await alice.login({ discovery: true, chap: ALICE })).toBe(true);
    expect(await sendTargets(alice)).toEqual([IQN]);
  });

  it('a CHAP target beside an open one: an unauthenticated discovery session lists only the open one', async () => {
    served = await serve(yaml(`    - iqn: ${IQN}-open\n      luns: [ /dev/sda ]\n`));
    const anon = await connect();
    expect(await anon.login({ discovery: true })).toBe(true);
    expect(await sendTargets(anon)).toEqual([`${IQN}-open`]);
    const alice = await connect();
    expect(await alice.login({ discovery: true, chap: ALICE })).toBe(true);
    expect(await sendTargets(alice)).toEqual([IQN, `${IQN}-open`]);
  });

  it('discovery_auth: none lists the CHAP target without authentication; logging in to it still needs CHAP', async () => {
    served = await serve(yaml('      discovery_auth: none\n'));
    const anon = await connect();
    expect(await anon.login({ discovery: true })).toBe(true);
    expect(await sendTargets(anon)).toEqual([IQN]);
    const normal = await connect();
    expect(await normal.login({ target: IQN })).toBe(false);
    expect(normal.loginStatus).toBe(LoginStatus.AUTHENTICATION_FAILURE);
  });

  it('the scenario key: chap or none; chap without the target\'s chap credentials and other values are refused', () => {
    expect(parseScenarioText(yaml('      discovery_auth: chap\n'), 't').iscsi!.targets[0]!.discoveryAuth).toBe('chap');
    expect(() => parseScenarioText(yaml('      discovery_auth: optional\n'), 't')).toThrow(/discovery_auth/);
    const noChap = `
devices:
  - kind: scsi
    array: lab
    lus: [ { name: sda, size: 4MiB } ]
iscsi:
  targets:
    - { iqn: ${IQN}, luns: [ /dev/sda ], discovery_auth: chap }
`;
    expect(() => parseScenarioText(noChap, 't')).toThrow(/discovery_auth: chap needs/);
  });
});
