/**
 * iSCSI PDUs against the real target on a loopback port, in the three phases: before login
 * (random bytes, mutated login PDUs on fresh connections), during login (a valid first request,
 * then mutated ones: stages, flags, CHAP and operational keys, continuations), and in the full
 * feature phase of a logged-in session (mutated SCSI Commands with CDBs naming canary LUs,
 * Data-Out with wrong tags/offsets/DataSN, NOP-Out, Task Management, Text, SNACK, Logout, unknown
 * opcodes). Invariants: no handler fails ("internal error" in the target's log); the target keeps
 * answering (a fresh login and a NOP ping at every check); canary LUs (exported only by a target
 * the fuzzer may not log in to) never change; at the end, with the fuzzer's connections closed,
 * no connection, login, session or buffered Data-Out is left behind.
 */
import { createHash } from 'node:crypto';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { buildLab } from '../../src/app/scenario/run.js';
import { exportTargets } from '../../src/app/iscsi/scenario.js';
import { IscsiTarget } from '../../src/app/iscsi/target.js';
import { Cmd, Data, FLAG_FINAL, Login, Off, Op, RESERVED_TAG, Stage } from '../../src/app/iscsi/constants.js';
import { newBhs } from '../../src/app/iscsi/pdu.js';
import { putBe32 } from '../../src/core/util/bytes.js';
import { encodeText } from '../../src/app/iscsi/text.js';
import * as b from '../../devices/scsi/build.js';
import { TpcOutSa } from '../../devices/scsi/constants.js';
import type { Lab } from '../../src/app/lab.js';
import { scsiFabricOf } from '../../devices/scsi/attach.js';
import type { Prng } from '../../src/core/util/prng.js';
import { invariant, type FuzzTarget } from '../engine.js';
import { chance, mutate, patterned, pick, randomBytes } from '../mutate.js';
import { RawIscsi } from '../iscsi-client.js';

const IQN = 'iqn.2024-01.org.copylab';
const FUZZER = `${IQN}:fuzzer`;
const CANARIES = ['/dev/canary', '/dev/nullb1'] as const;

const YAML = `
devices:
  - kind: scsi
    array: fz
    lus: [ { name: work, size: 1MiB, backing: memory }, { name: canary, size: 1MiB, backing: memory } ]
  - { kind: nullblk, name: nullb0, size: 1MiB, backing: memory }
  - { kind: nullblk, name: nullb1, size: 1MiB, backing: memory }
iscsi:
  targets:
    - iqn: ${IQN}:work
      luns: [ { lun: 0, dev: /dev/work } ]
    - iqn: ${IQN}:gw
      luns: [ /dev/nullb0 ]
    - iqn: ${IQN}:canary
      luns: [ { lun: 1, dev: /dev/canary } ]
      initiators: [ ${IQN}:owner ]
    - iqn: ${IQN}:canary-gw
      luns: [ /dev/nullb1 ]
      initiators: [ ${IQN}:owner ]
      chap: { user: owner, secret: owner-secret-12 }
`;

interface State {
  readonly lab: Lab;
  readonly target: IscsiTarget;
  readonly port: number;
  readonly digests: Map<string, string>;
  readonly naas: Uint8Array[];
  readonly internalErrors: string[];
  session: RawIscsi | null;
  readonly loose: Set<RawIscsi>;
}

const LOGIN_KEYS: [string, string][] = [['HeaderDigest', 'None'], ['DataDigest', 'None'], ['ImmediateData', 'Yes'], ['InitialR2T', 'No'], ['MaxBurstLength', '262144'], ['FirstBurstLength', '65536'], ['MaxRecvDataSegmentLength', '65536']];

async function digestOf(lab: Lab, dev: string): Promise<string> {
  return createHash('sha256').update(await lab.read(dev, 0, 1 << 20)).digest('hex');
}

function cdbFor(s: State, rng: Prng): [Uint8Array, Uint8Array] {
  switch (rng.below(5)) {
    case 0: {
      const cscds = [b.e4Descriptor(pick(rng, s.naas), 512), b.e4Descriptor(pick(rng, s.naas), 512)];
      const list = b.xcopyLid1({ cscds, segments: [b.b2bSegment({ src: rng.below(2), dst: rng.below(2), blocks: rng.below(64), srcLba: rng.below(2048), dstLba: rng.below(2048) })] });
      return [b.tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID1, list.length), list];
    }
    case 1: {
      const n = rng.below(16);
      return [b.rw16Cdb(true, rng.below(2048), n), randomBytes(rng, n * 512)];
    }
    case 2:
      return [b.rw16Cdb(false, rng.below(2100), rng.below(64)), new Uint8Array(0)];
    case 3:
      return [b.inquiryCdb(pick(rng, [null, 0x83, 0x8f, 0xb0])), new Uint8Array(0)];
    default:
      return [randomBytes(rng, 16), chance(rng, 0.3) ? randomBytes(rng, rng.below(4096)) : new Uint8Array(0)];
  }
}

/** A full feature phase PDU, valid in shape for the session, before mutation. */
function ffpPdu(s: State, c: RawIscsi, rng: Prng): [Uint8Array, Uint8Array] {
  const kind = rng.below(10);
  const itt = chance(rng, 0.8) ? c.itt++ >>> 0 : pick(rng, [RESERVED_TAG, 0, c.itt - 1]);
  let bhs: Uint8Array;
  let data: Uint8Array = new Uint8Array(0);
  if (kind <= 4) {
    const [cdb, out] = cdbFor(s, rng);
    const write = out.length > 0 && chance(rng, 0.9);
    const edtl = write ? (chance(rng, 0.8) ? out.length : rng.below(1 << 20)) : pick(rng, [0, 512, 4096, 65536]);
    bhs = newBhs(Op.SCSI_COMMAND, FLAG_FINAL | (write ? Cmd.FLAG_WRITE : Cmd.FLAG_READ) | 1);
    bhs[Off.LUN + 1] = chance(rng, 0.9) ? 0 : rng.below(4);
    putBe32(bhs, Cmd.OFF_EDTL, edtl);
    bhs.set(cdb.subarray(0, 16), Cmd.OFF_CDB);
    data = write ? out.subarray(0, Math.min(out.length, rng.below(2) ? 65536 : rng.below(out.length + 1))) : data;
  } else if (kind === 5) {
    bhs = newBhs(Op.DATA_OUT, chance(rng, 0.7) ? FLAG_FINAL : 0);
    putBe32(bhs, Off.TTT, chance(rng, 0.5) ? RESERVED_TAG : rng.nextU32());
    putBe32(bhs, Data.OFF_DATASN, rng.below(4));
    putBe32(bhs, Data.OFF_BUFFER_OFFSET, pick(rng, [0, 512, 65536, rng.nextU32()]));
    data = randomBytes(rng, pick(rng, [0, 512, 4096]));
  } else if (kind === 6) {
    bhs = newBhs(Op.NOP_OUT | (chance(rng, 0.5) ? 0x40 : 0), FLAG_FINAL);
    putBe32(bhs, Off.TTT, RESERVED_TAG);
    data = randomBytes(rng, rng.below(128));
  } else if (kind === 7) {
    bhs = newBhs(Op.TASK_MGMT_REQUEST | 0x40, FLAG_FINAL | rng.below(16));
    putBe32(bhs, 20, (c.itt - 1 - rng.below(4)) >>> 0); // referenced task tag
  } else if (kind === 8) {
    bhs = newBhs(Op.TEXT_REQUEST, FLAG_FINAL);
    putBe32(bhs, Off.TTT, RESERVED_TAG);
    data = encodeText([[pick(rng, ['SendTargets', 'MaxBurstLength', 'X-vendor']), pick(rng, ['All', '', '1', 'x'.repeat(rng.below(300))])]]);
  } else {
    bhs = newBhs(pick(rng, [Op.SNACK_REQUEST, Op.LOGIN_REQUEST, Op.LOGOUT_REQUEST, 0x1c, 0x3e, rng.below(64)]), FLAG_FINAL | rng.below(8));
  }
  putBe32(bhs, Off.ITT, itt);
  putBe32(bhs, Off.CMDSN, chance(rng, 0.9) ? c.cmdSN : rng.nextU32());
  if (chance(rng, 0.9) && (bhs[0]! & 0x40) === 0) c.cmdSN = (c.cmdSN + 1) >>> 0;
  putBe32(bhs, Off.EXP_STATSN, c.expStatSN);
  return [bhs, data];
}

/** Mutates a BHS (never its data segment length: that one is exercised by raw cases). */
function mutateBhs(rng: Prng, bhs: Uint8Array): Uint8Array {
  const m = mutate(rng, bhs, 48);
  const out = new Uint8Array(48);
  out.set(m.subarray(0, 48));
  out[4] = chance(rng, 0.9) ? 0 : out[4]!; // TotalAHSLength: mostly none
  return out;
}

async function session(s: State): Promise<RawIscsi> {
  if (s.session && !s.session.closed) return s.session;
  s.session?.close();
  const c = await RawIscsi.open(s.port);
  const ok = await c.login(FUZZER, `${IQN}:${s.naas.length % 2 ? 'work' : 'gw'}`, LOGIN_KEYS, 0x100000 + (s.loose.size & 0xffff));
  invariant(ok, 'the fuzzer cannot log in: the target stopped accepting logins');
  s.session = c;
  return c;
}

export const iscsiPdus: FuzzTarget<State> = {
  name: 'iscsi-pdu',
  what: 'iSCSI PDUs before login, during login and in the full feature phase, through TCP',
  weight: 3,
  async setup() {
    const sc = parseScenarioText(YAML, 'fuzz');
    const lab = buildLab(sc);
    const internalErrors: string[] = [];
    const target = new IscsiTarget({ targets: exportTargets(lab, sc.iscsi!), admission: { loginTimeoutMs: 2000, chapFailureDelayMs: 0 }, log: (m) => { if (/internal error/.test(m) && internalErrors.length < 16) internalErrors.push(m); } });
    const port = (await target.listen({ host: '127.0.0.1', port: 0 })).port;
    await lab.write('/dev/canary', 0, patterned(1 << 20, 91));
    await lab.write('/dev/nullb1', 0, patterned(1 << 20, 92));
    const digests = new Map<string, string>();
    for (const d of CANARIES) digests.set(d, await digestOf(lab, d));
    const naas = [...scsiFabricOf(lab).arrays.values()].flatMap((a) => a.lus.map((l) => l.naa));
    return { lab, target, port, digests, naas, internalErrors, session: null, loose: new Set() };
  },
  async one(s, rng) {
    const phase = rng.below(10);
    if (phase < 2) {
      // Before login: random bytes or a mutated login PDU on a fresh connection.
      const c = await RawIscsi.open(s.port, false);
      const login = c.loginBhs(Stage.SECURITY_NEGOTIATION, Stage.OPERATIONAL_NEGOTIATION, true);
      const text = encodeText([['InitiatorName', FUZZER], ['TargetName', `${IQN}:work`], ['AuthMethod', 'None']]);
      const bytes = chance(rng, 0.3) ? randomBytes(rng, 1 + rng.below(512)) : mutate(rng, new Uint8Array([...login.slice(0, 5), 0, 0, text.length, ...login.slice(8), ...text]), 4096);
      c.raw(bytes);
      c.sock.end();
      return;
    }
    if (phase < 4) {
      // During login: a valid first request, then a mutated one (or a mutated first).
      const c = await RawIscsi.open(s.port, false);
      s.loose.add(c);
      const first: [string, string][] = [['InitiatorName', chance(rng, 0.9) ? FUZZER : `${IQN}:owner`], ['TargetName', `${IQN}:${pick(rng, ['work', 'gw', 'canary', 'canary-gw', 'none'])}`], ['SessionType', pick(rng, ['Normal', 'Discovery'])], ['AuthMethod', pick(rng, ['None', 'CHAP', 'CHAP,None'])]];
      const l1 = c.loginBhs(Stage.SECURITY_NEGOTIATION, Stage.OPERATIONAL_NEGOTIATION, chance(rng, 0.5));
      if (chance(rng, 0.5)) c.send(l1, encodeText(first));
      else c.send(mutateBhs(rng, l1), mutate(rng, encodeText(first), 8192));
      const keys: [string, string][] = [...LOGIN_KEYS, ['CHAP_A', '5'], ['CHAP_N', 'owner'], ['CHAP_R', `0x${Buffer.from(randomBytes(rng, 16)).toString('hex')}`], ['MaxConnections', String(rng.nextU32())]];
      const chosen = keys.filter(() => chance(rng, 0.4));
      const l2 = c.loginBhs(pick(rng, [0, 1, 2, 3]), pick(rng, [0, 1, 2, 3]), chance(rng, 0.7));
      if (chance(rng, 0.3)) l2[Off.FLAGS] = l2[Off.FLAGS]! | Login.FLAG_CONTINUE;
      c.send(chance(rng, 0.5) ? mutateBhs(rng, l2) : l2, mutate(rng, encodeText(chosen), 8192));
      c.sock.end();
      if (s.loose.size > 64) for (const x of s.loose) if (x.closed) s.loose.delete(x);
      return;
    }
    // Full feature phase.
    const c = await session(s);
    const [bhs, data] = ffpPdu(s, c, rng);
    c.send(chance(rng, 0.4) ? mutateBhs(rng, bhs) : bhs, data);
    if (chance(rng, 0.05)) {
      // Resynchronize now and then: a session the fuzz stalled (a PDU announcing data never sent) is replaced.
      if (!(await c.ping(150))) {
        c.close();
        s.session = null;
      }
    }
  },
  async check(s) {
    invariant(s.internalErrors.length === 0, `the target failed inside a handler: ${s.internalErrors[0]}`);
    const probe = await RawIscsi.open(s.port);
    try {
      invariant(await probe.login(FUZZER, `${IQN}:work`, LOGIN_KEYS, 0x7ffff0), 'a fresh login failed: the target stopped answering');
      invariant(await probe.ping(2000), 'a fresh session got no NOP-In');
    } finally {
      probe.close();
    }
    for (const d of CANARIES) invariant((await digestOf(s.lab, d)) === s.digests.get(d), `canary ${d} changed`);
  },
  async teardown(s) {
    s.session?.close();
    for (const c of s.loose) c.close();
    // Everything the fuzzer held goes away once its connections are closed.
    const end = Date.now() + 5000;
    while (Date.now() < end && (s.target.connectionCount > 0 || s.target.sessionCount > 0)) await new Promise((r) => setTimeout(r, 20));
    const left = { connections: s.target.connectionCount, sessions: s.target.sessionCount, preLogin: s.target.preLoginCount, dataOut: s.target.dataOut.bytes };
    await s.target.close(100);
    await s.lab.close();
    invariant(left.connections === 0 && left.sessions === 0 && left.preLogin === 0 && left.dataOut === 0, `state left behind after the run: ${JSON.stringify(left)}`);
  },
};
