/**
 * Copy-manager access through the real target (SPC-4 5.17, the SNIA paper's section 3): an
 * initiator logged in to one target tries to make the copy manager read or write LUs it cannot
 * address through that target — another target's LU (with its own initiator list and CHAP), an
 * LU of the same array outside its LUN map, a SCSI array's LU from a gateway target, NAA
 * designators computed offline from "array/lu", a ROD token made by another initiator. Every try
 * is refused with nothing moved; the same copies inside the initiator's own view, or made
 * reachable by the operator (`reach`), succeed.
 */
import { createHash } from 'node:crypto';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import * as b from '../../devices/scsi/build.js';
import { Desig, SenseKey, TpcInSa, TpcOutSa } from '../../devices/scsi/constants.js';
import { NAA_COMPANY_ID } from '../../devices/scsi/lu.js';
import { pattern } from '../helpers.js';
import { TestInitiator, type CommandResult } from './initiator.js';
import { login, naaOf, serve, unserve, type Served } from './fixture.js';

const IQN = 'iqn.2024-01.org.copylab';
const ALICE = `${IQN}:alice`;
const BOB = `${IQN}:bob`;
const BOB_CHAP = { user: 'bob', secret: 'bob-secret-123' };

const YAML = `
devices:
  - kind: scsi
    array: arr
    lus: [ { name: sda, size: 4MiB, backing: memory }, { name: sdb, size: 4MiB, backing: memory } ]
  - { kind: nullblk, name: nullb0, size: 4MiB, backing: memory }
  - { kind: nullblk, name: nullb1, size: 4MiB, backing: memory }
  - { kind: nullblk, name: nullb2, size: 4MiB, backing: memory }
  - { kind: nullblk, name: nullb3, size: 4MiB, backing: memory }
  - { kind: nullblk, name: nullb4, size: 4MiB, backing: memory }
  - { kind: nullblk, name: nullb5, size: 4MiB, backing: memory }
iscsi:
  targets:
    - iqn: ${IQN}:a
      luns: [ { lun: 0, dev: /dev/sda } ]
      initiators: [ ${ALICE} ]
    - iqn: ${IQN}:a2
      luns: [ { lun: 1, dev: /dev/sdb } ]
      initiators: [ ${ALICE} ]
      chap: { user: alice, secret: alice-secret-12 }
    - iqn: ${IQN}:b
      luns: [ { lun: 1, dev: /dev/sdb } ]
      initiators: [ ${BOB} ]
      chap: { user: bob, secret: ${BOB_CHAP.secret} }
    - iqn: ${IQN}:gw
      luns: [ /dev/nullb0, /dev/nullb1 ]
    - iqn: ${IQN}:gw-bob
      luns: [ /dev/nullb2 ]
      initiators: [ ${BOB} ]
    - iqn: ${IQN}:gw-reach
      luns: [ /dev/nullb3 ]
      reach: [ arr ]
    - iqn: ${IQN}:gw-scoped
      luns: [ /dev/nullb4, /dev/nullb5 ]
      token_scope: initiator
`;

/** The NAA 6 designator of an LU, computed offline the way the lab derives it (no VPD access). */
function offlineNaa(array: string, lu: string): Uint8Array {
  const h = createHash('sha256').update(`${array}/${lu}`).digest();
  const d = new Uint8Array(16);
  d[0] = (Desig.NAA_IEEE_REGISTERED_EXTENDED << 4) | ((NAA_COMPANY_ID >>> 20) & 0x0f);
  d[1] = (NAA_COMPANY_ID >>> 12) & 0xff;
  d[2] = (NAA_COMPANY_ID >>> 4) & 0xff;
  d[3] = ((NAA_COMPANY_ID & 0x0f) << 4) | (h[0]! & 0x0f);
  d.set(h.subarray(1, 13), 4);
  return d;
}

let served: Served;
const open: TestInitiator[] = [];
const MiB = 1 << 20;
const BLOCKS = 64;
const BYTES = BLOCKS * 512;

beforeEach(async () => {
  served = await serve(YAML);
  // Distinct data everywhere, so a leaked copy shows.
  for (const [k, dev] of ['/dev/sda', '/dev/sdb', '/dev/nullb0', '/dev/nullb1', '/dev/nullb2', '/dev/nullb3', '/dev/nullb4', '/dev/nullb5'].entries()) {
    await served.lab.write(dev, 0, pattern(MiB, 100 + k));
  }
});
afterEach(() => unserve(served, open));

const as = (who: string, target: string, chap?: typeof BOB_CHAP): Promise<TestInitiator> =>
  login(served.port, open, { initiator: who, target: `${IQN}:${target}`, ...(chap ? { chap } : {}) });

function xcopy(i: TestInitiator, lun: number, src: Uint8Array, dst: Uint8Array, lid4 = false): Promise<CommandResult> {
  const l = { listId: 1, cscds: [b.e4Descriptor(src, 512), b.e4Descriptor(dst, 512)], segments: [b.b2bSegment({ src: 0, dst: 1, blocks: BLOCKS, srcLba: 0, dstLba: 0 })] };
  const list = lid4 ? b.xcopyLid4(l) : b.xcopyLid1(l);
  return i.command(lun, b.tpcOutCdb(lid4 ? TpcOutSa.EXTENDED_COPY_LID4 : TpcOutSa.EXTENDED_COPY_LID1, list.length), { dataOut: list });
}

const senseOf = (r: CommandResult): [number, number, number, number] => [r.status, r.sense[2]! & 0x0f, r.sense[12]!, r.sense[13]!];
const NOT_REACHABLE = [2, SenseKey.COPY_ABORTED, 0x0d, 0x02];
const ACCESS_DENIED = [2, SenseKey.ILLEGAL_REQUEST, 0x20, 0x02];

/** Every device still holds its own pattern: nothing was moved anywhere. */
async function nothingMoved(): Promise<void> {
  for (const [k, dev] of ['/dev/sda', '/dev/sdb', '/dev/nullb0', '/dev/nullb1', '/dev/nullb2', '/dev/nullb3', '/dev/nullb4', '/dev/nullb5'].entries()) {
    expect(await served.lab.read(dev, 0, BYTES), dev).toEqualBytes(pattern(BYTES, 100 + k));
  }
}

async function populate(i: TestInitiator, lun: number, listId: number): Promise<Uint8Array> {
  const pt = b.populateTokenList([{ lba: 0, blocks: BLOCKS }]);
  expect((await i.command(lun, b.tpcOutCdb(TpcOutSa.POPULATE_TOKEN, pt.length, listId), { dataOut: pt })).status).toBe(0);
  const rrti = await i.command(lun, b.tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, listId, 4096), { readLength: 4096 });
  return b.tokenFromRrti(rrti.dataIn)!;
}

function writeUsing(i: TestInitiator, lun: number, token: Uint8Array): Promise<CommandResult> {
  const wut = b.writeUsingTokenList(token, [{ lba: 0, blocks: BLOCKS }]);
  return i.command(lun, b.tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, wut.length, 9), { dataOut: wut });
}

describe('iSCSI copy-manager access (SNIA section 3 bypasses, refused)', () => {
  it('the designators computed offline are the LUs\' real ones (the attack needs no VPD access)', async () => {
    const bob = await as(BOB, 'b', BOB_CHAP);
    expect(await naaOf(bob, 1)).toEqualBytes(offlineNaa('arr', 'sdb'));
    const alice = await as(ALICE, 'gw');
    expect(await naaOf(alice, 0)).toEqualBytes(offlineNaa('iscsi3', 'nullb0'));
  });

  it('an LU of the same array outside the target\'s LUN map, as source or destination: COPY ABORTED 0Dh/02h, nothing moved', async () => {
    const alice = await as(ALICE, 'a');
    const sda = await naaOf(alice, 0);
    const sdb = offlineNaa('arr', 'sdb'); // not in target a's LUN map (targets a2 and b export it)
    expect(senseOf(await xcopy(alice, 0, sdb, sda))).toEqual(NOT_REACHABLE); // copy out of it
    expect(senseOf(await xcopy(alice, 0, sda, sdb))).toEqual(NOT_REACHABLE); // copy into it
    expect(senseOf(await xcopy(alice, 0, sdb, sdb, true))).toEqual(NOT_REACHABLE); // both, LID4
    await nothingMoved();
    // The same copy inside alice's own view moves data.
    const ok = b.xcopyLid1({ cscds: [b.e4Descriptor(sda, 512)], segments: [b.b2bSegment({ src: 0, dst: 0, blocks: BLOCKS, srcLba: 0, dstLba: 4096 })] });
    expect((await alice.command(0, b.tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID1, ok.length), { dataOut: ok })).status).toBe(0);
    expect(await served.lab.read('/dev/sda', 4096 * 512, BYTES)).toEqualBytes(pattern(BYTES, 100));
  });

  it('source and destination on another target\'s LU (its initiator list excludes us): refused, nothing moved', async () => {
    const alice = await as(ALICE, 'gw');
    const mine = await naaOf(alice, 0);
    const bobs = offlineNaa('iscsi4', 'nullb2'); // target gw-bob admits only bob
    expect(senseOf(await xcopy(alice, 0, bobs, mine))).toEqual(NOT_REACHABLE);
    expect(senseOf(await xcopy(alice, 0, mine, bobs))).toEqual(NOT_REACHABLE);
    expect(senseOf(await xcopy(alice, 0, bobs, bobs, true))).toEqual(NOT_REACHABLE);
    // Bob himself, through his own target, cannot reach across targets either (no reach given).
    const bob = await as(BOB, 'gw-bob');
    expect(senseOf(await xcopy(bob, 0, await naaOf(bob, 0), mine))).toEqual(NOT_REACHABLE);
    await nothingMoved();
  });

  it('a gateway target reaching an LU of a SCSI array: refused unless the operator lists the array in reach', async () => {
    const alice = await as(ALICE, 'gw');
    const sda = offlineNaa('arr', 'sda');
    const sdb = offlineNaa('arr', 'sdb');
    expect(senseOf(await xcopy(alice, 0, sda, await naaOf(alice, 1)))).toEqual(NOT_REACHABLE);
    expect(senseOf(await xcopy(alice, 0, await naaOf(alice, 1), sdb))).toEqual(NOT_REACHABLE);
    await nothingMoved();
    // gw-reach has `reach: [arr]`: the operator made arr reachable for third-party copy.
    const carol = await as(`${IQN}:carol`, 'gw-reach');
    expect((await xcopy(carol, 0, sdb, await naaOf(carol, 0))).status).toBe(0);
    expect(await served.lab.read('/dev/nullb3', 0, BYTES)).toEqualBytes(pattern(BYTES, 101));
  });

  it('WRITE USING TOKEN with a token another initiator made on an LU the writer cannot see: 20h/02h, nothing written', async () => {
    const bob = await as(BOB, 'b', BOB_CHAP);
    const token = await populate(bob, 1, 5); // sdb, exported only to bob
    const alice = await as(ALICE, 'a');
    expect(senseOf(await writeUsing(alice, 0, token))).toEqual(ACCESS_DENIED);
    // The token is still good for bob, through his own target.
    await nothingMoved();
    const bobGw = await as(BOB, 'gw-bob');
    const t2 = await populate(bobGw, 0, 6); // nullb2 (iscsi4)
    // A token is known only to its own array: another array's copy manager does not know it.
    const aliceGw = await as(ALICE, 'gw');
    const r = await writeUsing(aliceGw, 0, t2);
    expect(senseOf(r)).toEqual([2, SenseKey.ILLEGAL_REQUEST, 0x23, 0x04]);
    await nothingMoved();
    expect((await writeUsing(bob, 1, token)).status).toBe(0);
  });

  it('the same initiator through another target of the same array: its token is not usable there, nor listed', async () => {
    const alice = await as(ALICE, 'a');
    const token = await populate(alice, 0, 3); // sda, through target a
    const viaA2 = await as(ALICE, 'a2', { user: 'alice', secret: 'alice-secret-12' }); // exports only sdb
    expect(senseOf(await writeUsing(viaA2, 1, token))).toEqual(ACCESS_DENIED);
    await nothingMoved();
    const all = await viaA2.command(1, b.tpcInCdb(TpcInSa.REPORT_ALL_ROD_TOKENS, 0, 8192), { readLength: 8192 });
    expect(all.status).toBe(0);
    expect(new DataView(all.dataIn.buffer, all.dataIn.byteOffset).getUint32(0)).toBe(4); // no token listed
    const mine = await alice.command(0, b.tpcInCdb(TpcInSa.REPORT_ALL_ROD_TOKENS, 0, 8192), { readLength: 8192 });
    expect(new DataView(mine.dataIn.buffer, mine.dataIn.byteOffset).getUint32(0)).toBe(4 + 512); // through a: listed
  });

  it('reach names existing arrays and belongs to the array for a target that fronts one', async () => {
    const { parseScenarioText } = await import('../../src/app/scenario/parse.js');
    const { buildLab } = await import('../../src/app/scenario/run.js');
    const { exportTargets } = await import('../../src/app/iscsi/scenario.js');
    const base = 'devices:\n  - { kind: scsi, array: arr, lus: [ { name: sda, size: 1MiB } ] }\n  - { kind: nullblk, name: nullb0, size: 1MiB }\niscsi:\n  targets:\n';
    const build = (t: string): unknown => {
      const sc = parseScenarioText(base + t, 't');
      return exportTargets(buildLab(sc), sc.iscsi!);
    };
    expect(() => build(`    - { iqn: ${IQN}:g, luns: [ /dev/nullb0 ], reach: [ nowhere ] }\n`)).toThrow(/reach names no array nowhere/);
    expect(() => build(`    - { iqn: ${IQN}:f, luns: [ /dev/sda ], reach: [ arr ] }\n`)).toThrow(/fronts array arr/);
    expect(() => parseScenarioText(`${base}    - { iqn: ${IQN}:g, luns: [ /dev/nullb0 ], token_scope: everyone }\n`)).toThrow(/token_scope/);
    expect(build(`    - { iqn: ${IQN}:g, luns: [ /dev/nullb0 ], reach: [ arr ], token_scope: initiator }\n`)).toHaveLength(1);
  });

  it('token_scope: tokens usable by any nexus that may read the LU by default, by the creator only with token_scope initiator', async () => {
    const alice = await as(ALICE, 'gw');
    const bob = await as(BOB, 'gw');
    const t = await populate(alice, 0, 7);
    expect((await writeUsing(bob, 1, t)).status).toBe(0); // default scope: bob may read nullb0 through gw
    expect(await served.lab.read('/dev/nullb1', 0, BYTES)).toEqualBytes(pattern(BYTES, 102));
    const aliceS = await as(ALICE, 'gw-scoped');
    const bobS = await as(BOB, 'gw-scoped');
    const ts = await populate(aliceS, 0, 8);
    expect(senseOf(await writeUsing(bobS, 1, ts))).toEqual(ACCESS_DENIED);
    expect(await served.lab.read('/dev/nullb5', 0, BYTES)).toEqualBytes(pattern(BYTES, 107));
    expect((await writeUsing(aliceS, 1, ts)).status).toBe(0);
    expect(await served.lab.read('/dev/nullb5', 0, BYTES)).toEqualBytes(pattern(BYTES, 106));
  });
});
