/**
 * Fault campaign 4: an iSCSI connection dropped (the socket closed, no Logout) while a WRITE waits
 * for the rest of its Data-Out and while an EXTENDED COPY (LID4) with IMMED=1 runs in the
 * background on a timed SCSI array (the lab's clock in realtime, so the copy takes wall time).
 * In some rounds another session of the same initiator stays logged in (the array's I_T nexus is
 * the initiator's name, so its copy goes on). Checks, within bounded waits:
 * - the dropped session ends: no connection, session or buffered Data-Out is left at the target;
 * - the copy's record ends: RECEIVE COPY STATUS answers an ended status (not 10h-12h, in
 *   progress) or does not know the list identifier (INVALID FIELD IN CDB, the nexus's records
 *   dropped with it);
 * - the blocks the copy wrote hold their old or their copied content, and stop changing once the
 *   record has ended (no copy goes on without a record); the cut write's blocks hold old or new;
 * - a new session logs in, writes and reads back, and at the end of the round nothing is left.
 * Seeded (regions, lengths, where the Data-Out stops, when the drop comes relative to the copy's
 * progress); the wall clock decides how far the copy got, and the checks hold for every outcome.
 */
import { parseScenarioText } from '../../app/scenario/parse.js';
import { buildLab } from '../../app/scenario/run.js';
import { exportTargets } from '../../app/iscsi/scenario.js';
import { IscsiTarget } from '../../app/iscsi/target.js';
import { Status } from '../../../devices/scsi/constants.js';
import { CopyStatus, TpcInSa, TpcOutSa } from '../../../devices/scsi/constants.js';
import * as b from '../../../devices/scsi/build.js';
import { be64 } from '../../core/util/bytes.js';
import { Prng } from '../../core/util/prng.js';
import { PipelinedInitiator, type Completion } from '../pipelined-initiator.js';
import { ShadowDisk, type BlockSnapshot } from './shadow-disk.js';
import { roundSeed, within } from './bounded.js';
import { Tally, type CampaignReport } from './report.js';

export interface IscsiDropOptions {
  readonly seed: number;
  readonly rounds: number;
  /** Modeled copy speed of the array (MB/s): lower makes each background copy last longer. */
  readonly xcopyMbps?: number;
  readonly waitMs?: number;
  /** Runs once the dropped copy's record has ended, before its blocks are checked (tests plant a change): a write to the array's LU, and where the copy writes. */
  readonly afterDrop?: (write: (lun: number, lba: number, data: Uint8Array) => Promise<void>, copyDestination: { readonly lun: number; readonly lba: number; readonly blocks: number }) => Promise<void>;
}

/** The timed array's own target (its copy manager runs EXTENDED COPY in the background), and a gateway target for a nullblk device (commands become bios). */
const ARRAY_IQN = 'iqn.2024-01.org.copylab:faults-array';
const GATEWAY_IQN = 'iqn.2024-01.org.copylab:faults-gateway';
const INITIATOR = 'iqn.2024-01.org.copylab:faults-initiator';
const BS = 4096;
const LU_BYTES = 8 * 1024 * 1024;
const BLOCKS = LU_BYTES / BS;
/** Blocks per region: the copy's source and destination, the cut write, the new session's check. */
const REGION = 256;

/** Polls `ok` every few milliseconds until it holds; false after `ms`. */
async function until(ok: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await ok()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** What RECEIVE COPY STATUS (LID4) says of a list identifier: its status byte and transfer count, or unknown. */
async function copyStatus(s: PipelinedInitiator, listId: number): Promise<{ known: false } | { known: true; status: number; transferred: number }> {
  const r = await s.command(0, b.tpcInCdb(TpcInSa.RECEIVE_COPY_STATUS_LID4, listId, 64), { readLength: 64 });
  if (r.status === Status.CHECK_CONDITION) return { known: false };
  if (r.status !== Status.GOOD) throw new Error(`RECEIVE COPY STATUS ended with status ${r.status}`);
  return { known: true, status: r.dataIn[5]!, transferred: be64(r.dataIn, 16) };
}

const inProgress = (status: number): boolean => status === CopyStatus.IN_PROGRESS || (status >= CopyStatus.LID4_IN_PROGRESS_FOREGROUND && status <= CopyStatus.LID4_IN_PROGRESS_BG);

export async function iscsiDropCampaign(o: IscsiDropOptions): Promise<CampaignReport> {
  const tally = new Tally('iscsi-drop', o.seed);
  const wait = o.waitMs ?? 20_000;
  const sc = parseScenarioText(`
lab: { clock: realtime }
devices:
  - { kind: nullblk, name: nullb0, size: ${LU_BYTES}, lbs: ${BS}, backing: memory }
  - kind: scsi
    array: arr
    timing: { preset: sas-array, xcopy_mbps: ${o.xcopyMbps ?? 4} }
    lus: [ { name: sda, size: ${LU_BYTES}, lbs: ${BS} }, { name: sdb, size: ${LU_BYTES}, lbs: ${BS} } ]
iscsi:
  targets:
    - iqn: ${ARRAY_IQN}
      luns: [ /dev/sda, /dev/sdb ]
    - iqn: ${GATEWAY_IQN}
      luns: [ /dev/nullb0 ]
`, 'faults');
  const lab = buildLab(sc);
  const target = new IscsiTarget({ targets: exportTargets(lab, sc.iscsi!) });
  const open: PipelinedInitiator[] = [];
  let isid = 0x100;
  let port = 0;
  const session = async (iqn = ARRAY_IQN): Promise<PipelinedInitiator> => {
    const s = await within(PipelinedInitiator.open('127.0.0.1', port), wait, 'connecting');
    open.push(s);
    await within(s.login(INITIATOR, iqn, isid++), wait, 'a login');
    return s;
  };
  const cmd = (s: PipelinedInitiator, what: string, lun: number, cdb: Uint8Array, x: { dataOut?: Uint8Array; readLength?: number } = {}): Promise<Completion> => within(s.command(lun, cdb, x), wait, what);
  // The array's LUNs 0 and 1, and the gateway's LUN 0 (index 2).
  const models = [new ShadowDisk(BLOCKS, BS), new ShadowDisk(BLOCKS, BS), new ShadowDisk(BLOCKS, BS)];
  /** The target and LUN of a model. */
  const where = (m: number): { iqn: string; lun: number } => (m === 2 ? { iqn: GATEWAY_IQN, lun: 0 } : { iqn: ARRAY_IQN, lun: m });
  try {
    port = (await target.listen({ host: '127.0.0.1', port: 0 })).port;
    const setup = await session();
    const gw = await session(GATEWAY_IQN);
    const naa = await Promise.all([0, 1].map(async (lun) => (await cmd(setup, 'INQUIRY', lun, b.inquiryCdb(0x83), { readLength: 255 })).dataIn.slice(8, 24)));
    let seeds = 1;
    // Every block gets a pattern first, so old and copied content differ.
    for (const m of [0, 1, 2]) {
      const seed = seeds++;
      const data = models[m]!.data(0, BLOCKS, seed);
      for (let at = 0; at < BLOCKS; at += REGION) {
        const r = await cmd(m === 2 ? gw : setup, 'a first write', where(m).lun, b.rw16Cdb(true, at, REGION), { dataOut: data.subarray(at * BS, (at + REGION) * BS) });
        if (r.status !== Status.GOOD) throw new Error(`first write of ${where(m).iqn} LUN ${where(m).lun} block ${at}: status ${r.status}`);
      }
      models[m]!.write(0, BLOCKS, seed);
    }
    setup.close();
    gw.close();
    let listId = 1;

    for (let round = 0; round < o.rounds; round++) {
      const rs = roundSeed(o.seed, round);
      const rng = new Prng(rs);
      const problems: string[] = [];
      const note = (p: string): void => void problems.push(p);
      seeds = (rs % 100_000) + 2;
      try {
        const a = await session();
        const keep = rng.below(3) === 0 ? await session() : null;
        // Regions: the copy's source (LUN 0) and destination (LUN 1), the cut write (LUN 0 or the gateway's), the check (LUN 1).
        const regions = rng.permutation(BLOCKS / REGION);
        const [srcR, writeR] = [regions[0]! * REGION, regions[1]! * REGION];
        const [dstR, checkR] = [regions[2]! * REGION, regions[3]! * REGION];
        const blocks = 64 + rng.below(REGION - 64);
        const id = listId++;
        const dstBefore: BlockSnapshot = models[1]!.snapshot(dstR, blocks);
        const copied: BlockSnapshot = models[0]!.snapshot(srcR, blocks);
        // The cut write (on the array's LUN 0 or the gateway's LU): its data stops part way; the task waits for Data-Out that never comes.
        const wLun = rng.below(2) === 0 ? 0 : 2;
        const wAt = where(wLun);
        // The gateway's cut write has a session of its own, dropped with the other.
        const g = wLun === 2 ? await session(GATEWAY_IQN) : null;
        const wBlocks = 16 + rng.below(REGION - 16);
        const wSeed = seeds++;
        const wData = models[wLun]!.data(writeR, wBlocks, wSeed);
        const cutAt = (1 + rng.below(wBlocks - 1)) * BS;
        const wBefore = models[wLun]!.snapshot(writeR, wBlocks);
        const wNew = models[wLun]!.written(writeR, wBlocks, wSeed);
        const cut = (g ?? a).command(wAt.lun, b.rw16Cdb(true, writeR, wBlocks), { dataOut: wData, sendLimit: cutAt }).then(() => 'answered', () => 'dropped');
        tally.ops++;
        if (!(await until(() => target.dataOut.bytes > 0 || a.closed, wait))) note('the cut write\'s Data-Out never reached the target');
        // Segments of 16 blocks: the copy's transfer count grows segment by segment.
        const segments: Uint8Array[] = [];
        for (let at = 0; at < blocks; at += 16) segments.push(b.b2bSegment({ src: 0, dst: 1, blocks: Math.min(16, blocks - at), srcLba: srcR + at, dstLba: dstR + at }));
        const list = b.xcopyLid4({ listId: id, immed: true, cscds: [b.e4Descriptor(naa[0]!, BS), b.e4Descriptor(naa[1]!, BS)], segments });
        // A quarter of the rounds cut the EXTENDED COPY's own parameter list: the copy never starts.
        const listCut = rng.below(4) === 0;
        tally.ops++;
        if (listCut) {
          void a.command(0, b.tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), { dataOut: list, sendLimit: 32 }).catch(() => undefined);
          tally.count('parameter lists cut');
        } else {
          const x = await cmd(a, 'EXTENDED COPY', 0, b.tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID4, list.length), { dataOut: list });
          if (x.status !== Status.GOOD) note(`EXTENDED COPY (IMMED) ended with status ${x.status}`);
        }
        // The drop: at once, or once the copy has moved data (polled on the same session).
        if (!listCut && rng.below(3) !== 0) await until(async () => { const st = await copyStatus(a, id); return !st.known || !inProgress(st.status) || st.transferred > 0; }, wait);
        a.close();
        g?.close();
        tally.count('connections dropped', g ? 2 : 1);
        if ((await within(cut, wait, 'the cut write after the drop')) !== 'dropped') note('the cut write was answered, though its data never all came');

        // The dropped session ends and leaves nothing buffered.
        const sessionsLeft = keep ? 1 : 0;
        if (!(await until(() => target.sessionCount === sessionsLeft && target.dataOut.bytes === 0, wait))) note(`after the drop the target holds ${target.sessionCount} sessions (want ${sessionsLeft}) and ${target.dataOut.bytes} bytes of Data-Out`);
        // The copy's record ends (seen from the session left, or a new one).
        const b2 = keep ?? await session();
        let last: Awaited<ReturnType<typeof copyStatus>> | null = null;
        const ended = await until(async () => { last = await copyStatus(b2, id); return !last.known || !inProgress(last.status); }, wait);
        const st = last as Awaited<ReturnType<typeof copyStatus>> | null;
        if (!ended) note(`the copy's record did not end: status ${st && st.known ? `0x${st.status.toString(16)}` : '?'}`);
        tally.count(st && st.known ? `copy records ended (status 0x${st.status.toString(16)})` : 'copy records gone with the nexus');
        const plant = async (lun: number, lba: number, data: Uint8Array): Promise<void> => {
          const s = keep ?? await session();
          await cmd(s, 'a planted write', lun, b.rw16Cdb(true, lba, data.length / BS), { dataOut: data });
          if (s !== keep) s.close();
        };
        if (o.afterDrop) await within(o.afterDrop(plant, { lun: 1, lba: dstR, blocks }), wait, 'the step after the drop');
        // Its blocks: old or copied, and no longer changing.
        const read = async (lun: number, lba: number, n: number): Promise<Uint8Array> => {
          const r = await cmd(b2, 'a read', lun, b.rw16Cdb(false, lba, n), { readLength: n * BS });
          if (r.status !== Status.GOOD) throw new Error(`read of LUN ${lun} block ${lba}: status ${r.status}`);
          return r.dataIn;
        };
        const first = await read(1, dstR, blocks);
        const bad = models[1]!.settle(dstR, first, [dstBefore, copied]);
        tally.blocksChecked += blocks;
        if (bad.length) note(`copy destination block ${bad[0]!.block} holds neither ${bad[0]!.want}`);
        if (listCut && models[1]!.compare(dstR, dstBefore.bytes).length) note('a copy whose parameter list never all came wrote its destination');
        // Blocks the copy changed (a block whose old content equals the copied one, from an earlier round, is not counted).
        let newBlocks = 0;
        let same = 0;
        for (let i = 0; i < blocks; i++) {
          const blk = (x: Uint8Array): Buffer => Buffer.from(x.buffer, x.byteOffset + i * BS, BS);
          if (blk(copied.bytes).equals(blk(dstBefore.bytes))) same++;
          else if (blk(first).equals(blk(copied.bytes))) newBlocks++;
        }
        tally.count('copied blocks seen', newBlocks);
        tally.count(newBlocks === 0 ? 'copies that wrote nothing' : newBlocks === blocks - same ? 'copies that wrote everything' : 'copies cut part way');
        await new Promise((r) => setTimeout(r, 30 + rng.below(40)));
        const again = await read(1, dstR, blocks);
        if (!Buffer.from(again).equals(Buffer.from(first))) note('the copy\'s destination changed after its record had ended');
        const wRead = async (): Promise<Uint8Array> => {
          if (!g) return read(0, writeR, wBlocks);
          const s = await session(GATEWAY_IQN);
          const r = await cmd(s, 'a gateway read', 0, b.rw16Cdb(false, writeR, wBlocks), { readLength: wBlocks * BS });
          if (r.status !== Status.GOOD) throw new Error(`gateway read of block ${writeR}: status ${r.status}`);
          return r.dataIn;
        };
        const wbad = models[wLun]!.settle(writeR, await wRead(), [wBefore, wNew]);
        tally.blocksChecked += 2 * blocks + wBlocks;
        if (wbad.length) note(`cut write block ${wbad[0]!.block} holds neither ${wbad[0]!.want}`);
        // A new session works: a write read back.
        const fresh = await session();
        const seed = seeds++;
        const n = 1 + rng.below(REGION);
        const data = models[1]!.data(checkR, n, seed);
        const w = await cmd(fresh, 'a write on a new session', 1, b.rw16Cdb(true, checkR, n), { dataOut: data });
        if (w.status !== Status.GOOD) note(`a new session's write ended with status ${w.status}`);
        else models[1]!.write(checkR, n, seed);
        const back = await cmd(fresh, 'a read on a new session', 1, b.rw16Cdb(false, checkR, n), { readLength: n * BS });
        const rbad = models[1]!.compare(checkR, back.dataIn);
        tally.blocksChecked += n;
        tally.ops += 4;
        if (back.status !== Status.GOOD || rbad.length) note(`a new session read back ${rbad.length} blocks that differ (status ${back.status})`);
        for (const s of open.splice(0)) s.close();
        if (!(await until(() => target.connectionCount === 0 && target.sessionCount === 0 && target.dataOut.bytes === 0, wait))) note(`at the end of the round the target holds ${target.connectionCount} connections, ${target.sessionCount} sessions, ${target.dataOut.bytes} bytes of Data-Out`);
      } catch (err) {
        note(String(err instanceof Error ? err.message : err));
      }
      for (const s of open.splice(0)) s.close();
      tally.rounds++;
      for (const p of problems) tally.fail(round, rs, p);
      if (problems.length) break;
    }
  } catch (err) {
    tally.fail(-1, o.seed, `setup: ${String(err instanceof Error ? err.message : err)}`);
  } finally {
    for (const s of open.splice(0)) s.close();
    await within(target.close(100), wait, 'closing the target').catch((e: unknown) => tally.fail(-1, o.seed, String(e)));
    await within(lab.close(), wait, 'closing the lab').catch((e: unknown) => tally.fail(-1, o.seed, String(e)));
  }
  return tally.report();
}
