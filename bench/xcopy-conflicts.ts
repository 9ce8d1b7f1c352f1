/**
 * `npm run bench:xcopy-conflicts [-- --commands=N]`: EXTENDED COPY commands that meet a
 * reservation, against an in-process iSCSI target (docs/reliability.md, "Copy operation records").
 *
 * Bob registers and takes WRITE EXCLUSIVE on LUN 1; Alice sends N EXTENDED COPY (LID4) commands
 * into LUN 1, each with its own list identifier (LIST ID USAGE 00b), 32 in flight. Each one gets
 * RESERVATION CONFLICT. Before and after, Carol times 500 EXTENDED COPY (LID4) commands of her
 * own (8 blocks, LUN 0 to LUN 0, one at a time), and the heap (after a forced GC) and RSS are
 * read. Then Bob releases the reservation, and Alice asks RECEIVE COPY STATUS (LID4) for her
 * first, middle and last list identifiers and reuses the first one.
 *
 * `--control`: Alice sends READ CAPACITY (16) instead, which the copy manager never sees: what
 * the process's memory does under the same number of commands without copy records (RSS grows
 * with the allocator's high-water mark either way; the records live in the heap).
 *
 * A benchmark, not a test: it prints figures, it asserts nothing. Run with --expose-gc (the npm
 * script does) for heap figures that are not the collector's timing.
 */
import { parseScenarioText } from '../src/app/scenario/parse.js';
import { buildLab } from '../src/app/scenario/run.js';
import { exportTargets } from '../src/app/iscsi/scenario.js';
import { IscsiTarget } from '../src/app/iscsi/target.js';
import { DEFAULT_ISCSI_IQN, DEFAULT_ISCSI_SCENARIO_YAML } from '../src/app/iscsi/default-scenario.js';
import { scsiFabricOf } from '../devices/scsi/attach.js';
import { PipelinedInitiator, type Completion } from '../src/harness/pipelined-initiator.js';
import { b2bSegment, e4Descriptor, inquiryCdb, prOut, readCapacity16Cdb, tpcInCdb, tpcOutCdb, xcopyLid4 } from '../devices/scsi/build.js';
import { PrOutSa, PrType, Status, TpcInSa, TpcOutSa, Vpd } from '../devices/scsi/constants.js';
import { decodeSense } from '../devices/scsi/sense.js';
import { table, flag } from './common.js';

const INI = 'iqn.2024-01.org.copylab';
const PROBE = 500;
const DEPTH = 32;
const BOB_KEY = 0xb0bn;

const commands = Math.min(1_000_000, Math.floor(flag('commands', 20_000)));
const control = process.argv.includes('--control');
const MiB = 2 ** 20;

const gc = (globalThis as { gc?: () => void }).gc;
function memory(): { heap: number; heapTotal: number; external: number; rss: number } {
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed / MiB, heapTotal: m.heapTotal / MiB, external: m.external / MiB, rss: m.rss / MiB };
}

function describe(r: Completion): string {
  if (r.status === Status.GOOD) return 'GOOD';
  if (r.status === Status.CHECK_CONDITION) {
    const s = decodeSense(r.sense);
    return s ? `CHECK CONDITION ${[s.key, s.asc, s.ascq].map((x) => x.toString(16).padStart(2, '0')).join('/')}` : 'CHECK CONDITION';
  }
  return `status ${r.status.toString(16).padStart(2, '0')}h`;
}

const COPY_STATUS: Record<number, string> = { 0x01: 'completed', 0x02: 'completed with error', 0x10: 'in progress', 0x11: 'in progress (fg)', 0x12: 'in progress (bg)', 0x60: 'aborted' };

const s = parseScenarioText(DEFAULT_ISCSI_SCENARIO_YAML, 'bench');
const lab = buildLab(s);
const target = new IscsiTarget({ targets: exportTargets(lab, s.iscsi!) });
const port = (await target.listen({ host: '127.0.0.1', port: 0 })).port;
const session = async (name: string, isid: number): Promise<PipelinedInitiator> => {
  const i = await PipelinedInitiator.open('127.0.0.1', port);
  await i.login(`${INI}:${name}`, DEFAULT_ISCSI_IQN, isid);
  return i;
};
const [alice, bob, carol] = [await session('alice', 1), await session('bob', 2), await session('carol', 3)];
const naa = async (lun: number): Promise<Uint8Array> => (await carol.command(lun, inquiryCdb(Vpd.DEVICE_IDENTIFICATION), { readLength: 255 })).dataIn.slice(8, 24);
const [naa0, naa1] = [await naa(0), await naa(1)];
const xcopy = (i: PipelinedInitiator, listId: number, dst: Uint8Array): Promise<Completion> => {
  const list = xcopyLid4({ listId, cscds: [e4Descriptor(naa0, 512), e4Descriptor(dst, 512)], segments: [b2bSegment({ src: 0, dst: 1, blocks: 8, srcLba: 0, dstLba: 8 })] });
  return i.command(0, tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), { dataOut: list });
};
const pr = (sa: number, key: bigint, saKey: bigint): Promise<Completion> => {
  const { cdb, data } = prOut(sa, PrType.WRITE_EXCLUSIVE, key, saKey);
  return bob.command(1, cdb, { dataOut: data });
};

/** Carol's 500 commands, one at a time; milliseconds. */
let carolId = 0;
async function probe(): Promise<number> {
  const t0 = performance.now();
  for (let k = 0; k < PROBE; k++) {
    const r = await xcopy(carol, ++carolId, naa0);
    if (r.status !== Status.GOOD) throw new Error(`Carol's EXTENDED COPY ${carolId}: ${describe(r)}`);
  }
  return performance.now() - t0;
}

try {
  console.log(control ? `control: Alice sends ${commands} READ CAPACITY (16), ${DEPTH} in flight` : `Bob holds WRITE EXCLUSIVE on LUN 1; Alice sends ${commands} EXTENDED COPY (LID4) into it, ${DEPTH} in flight`);
  for (const [sa, key, saKey] of [[PrOutSa.REGISTER, 0n, BOB_KEY], [PrOutSa.RESERVE, BOB_KEY, 0n]] as const) {
    const r = await pr(sa, key, saKey);
    if (r.status !== Status.GOOD) throw new Error(`Bob's PERSISTENT RESERVE OUT ${sa}: ${describe(r)}`);
  }
  const before = memory();
  const probeBefore = await probe();
  const answers = new Map<string, number>();
  let next = 1;
  let floodMs = 0;
  /** Alice's commands up to list identifier `upTo`, DEPTH in flight. */
  const flood = async (upTo: number): Promise<void> => {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: DEPTH }, async () => {
      while (next <= upTo) {
        const id = next++;
        const r = control ? await alice.command(0, readCapacity16Cdb(), { readLength: 32 }) : await xcopy(alice, id, naa1);
        const d = describe(r);
        answers.set(d, (answers.get(d) ?? 0) + 1);
      }
    }));
    floodMs += performance.now() - t0;
  };
  await flood(Math.ceil(commands / 10));
  const tenth = memory();
  await flood(commands);
  const after = memory();
  const probeAfter = await probe();
  const t = table(['when', 'heap used MiB', 'heap total MiB', 'external MiB', 'RSS MiB', `Carol: ${PROBE} EXTENDED COPY, ms`], ['left', 'right', 'right', 'right', 'right', 'right']);
  for (const [when, m, ms] of [['before', before, probeBefore.toFixed(0)], [`after ${Math.ceil(commands / 10)}`, tenth, ''], [`after ${commands}`, after, probeAfter.toFixed(0)]] as const) {
    t.push([when, m.heap.toFixed(1), m.heapTotal.toFixed(1), m.external.toFixed(1), m.rss.toFixed(1), ms]);
  }
  console.log(t.toString());
  console.log(`Alice's ${commands} commands took ${(floodMs / 1000).toFixed(1)} s: ${[...answers].map(([d, n]) => `${n} × ${d}`).join(', ')}`);
  const cm = scsiFabricOf(lab).arrays.get('lab')!.copyManager;
  console.log(`copy manager records: ${cm.lists.size} (${cm.lists.running} in progress)`);
  const r = await pr(PrOutSa.RELEASE, BOB_KEY, 0n);
  console.log(`Bob releases the reservation: ${describe(r)}`);
  for (const id of [1, Math.ceil(commands / 2), commands]) {
    const st = await alice.command(0, tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, id, 64), { readLength: 64 });
    const what = st.status === Status.GOOD ? `copy operation status ${st.dataIn[5]!.toString(16).padStart(2, '0')}h (${COPY_STATUS[st.dataIn[5]!] ?? '?'}), command status ${st.dataIn[12]!.toString(16).padStart(2, '0')}h` : describe(st);
    console.log(`RECEIVE COPY STATUS (LID4) for Alice's list ${id}: ${what}`);
  }
  console.log(`Alice reuses list identifier 1: ${describe(await xcopy(alice, 1, naa1))}`);
} finally {
  for (const i of [alice, bob, carol]) i.close();
  await target.close(100);
  await lab.close();
}
