/**
 * The iSCSI soak: N sessions × queue depth commands in flight against the target, for a given
 * time. Every slot (a session's queue position) owns a distinct region of a LUN and loops:
 * write a pattern seeded by (session, slot, generation) to the next position of its region,
 * read it back, compare block by block. At the end every position is read again, over iSCSI
 * and from the lab's device, and compared with the last pattern written there. Counts: blocks
 * written and verified, lost (a later read shows older or other data), corrupted (a read-back
 * differs); throughput in MiB/s and IOPS. Sessions alternate between two targets: one exporting
 * a nullblk device (gateway LU, commands become bios), one fronting a SCSI array's LU.
 * The soak test runs it briefly; `npm run soak:iscsi` (bench/soak-iscsi.ts) runs it long.
 */
import { parseScenarioText } from '../app/scenario/parse.js';
import { buildLab } from '../app/scenario/run.js';
import { exportTargets } from '../app/iscsi/scenario.js';
import { IscsiTarget } from '../app/iscsi/target.js';
import { fillPattern } from '../core/util/pattern.js';
import * as b from '../../devices/scsi/build.js';
import { PipelinedInitiator } from './pipelined-initiator.js';
import type { Lab } from '../app/lab.js';

export const SOAK_LIMITS = { maxSessions: 64, maxDepth: 64, maxSeconds: 86_400, maxIoBytes: 1024 * 1024 } as const;

export interface SoakOptions {
  readonly sessions: number;
  readonly depth: number;
  readonly seconds: number;
  /** Bytes per command (a multiple of 512). */
  readonly ioBytes: number;
  readonly seed: number;
  readonly progress?: (line: string) => void;
  /** Runs after the load, before the final reads (tests use it to damage data and see it counted). */
  readonly beforeFinalCheck?: (lab: Lab) => Promise<void>;
}

export const SOAK_DEFAULTS: SoakOptions = { sessions: 8, depth: 64, seconds: 60, ioBytes: 16 * 1024, seed: 1 };

export interface SoakReport {
  readonly sessions: number;
  readonly depth: number;
  readonly seconds: number;
  readonly writes: number;
  readonly reads: number;
  readonly bytesWritten: number;
  readonly bytesRead: number;
  readonly blocksVerified: number;
  readonly lostBlocks: number;
  readonly corruptedBlocks: number;
  readonly failedCommands: number;
  readonly firstError: string | null;
}

const IQN = 'iqn.2024-01.org.copylab';
/** Positions each slot cycles through (so a lost write shows as older data). */
const POSITIONS = 4;
const BLOCK = 512;

function seedOf(seed: number, session: number, slot: number, gen: number): number {
  return (Math.imul(seed ^ 0x9e3779b1, 0x85ebca6b) ^ Math.imul(session + 1, 0xc2b2ae35) ^ Math.imul(slot + 1, 0x27d4eb2f) ^ gen) >>> 0;
}

function blockMismatches(a: Uint8Array, want: Uint8Array): number {
  let n = 0;
  for (let off = 0; off < want.length; off += BLOCK) {
    for (let i = off; i < off + BLOCK; i++) {
      if (a[i] !== want[i]) {
        n++;
        break;
      }
    }
  }
  return n;
}

export async function soakIscsi(o: SoakOptions): Promise<SoakReport> {
  const slotsPerTarget = Math.ceil(o.sessions / 2) * o.depth;
  const regionBytes = POSITIONS * o.ioBytes;
  const lunBytes = Math.max(16 * 1024 * 1024, Math.ceil((slotsPerTarget * regionBytes) / (1024 * 1024)) * 1024 * 1024);
  const yaml = `
devices:
  - { kind: nullblk, name: nullb0, size: ${lunBytes}, backing: memory }
  - kind: scsi
    array: soak
    lus: [ { name: sda, size: ${lunBytes}, backing: memory } ]
iscsi:
  targets:
    - iqn: ${IQN}:soak-nullblk
      luns: [ /dev/nullb0 ]
    - iqn: ${IQN}:soak-array
      luns: [ { lun: 0, dev: /dev/sda } ]
`;
  const sc = parseScenarioText(yaml, 'soak');
  const lab = buildLab(sc);
  const target = new IscsiTarget({ targets: exportTargets(lab, sc.iscsi!) });
  const port = (await target.listen({ host: '127.0.0.1', port: 0 })).port;
  const devs = ['/dev/nullb0', '/dev/sda'];
  const targets = [`${IQN}:soak-nullblk`, `${IQN}:soak-array`];
  const r = { writes: 0, reads: 0, bytesWritten: 0, bytesRead: 0, blocksVerified: 0, lostBlocks: 0, corruptedBlocks: 0, failedCommands: 0, firstError: null as string | null };
  const note = (e: string): void => {
    r.failedCommands++;
    r.firstError ??= e;
  };
  const sessions: PipelinedInitiator[] = [];
  /** Last pattern seed written at each (session, slot, position); -1 none. */
  const last = new Map<string, number>();
  const blocksPerIo = o.ioBytes / BLOCK;
  const lbaOf = (session: number, slot: number, pos: number): number => ((Math.floor(session / 2) * o.depth + slot) * POSITIONS + pos) * blocksPerIo;
  const t0 = Date.now();
  const deadline = t0 + o.seconds * 1000;
  try {
    for (let s = 0; s < o.sessions; s++) {
      const i = await PipelinedInitiator.open('127.0.0.1', port);
      sessions.push(i);
      await i.login(`${IQN}:soak-${s}`, targets[s % 2]!, 0x200000 + s);
    }
    let lastReport = t0;
    const slot = async (s: number, k: number): Promise<void> => {
      const ini = sessions[s]!;
      const want = new Uint8Array(o.ioBytes);
      for (let gen = 0; Date.now() < deadline && !ini.closed; gen++) {
        const pos = gen % POSITIONS;
        const lba = lbaOf(s, k, pos);
        const seed = seedOf(o.seed, s, k, gen);
        fillPattern(want, seed, lba * BLOCK);
        const w = await ini.command(0, b.rw16Cdb(true, lba, blocksPerIo), { dataOut: want }).catch((e: Error) => ({ status: -1, sense: new Uint8Array(0), dataIn: new Uint8Array(0), error: e.message }));
        if (w.status !== 0) return note(`WRITE LBA ${lba}: ${'error' in w ? w.error : `status 0x${w.status.toString(16)}`}`);
        r.writes++;
        r.bytesWritten += o.ioBytes;
        last.set(`${s}/${k}/${pos}`, seed);
        const rd = await ini.command(0, b.rw16Cdb(false, lba, blocksPerIo), { readLength: o.ioBytes }).catch((e: Error) => ({ status: -1, sense: new Uint8Array(0), dataIn: new Uint8Array(0), error: e.message }));
        if (rd.status !== 0) return note(`READ LBA ${lba}: ${'error' in rd ? rd.error : `status 0x${rd.status.toString(16)}`}`);
        r.reads++;
        r.bytesRead += o.ioBytes;
        r.corruptedBlocks += blockMismatches(rd.dataIn, want);
        r.blocksVerified += blocksPerIo;
        const now = Date.now();
        if (o.progress && now - lastReport >= 5000) {
          lastReport = now;
          const secs = (now - t0) / 1000;
          o.progress(`${secs.toFixed(0)} s: ${r.writes} writes, ${r.reads} reads, ${(r.bytesWritten / 2 ** 20 / secs).toFixed(1)} MiB/s written, ${r.corruptedBlocks} corrupted`);
        }
      }
    };
    await Promise.all(sessions.flatMap((_, s) => Array.from({ length: o.depth }, (__, k) => slot(s, k))));
    const elapsed = (Date.now() - t0) / 1000;
    await o.beforeFinalCheck?.(lab);
    // Every position again: over iSCSI (a fresh read) and from the device under the target.
    for (const [key, seed] of last) {
      const [s, k, pos] = key.split('/').map(Number) as [number, number, number];
      const lba = lbaOf(s, k, pos);
      const want = new Uint8Array(o.ioBytes);
      fillPattern(want, seed, lba * BLOCK);
      const ini = sessions[s]!;
      const rd = ini.closed ? null : await ini.command(0, b.rw16Cdb(false, lba, blocksPerIo), { readLength: o.ioBytes }).catch(() => null);
      if (!rd || rd.status !== 0) note(`final READ LBA ${lba} failed`);
      else r.lostBlocks += blockMismatches(rd.dataIn, want);
      const dev = await lab.read(devs[s % 2]!, lba * BLOCK, o.ioBytes);
      r.lostBlocks += blockMismatches(dev, want);
    }
    return { sessions: o.sessions, depth: o.depth, seconds: elapsed, ...r };
  } finally {
    for (const i of sessions) i.close();
    await target.close(200);
    await lab.close();
  }
}
