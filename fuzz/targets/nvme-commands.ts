/**
 * NVMe submission queue entries through the host driver's passthrough (the 64-byte command as
 * the controller fetches it, data through PRPs): I/O commands (Read, Write, Write Zeroes, Dataset
 * Management, Copy with source range descriptors of formats 0-3, Zone Management Send/Receive,
 * Zone Append, Flush, unknown opcodes) on a conventional and a zoned namespace, and
 * non-destructive admin commands (Identify, Get Log Page, Get Features, unknown opcodes), each
 * built valid then mutated. Invariants: the passthrough always completes with a status (never an
 * exception); a canary namespace that no command names never changes (Copy descriptors may name
 * it as a source: reading is allowed); a command that completes with an error leaves the
 * conventional namespace it addressed unchanged — except those whose partial effect NVMe defines
 * (Copy, Dataset Management, Zone Management).
 */
import { createHash } from 'node:crypto';
import { Lab } from '../../src/app/lab.js';
import { addNvmeController, type NvmeAttachment } from '../../devices/nvme/attach.js';
import { buildSqe, copyCdws, encodeRanges } from '../../devices/nvme/codec.js';
import { AdminOpc, IoOpc, NSID_BROADCAST } from '../../devices/nvme/spec.js';
import type { Prng } from '../../src/core/util/prng.js';
import { invariant, type FuzzTarget } from '../engine.js';
import { chance, mutate, patterned, pick, randomBytes } from '../mutate.js';

const NS_WORK = 1;
const NS_CANARY = 2;
const NS_ZONED = 3;
const SIZE = 256 * 1024;
/** Opcodes whose failure may leave a defined partial effect (NVM 3.2.2 Copy; DSM; ZNS zone actions). */
const PARTIAL_OK = new Set<number>([IoOpc.COPY, IoOpc.DSM, IoOpc.ZONE_MGMT_SEND]);

interface State {
  readonly lab: Lab;
  readonly n: NvmeAttachment;
  readonly canaryDigest: string;
}

async function digest(lab: Lab, dev: string): Promise<string> {
  const d = await lab.read(dev, 0, SIZE);
  return createHash('sha1').update(d).digest('hex');
}

function ioCommand(rng: Prng): { cmd: Uint8Array; data?: Uint8Array; dataLen?: number; nsid: number } {
  const nsid = chance(rng, 0.9) ? pick(rng, [NS_WORK, NS_ZONED]) : pick(rng, [0, 4, NSID_BROADCAST, rng.nextU32()]);
  const slba = chance(rng, 0.9) ? rng.below(600) : rng.nextU32();
  const nlb = rng.below(16);
  const lbs = nsid === NS_ZONED ? 4096 : 512;
  const cdw: Record<number, number> = { 10: slba, 11: 0, 12: nlb };
  switch (rng.below(9)) {
    case 0:
      return { cmd: buildSqe({ opcode: IoOpc.WRITE, nsid, cdw }), data: randomBytes(rng, (nlb + 1) * lbs), nsid };
    case 1:
      return { cmd: buildSqe({ opcode: IoOpc.READ, nsid, cdw }), dataLen: (nlb + 1) * lbs, nsid };
    case 2:
      return { cmd: buildSqe({ opcode: IoOpc.WRITE_ZEROES, nsid, cdw }), nsid };
    case 3: {
      const nr = 1 + rng.below(4);
      const ranges = new Uint8Array(16 * nr);
      const v = new DataView(ranges.buffer);
      for (let i = 0; i < nr; i++) {
        v.setUint32(i * 16 + 4, rng.below(64));
        v.setBigUint64(i * 16 + 8, BigInt(rng.below(600)));
      }
      return { cmd: buildSqe({ opcode: IoOpc.DSM, nsid, cdw: { 10: nr - 1, 11: 4 } }), data: ranges, nsid };
    }
    case 4:
    case 5: {
      const format = rng.below(4);
      const nr = 1 + rng.below(4);
      const ranges = Array.from({ length: nr }, () => ({ slba: rng.below(600), nlb: 1 + rng.below(16), snsid: chance(rng, 0.5) ? 0 : pick(rng, [NS_WORK, NS_CANARY, NS_ZONED, 9]) }));
      const cdws = copyCdws({ sdlba: rng.below(600), nr: chance(rng, 0.9) ? nr : rng.below(300), format });
      return { cmd: buildSqe({ opcode: IoOpc.COPY, nsid, cdw: cdws }), data: encodeRanges(format, ranges), nsid };
    }
    case 6:
      return { cmd: buildSqe({ opcode: IoOpc.ZONE_MGMT_SEND, nsid, cdw: { 10: rng.below(256) * 32, 11: 0, 13: rng.below(6) | (chance(rng, 0.1) ? 0x100 : 0) } }), nsid };
    case 7:
      return { cmd: buildSqe({ opcode: chance(rng, 0.5) ? IoOpc.ZONE_APPEND : IoOpc.ZONE_MGMT_RECV, nsid, cdw: { 10: rng.below(256) * 32, 11: 0, 12: chance(rng, 0.5) ? nlb : 1023, 13: rng.below(4) } }), data: randomBytes(rng, (nlb + 1) * 4096), nsid };
    default:
      return { cmd: buildSqe({ opcode: chance(rng, 0.3) ? IoOpc.FLUSH : rng.below(256), nsid, cdw: { 10: rng.nextU32(), 12: rng.nextU32() } }), ...(chance(rng, 0.3) ? { data: randomBytes(rng, 512) } : { dataLen: pick(rng, [0, 512, 4096]) }), nsid };
  }
}

export const nvmeCommands: FuzzTarget<State> = {
  name: 'nvme-sqe',
  what: 'NVMe SQEs (I/O and admin) and Copy source range descriptors (formats 0-3)',
  weight: 1.5,
  async setup() {
    const lab = new Lab();
    const n = addNvmeController(lab, {
      name: 'nvme0',
      namespaces: [
        { size: SIZE, lbs: 512, backing: 'memory' },
        { size: SIZE, lbs: 512, backing: 'memory' },
        { size: 1024 * 1024, lbs: 4096, backing: 'memory', zoned: true, zone_size: 128 * 1024 },
      ],
    });
    await lab.write('/dev/nvme0n2', 0, patterned(SIZE, 55));
    return { lab, n, canaryDigest: await digest(lab, '/dev/nvme0n2') };
  },
  async one(s, rng) {
    if (chance(rng, 0.15)) {
      // Admin: what reads state only (Identify, Get Log Page, Get Features) and unknown opcodes.
      const opcode = pick(rng, [AdminOpc.IDENTIFY, AdminOpc.GET_LOG_PAGE, AdminOpc.GET_FEATURES, 0xc1, 0x7f]);
      let cmd = buildSqe({ opcode, nsid: pick(rng, [0, 1, 2, NSID_BROADCAST]), cdw: { 10: rng.nextU32() & 0xffff00ff, 11: rng.below(4), 12: rng.below(8) } });
      if (chance(rng, 0.3)) cmd = mutate(rng, cmd, 64);
      cmd[0] = opcode; // keep it non-destructive
      const full = new Uint8Array(64);
      full.set(cmd.subarray(0, 64));
      const r = await s.n.host.passthru({ admin: true, cmd: full, dataLen: pick(rng, [0, 512, 4096]) });
      invariant(Number.isInteger(r.status), 'admin passthru without a status');
      return;
    }
    const c = ioCommand(rng);
    let cmd = c.cmd;
    if (chance(rng, 0.4)) {
      const m = mutate(rng, cmd, 64);
      cmd = new Uint8Array(64);
      cmd.set(m.subarray(0, 64));
    }
    const nsid = new DataView(cmd.buffer, cmd.byteOffset).getUint32(4, true);
    if (nsid === NS_CANARY || nsid === NSID_BROADCAST) new DataView(cmd.buffer, cmd.byteOffset).setUint32(4, NS_WORK, true); // no command names the canary
    const target = new DataView(cmd.buffer, cmd.byteOffset).getUint32(4, true);
    // The zoned namespace is not compared: zone actions (offline, reset) legitimately change what reads return.
    const dev = target === NS_WORK ? '/dev/nvme0n1' : null;
    const before = dev ? await digest(s.lab, dev) : null;
    const data = c.data && chance(rng, 0.3) ? mutate(rng, c.data, 64 * 1024) : c.data;
    const r = await s.n.host.passthru({ admin: false, cmd, ...(data ? { data } : {}), ...(c.dataLen ? { dataLen: c.dataLen } : {}) });
    invariant(Number.isInteger(r.status) && r.status >= 0, `I/O passthru status ${r.status}`);
    if (r.status !== 0 && dev && !PARTIAL_OK.has(cmd[0]!)) {
      invariant((await digest(s.lab, dev)) === before, `opcode 0x${cmd[0]!.toString(16)} failed with status 0x${r.status.toString(16)} but changed ${dev}`);
    }
  },
  async check(s) {
    invariant((await digest(s.lab, '/dev/nvme0n2')) === s.canaryDigest, 'the canary namespace changed');
  },
  async teardown(s) {
    await s.lab.close();
  },
};
