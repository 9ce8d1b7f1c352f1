/**
 * SCSI CDBs and parameter lists against an array, as a transport delivers them (an I_T nexus
 * with a LUN map): EXTENDED COPY (LID1, LID4) naming work and canary LUs by NAA, POPULATE TOKEN
 * and WRITE USING TOKEN (with real, stale, zero and random tokens), RECEIVE COPY RESULTS and ROD
 * TOKEN INFORMATION, COMPARE AND WRITE, UNMAP, WRITE SAME, READ/WRITE, INQUIRY, random opcodes;
 * each built valid, then mutated. Invariants: execute never throws; the status is one SAM-5
 * allows with well-formed sense; a canary LU (another initiator's, and one of another array) is
 * never written; a command refused with anything but COPY ABORTED writes nothing; token and
 * copy-result tables stay bounded, and no copy operation's record outlives its command. Now and
 * then another initiator takes or releases WRITE EXCLUSIVE on LUN 1, so copies meet a
 * reservation.
 */
import { createHash } from 'node:crypto';
import { ScsiFabric, type ScsiArray } from '../../devices/scsi/array.js';
import type { LogicalUnit } from '../../devices/scsi/lu.js';
import * as b from '../../devices/scsi/build.js';
import { Op, PrOutSa, PrType, SenseKey, Status, TpcInSa, TpcOutSa } from '../../devices/scsi/constants.js';
import { TPC_LIMITS } from '../../devices/scsi/tpc-limits.js';
import { patterned } from '../mutate.js';
import type { Prng } from '../../src/core/util/prng.js';
import { invariant, type FuzzTarget } from '../engine.js';
import { chance, mutate, pick, randomBytes } from '../mutate.js';

const FUZZER = 'iqn.2024-01.org.copylab:fuzzer';
const OWNER = 'iqn.2024-01.org.copylab:owner';
/** LUNs of array `fz` the fuzzer's target exports; LUN 2 (the canary) is not among them. */
const EXPORTED = [0, 1] as const;
const STATUSES = new Set<number>([Status.GOOD, Status.CHECK_CONDITION, Status.RESERVATION_CONFLICT, Status.TASK_SET_FULL]);

interface State {
  readonly fabric: ScsiFabric;
  readonly fz: ScsiArray;
  readonly canaries: readonly { lu: LogicalUnit; digest: string }[];
  readonly naas: readonly Uint8Array[];
  tokens: Uint8Array[];
  writes: number;
  canaryWrites: number;
  /** OWNER holds WRITE EXCLUSIVE on LUN 1. */
  reserved: boolean;
}

const OWNER_KEY = 0x0e0en;

/** OWNER takes (registering first) or releases WRITE EXCLUSIVE on LUN 1. */
function toggleReservation(s: State): void {
  const steps = s.reserved ? [[PrOutSa.RELEASE, OWNER_KEY, 0n]] as const : [[PrOutSa.REGISTER_AND_IGNORE_EXISTING_KEY, 0n, OWNER_KEY], [PrOutSa.RESERVE, OWNER_KEY, 0n]] as const;
  for (const [sa, key, saKey] of steps) {
    const { cdb, data } = b.prOut(sa, PrType.WRITE_EXCLUSIVE, key, saKey);
    const r = s.fz.execute(OWNER, 1, cdb, data);
    invariant(r.status === Status.GOOD, `the owner's PERSISTENT RESERVE OUT ${sa} failed: status 0x${r.status.toString(16)}`);
  }
  s.reserved = !s.reserved;
}

const digest = (lu: LogicalUnit): string => createHash('sha256').update(lu.read(0, lu.blocks)).digest('hex');

function ranges(rng: Prng, blocks: number): { lba: number; blocks: number }[] {
  return Array.from({ length: 1 + rng.below(3) }, () => ({ lba: rng.below(blocks + 8), blocks: rng.below(64) }));
}

/** One command, valid in shape, for a random LUN: [lun, cdb, data]. */
function command(s: State, rng: Prng): [number, Uint8Array, Uint8Array | undefined] {
  const lun = chance(rng, 0.9) ? pick(rng, EXPORTED) : pick(rng, [2, 3, 255, 16383]);
  const blocks = 2048;
  switch (rng.below(12)) {
    case 0:
    case 1: {
      const lid4 = chance(rng, 0.5);
      const cscds = Array.from({ length: 1 + rng.below(3) }, () => b.e4Descriptor(chance(rng, 0.9) ? pick(rng, s.naas) : randomBytes(rng, 16), pick(rng, [512, 4096])));
      const segments = Array.from({ length: 1 + rng.below(3) }, () => b.b2bSegment({ src: rng.below(cscds.length + 1), dst: rng.below(cscds.length + 1), blocks: rng.below(128), srcLba: rng.below(blocks + 16), dstLba: rng.below(blocks + 16), dc: chance(rng, 0.2) }));
      const l = { listId: rng.below(256), usage: pick(rng, [0, 2, 3]), cscds, segments, immed: lid4 && chance(rng, 0.2) };
      const list = lid4 ? b.xcopyLid4(l) : b.xcopyLid1(l);
      return [lun, b.tpcOutCdb(lid4 ? TpcOutSa.EXTENDED_COPY_LID4 : TpcOutSa.EXTENDED_COPY_LID1, list.length), list];
    }
    case 2: {
      const list = b.populateTokenList(ranges(rng, blocks), { timeout: pick(rng, [0, 1, 60]) });
      return [lun, b.tpcOutCdb(TpcOutSa.POPULATE_TOKEN, list.length, rng.below(8)), list];
    }
    case 3: {
      const token = s.tokens.length && chance(rng, 0.7) ? pick(rng, s.tokens) : chance(rng, 0.5) ? b.zeroRodToken() : randomBytes(rng, 512);
      const list = b.writeUsingTokenList(token, ranges(rng, blocks), { offset: chance(rng, 0.8) ? 0 : rng.below(64), delTkn: chance(rng, 0.1) });
      return [lun, b.tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, list.length, rng.below(8)), list];
    }
    case 4:
      return [lun, b.tpcInCdb(pick(rng, [TpcInSa.RECEIVE_COPY_STATUS_LID1, TpcInSa.RECEIVE_COPY_STATUS_LID4, TpcInSa.RECEIVE_COPY_FAILURE_DETAILS_LID1, TpcInSa.RECEIVE_COPY_OPERATING_PARAMETERS, TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, TpcInSa.REPORT_ALL_ROD_TOKENS]), rng.below(8), pick(rng, [0, 16, 4096])), undefined];
    case 5: {
      const n = rng.below(4);
      const c = new Uint8Array(16);
      c[0] = Op.COMPARE_AND_WRITE;
      new DataView(c.buffer).setBigUint64(2, BigInt(rng.below(blocks + 4)));
      c[13] = n;
      return [lun, c, randomBytes(rng, 2 * n * 512)];
    }
    case 6: {
      const u = b.unmap(ranges(rng, blocks));
      return [lun, u.cdb, u.data];
    }
    case 7:
      return [lun, b.writeSame16Cdb(rng.below(blocks + 4), rng.below(256), chance(rng, 0.5), chance(rng, 0.2)), randomBytes(rng, 512)];
    case 8: {
      const write = chance(rng, 0.5);
      const n = rng.below(16);
      return [lun, b.rw16Cdb(write, rng.below(blocks + 4), n), write ? randomBytes(rng, n * 512) : undefined];
    }
    case 9:
      return [lun, b.inquiryCdb(chance(rng, 0.5) ? null : pick(rng, [0x00, 0x80, 0x83, 0x86, 0x8f, 0xb0, 0xb2, rng.below(256)])), undefined];
    case 10:
      return [lun, b.reportLunsCdb(), undefined];
    default:
      return [lun, randomBytes(rng, pick(rng, [6, 10, 12, 16, 32])), chance(rng, 0.5) ? randomBytes(rng, rng.below(1024)) : undefined];
  }
}

export const scsiCommands: FuzzTarget<State> = {
  name: 'scsi-cdb',
  what: 'CDBs and parameter lists: EXTENDED COPY, tokens, COMPARE AND WRITE, UNMAP, WRITE SAME, READ/WRITE, INQUIRY',
  weight: 14.4,
  async setup() {
    const fabric = new ScsiFabric();
    const lus = [{ name: 'w0', size: 1 << 20, backing: 'memory' as const }, { name: 'w1', size: 1 << 20, lbs: 4096 as const, backing: 'memory' as const }, { name: 'canary', size: 1 << 20, backing: 'memory' as const }];
    const fz = fabric.addArray({ name: 'fz', lus, initiators: { [FUZZER]: [0, 1, 2], [OWNER]: [0, 1, 2] } });
    const other = fabric.addArray({ name: 'other', lus: [{ name: 'canary2', size: 1 << 20, backing: 'memory' }] });
    const c1 = fz.lus[2]!;
    const c2 = other.lus[0]!;
    c1.write(0, patterned(1 << 20, 77));
    c2.write(0, patterned(1 << 20, 78));
    const s: State = {
      fabric, fz, naas: [...fz.lus, c2].map((l) => l.naa), tokens: [], writes: 0, canaryWrites: 0, reserved: false,
      canaries: [c1, c2].map((lu) => ({ lu, digest: digest(lu) })),
    };
    fz.lus[0]!.onWrite(() => s.writes++);
    fz.lus[1]!.onWrite(() => s.writes++);
    for (const c of [c1, c2]) c.onWrite(() => s.canaryWrites++);
    return s;
  },
  async one(s, rng) {
    if (chance(rng, 0.02)) toggleReservation(s);
    let [lun, cdb, data] = command(s, rng);
    if (chance(rng, 0.4)) cdb = mutate(rng, cdb, 32);
    if (data && chance(rng, 0.5)) data = mutate(rng, data, 1 << 16);
    const writesBefore = s.writes;
    const r = s.fz.execute(FUZZER, lun, cdb, data, pick(rng, [0, 255, 4096, 65536]), EXPORTED);
    invariant(STATUSES.has(r.status), `status 0x${r.status.toString(16)} for CDB ${Buffer.from(cdb).toString('hex')}`);
    invariant(s.canaryWrites === 0, `a canary LU was written by CDB ${Buffer.from(cdb).toString('hex')}`);
    // On an untimed array every copy operation ends inside its command, whatever its answer.
    invariant(s.fz.copyManager.lists.running === 0, `a copy operation record stayed in progress after CDB ${Buffer.from(cdb).toString('hex')}`);
    if (r.status === Status.CHECK_CONDITION) {
      const code = r.senseData[0]! & 0x7f;
      invariant(r.senseData.length >= 18 && (code === 0x70 || code === 0x71), `malformed sense for CDB ${Buffer.from(cdb).toString('hex')}`);
    }
    const key = r.status === Status.CHECK_CONDITION ? r.senseData[2]! & 0x0f : -1;
    if (r.status !== Status.GOOD && key !== SenseKey.COPY_ABORTED) {
      invariant(s.writes === writesBefore, `a refused command (status 0x${r.status.toString(16)}, key ${key}) wrote: CDB ${Buffer.from(cdb).toString('hex')}`);
    }
    if (r.status === Status.GOOD && cdb[0] === Op.THIRD_PARTY_COPY_IN && (cdb[1]! & 0x1f) === TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION) {
      const t = b.tokenFromRrti(r.dataIn);
      if (t) s.tokens = [...s.tokens.slice(-15), t];
    }
  },
  async check(s) {
    for (const c of s.canaries) invariant(digest(c.lu) === c.digest, `canary ${c.lu.name} changed`);
    invariant(s.fz.tokens.size <= TPC_LIMITS.maxTokens, `token store holds ${s.fz.tokens.size}`);
    invariant(s.fz.copyManager.lists.size <= TPC_LIMITS.maxFinishedListsPerArray, `copy manager holds ${s.fz.copyManager.lists.size} records`);
  },
  async teardown() {},
};
